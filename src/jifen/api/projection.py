"""``GET /api/me/projection``: the signed-in resident's score projection (never a score).

- ``?on=DATE`` (default one year ahead): the projected total on that date from the facts
  known today, what changes and why, the engine's explanation of the projected facts, and the
  items where points can still be gained (``opportunities``);
- ``?reach=N`` or ``?scenario=ID`` (an open scenario's ``min_total``): when the projected
  total first reaches N within ten years, with accrual only.

Every answer carries ``"kind": "projection"`` and a disclaimer in English and Chinese.
Refusals are ``{"field", "code", "detail"}`` (:mod:`jifen.api.errors`).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from jifen.accounts import clock
from jifen.api.errors import problem, refusal, refusals
from jifen.api.views import ResidentSelfView
from jifen.web import projection as service


class MyProjectionView(ResidentSelfView):
    @extend_schema(
        summary="My score projection on a future date, or when I reach N points",
        description=(
            "A projection, not a score (`kind` is `projection`; `disclaimer` in en and zh). "
            "With `on`: residence and insurance months keep accruing, age moves through the "
            "bands, windowed facts leave their windows, and the policy version in force on "
            "`on` applies; `opportunities` lists where points can still be gained and what "
            "proof is needed. With `reach` (or `scenario`, whose minimum total is used): the "
            "first date the projected total reaches it within ten years (`reached_on`, null "
            "if not)."
        ),
        parameters=[
            OpenApiParameter(
                "on", OpenApiTypes.DATE, description="projected date (default: a year ahead)"
            ),
            OpenApiParameter("reach", OpenApiTypes.DECIMAL, description="points to reach"),
            OpenApiParameter(
                "scenario",
                OpenApiTypes.INT,
                description="an open scenario whose minimum total is the points to reach",
            ),
        ],
        responses={
            200: OpenApiTypes.OBJECT,
            **refusals(400),
            403: refusal("not signed in, or not a resident"),
            422: refusal("your facts cannot be scored (projection.unavailable)"),
        },
    )
    def get(self, request: Request) -> Response:
        resident = self.resident()
        params = request.query_params
        today = clock.china_today()
        for key in params:
            if key not in ("on", "reach", "scenario"):
                return problem(
                    str(key)[:60], "projection.unknown_parameter", _("Unknown parameter.")
                )
        wants_reach = bool(params.get("reach", "").strip() or params.get("scenario", "").strip())
        try:
            if wants_reach:
                if params.get("on", "").strip():
                    return problem(
                        "on",
                        "projection.conflicting_parameters",
                        _("Give either on, or reach or scenario."),
                    )
                if params.get("reach", "").strip() and params.get("scenario", "").strip():
                    return problem(
                        "reach",
                        "projection.conflicting_parameters",
                        _("Give either reach or scenario."),
                    )
                target = service.parse_target(params.get("reach"))
                scenario = None
                if target is None:
                    scenario = service.parse_scenario(
                        params.get("scenario"), service.open_scenarios(clock.now())
                    )
                    assert scenario is not None
                    target = scenario.min_total
                answer = service.resident_reach(request.user, resident, target=target, today=today)
                data = answer.as_dict()
                if scenario is not None:
                    data["scenario"] = {
                        "id": scenario.id,
                        "name": scenario.name,
                        "min_total": str(scenario.min_total),
                        "evaluation_date": scenario.evaluation_date.isoformat(),
                        "in_time": answer.date is not None
                        and answer.date <= scenario.evaluation_date,
                    }
                return Response(data)
            on = service.parse_on(params.get("on"), today)
            projection, found = service.resident_projection(
                request.user, resident, on=on, today=today
            )
        except service.ProjectionInputError as exc:
            return problem(exc.field, "projection.invalid", exc.message)
        except service.ProjectionUnavailable as exc:  # the engine's reason, in English
            return problem("profile", "projection.unavailable", exc, 422)
        data = projection.as_dict()
        data["opportunities"] = [o.as_dict() for o in found]
        return Response(data)
