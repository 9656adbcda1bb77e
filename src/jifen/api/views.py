"""API views: thin adapters over the access rules, the stored scores and the engine. Refusals
are ``{"field", "code", "detail"}`` (:mod:`jifen.api.errors`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jifen.accounts import access, auditing, clock
from jifen.accounts.models import Role
from jifen.api.errors import first_error, problem, refusal, refusals
from jifen.api.parsers import DecimalJSONParser
from jifen.api.permissions import RoleAllowed
from jifen.api.serializers import (
    CalculatorRequestSerializer,
    FactSerializer,
    PermitSerializer,
    ResidentSerializer,
    ResidentSummarySerializer,
    ScoreSerializer,
)
from jifen.engine import NoPolicyInForce, ProfileError, evaluate
from jifen.residents.models import PermitStatusChange
from jifen.web.explain import policy_set
from jifen.web.portal import current_score
from jifen.web.workbench import SEARCH_LIMIT, search_residents

SCORE_HISTORY_LIMIT = 100


class ResidentSelfView(GenericAPIView):
    """Base of the resident's own endpoints (``/api/me/...``)."""

    permission_classes = [RoleAllowed]
    allowed_roles = frozenset({Role.RESIDENT})

    def resident(self):
        return access.resident_or_404(self.request, self.request.user.resident_id)


class MyScoreView(ResidentSelfView):
    serializer_class = ScoreSerializer

    @extend_schema(
        summary="My current score with its explanation",
        responses={
            200: ScoreSerializer,
            **refusals(403),
            404: refusal("not scored yet (scores.not_scored)"),
        },
    )
    def get(self, request: Request) -> Response:
        score = current_score(request, self.resident())
        if score is None:
            return problem(None, "scores.not_scored", _("Not scored yet."), 404)
        return Response(self.get_serializer(score).data)


class MyFactsView(ResidentSelfView):
    serializer_class = FactSerializer
    pagination_class = None

    @extend_schema(
        summary="The facts about me (current and superseded), with their source",
        responses={200: FactSerializer(many=True), **refusals(403)},
    )
    def get(self, request: Request) -> Response:
        facts = access.facts_for(request.user, self.resident()).order_by("code", "recorded_at")
        return Response(self.get_serializer(facts, many=True).data)


class StaffView(GenericAPIView):
    permission_classes = [RoleAllowed]
    allowed_roles = access.WORKBENCH_ROLES
    pagination_class = None


SEARCH_PARAMETERS = [
    OpenApiParameter("identity_number", str, description="exact identity number"),
    OpenApiParameter("permit_number", str, description="exact residence permit number"),
    OpenApiParameter("name", str, description="part of the name (at least 2 characters)"),
]


class ResidentSearchView(StaffView):
    serializer_class = ResidentSummarySerializer

    @extend_schema(
        summary="Find residents within your responsibility (results masked)",
        parameters=SEARCH_PARAMETERS,
        responses={200: ResidentSummarySerializer(many=True), **refusals(400, 403)},
    )
    def get(self, request: Request) -> Response:
        given = [
            (k, request.query_params[k].strip())
            for k in ("identity_number", "permit_number", "name")
            if request.query_params.get(k, "").strip()
        ]
        if len(given) != 1:
            return problem(
                "identity_number",
                "residents.one_criterion",
                _("Give exactly one of identity_number, permit_number and name."),
            )
        kind, term = given[0]
        results = list(search_residents(request.user, kind, term[:100])[:SEARCH_LIMIT])
        auditing.resident_search(request, by=kind, resident_ids=[str(r.pk) for r in results])
        return Response(self.get_serializer(results, many=True).data)


class ResidentPartView(StaffView):
    """One resident (in scope, else 404) and one part of their data; every read is audited."""

    part = "detail"

    def resident(self, pk):
        resident = access.resident_or_404(self.request, pk)
        auditing.resident_event("resident.viewed", self.request, resident, data={"view": self.part})
        return resident


class ResidentDetailView(ResidentPartView):
    serializer_class = ResidentSerializer

    @extend_schema(
        summary="A resident (identity number masked)",
        responses={200: ResidentSerializer, **refusals(403, 404)},
    )
    def get(self, request: Request, pk) -> Response:
        return Response(self.get_serializer(self.resident(pk)).data)


class ResidentFactsView(ResidentPartView):
    serializer_class = FactSerializer
    part = "facts"

    @extend_schema(
        summary="A resident's facts that you may see (current and superseded)",
        responses={200: FactSerializer(many=True), **refusals(403, 404)},
    )
    def get(self, request: Request, pk) -> Response:
        facts = access.facts_for(request.user, self.resident(pk)).order_by("code", "recorded_at")
        return Response(self.get_serializer(facts, many=True).data)


class ResidentScoresView(ResidentPartView):
    serializer_class = ScoreSerializer
    part = "scores"

    @extend_schema(
        summary="A resident's score history, newest first",
        responses={200: ScoreSerializer(many=True), **refusals(403, 404)},
    )
    def get(self, request: Request, pk) -> Response:
        resident = self.resident(pk)
        scores = access.scores_for(request.user, resident).order_by("-computed_at", "-id")
        return Response(self.get_serializer(scores[:SCORE_HISTORY_LIMIT], many=True).data)


class ResidentPermitsView(ResidentPartView):
    serializer_class = PermitSerializer
    part = "permits"

    @extend_schema(
        summary="A resident's residence permits with their status history",
        responses={200: PermitSerializer(many=True), **refusals(403, 404)},
    )
    def get(self, request: Request, pk) -> Response:
        from django.db.models import Prefetch

        history = Prefetch("history", queryset=PermitStatusChange.objects.order_by("effective_on"))
        permits = (
            access.permits_for(request.user, self.resident(pk))
            .order_by("-issued_on")
            .prefetch_related(history)
        )
        return Response(self.get_serializer(permits, many=True).data)


class CalculatorView(GenericAPIView):
    """The calculator: a profile and dates in, the engine's explained result out."""

    permission_classes = [IsAuthenticated]
    parser_classes = [DecimalJSONParser]
    serializer_class = CalculatorRequestSerializer
    KEYS = frozenset({"profile", "on", "review_date"})

    @extend_schema(
        summary="Score a profile (format version 1) on a date, with the explanation",
        request=CalculatorRequestSerializer,
        responses={200: OpenApiTypes.OBJECT, **refusals(400, 403)},
    )
    def post(self, request: Request) -> Response:
        data: Any = request.data
        if not isinstance(data, dict):
            return problem(
                "body",
                "calculator.not_an_object",
                _("The body must be a JSON object with profile, on and review_date."),
            )
        for key in data:
            if key not in self.KEYS:
                return problem(str(key)[:60], "calculator.unknown_key", _("Unknown key."))
        if not isinstance(data.get("profile"), dict):
            return problem(
                "profile",
                "calculator.profile_missing",
                _("A score profile is required: a JSON object (format version 1)."),
            )
        serializer = self.get_serializer(data=data)
        if not serializer.is_valid():
            return problem(*first_error(serializer.errors))
        on = serializer.validated_data.get("on") or clock.china_today()
        review = serializer.validated_data.get("review_date") or on
        try:
            result = evaluate(data["profile"], on, review, policy_set())
        except ProfileError as exc:  # the engine's reason, in English
            return problem(f"profile.{exc.field}", "calculator.invalid_profile", exc.reason)
        except NoPolicyInForce as exc:
            return problem("on", "calculator.no_policy", exc)
        return Response(result.as_dict())


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """A path under ``/api/`` that names no endpoint (an unknown path, an id of the wrong
    form): 404 in the API's problem shape rather than the site's page."""
    body = {"field": None, "code": "not_found", "detail": str(NotFound.default_detail)}
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
