"""The projection panel of "my points" (我的积分): a projection, never a score.

- ``/me/projection/`` — the panel on its own page: pick a date (default one year ahead), see
  the projected total labelled 预测 with what changes and why, the items where points can still
  be gained (how many, what proof, which department), and "when will I reach N points?" for a
  number or for an open scenario's minimum (``min_total``);
- ``{% include "web/_projection.html" %}`` on the portal page renders the same panel with the
  defaults (its ``{% projection_panel %}`` tag computes it when the view did not).

The profile is built from the resident's current facts exactly as the stored score's is
(:func:`jifen.facts.profile.build_profile`), and projected by :mod:`jifen.engine.projection`.
:func:`resident_projection` and :func:`resident_reach` are shared with the API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.engine import NoPolicyInForce, ProfileError
from jifen.engine.dates import shift_months
from jifen.engine.profile import is_iso_date
from jifen.engine.projection import (
    DISCLAIMER,
    LABEL,
    MAX_HORIZON_YEARS,
    Opportunity,
    Projection,
    ProjectionError,
    Reach,
    opportunities,
    project,
    reach,
)
from jifen.engine.result import money
from jifen.facts.profile import build_profile
from jifen.residents.models import Resident
from jifen.scores.policies import current_policies

RESIDENT_ONLY = frozenset({Role.RESIDENT})
#: How far ahead "when will I reach N?" looks (years).
REACH_HORIZON_YEARS = 10


class ProjectionInputError(ValueError):
    """A query parameter is refused: ``field`` names it (``on``, ``reach``, ``scenario``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- inputs ------------------------------------------------------------------------------------


def default_date(today: dt.date) -> dt.date:
    """One year ahead."""
    return shift_months(today, 12)


def parse_on(value: str | None, today: dt.date) -> dt.date:
    if value is None or not value.strip():
        return default_date(today)
    value = value.strip()
    try:
        if not is_iso_date(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ProjectionInputError(
            "on",
            _("Enter a date written YYYY-MM-DD, for example %(day)s.")
            % {"day": default_date(today).isoformat()},
        ) from None
    if day < today:
        raise ProjectionInputError(
            "on",
            _("A projection looks ahead: choose today (%(day)s) or a later date.")
            % {"day": today.isoformat()},
        )
    if day > shift_months(today, 12 * MAX_HORIZON_YEARS):
        raise ProjectionInputError(
            "on", _("Choose a date at most %(years)s years ahead.") % {"years": MAX_HORIZON_YEARS}
        )
    return day


def parse_target(value: str | None) -> Decimal | None:
    if value is None or not value.strip():
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or number < 0 or number > 1000:
        raise ProjectionInputError("reach", _("Enter a number of points between 0 and 1000."))
    return number


@dataclass
class ScenarioTarget:
    """An open (or soon open) scenario with a minimum total."""

    id: int
    name: str
    min_total: Decimal
    open_from: dt.datetime
    open_until: dt.datetime
    evaluation_date: dt.date


def open_scenarios(now: dt.datetime) -> list[ScenarioTarget]:
    """Published scenario versions not yet closed whose eligibility sets ``min_total``."""
    try:
        from jifen.scenarios.models import ScenarioVersion, VersionStatus
    except ImportError:  # pragma: no cover - the scenarios app is optional here
        return []
    versions = (
        ScenarioVersion.objects.filter(status=VersionStatus.PUBLISHED, open_until__gt=now)
        .select_related("scenario")
        .order_by("open_from", "scenario__code")
    )
    out = []
    for version in versions:
        minimum = (version.content.get("eligibility") or {}).get("min_total")
        if minimum is None:
            continue
        out.append(
            ScenarioTarget(
                id=version.scenario_id,
                name=version.scenario.name,
                min_total=Decimal(str(minimum)),
                open_from=version.open_from,
                open_until=version.open_until,
                evaluation_date=version.evaluation_date,
            )
        )
    return out


def parse_scenario(value: str | None, scenarios: list[ScenarioTarget]) -> ScenarioTarget | None:
    if value is None or not value.strip():
        return None
    for scenario in scenarios:
        if str(scenario.id) == value.strip():
            return scenario
    raise ProjectionInputError(
        "scenario", _("Choose one of the open scenarios that set a minimum of points.")
    )


# --- computing -----------------------------------------------------------------------------


def resident_profile(user: Any, resident: Resident) -> dict[str, Any]:
    """The score profile of the resident's current facts (as the stored score's)."""
    facts = access.facts_for(user, resident).current()
    profile, _ids = build_profile(resident, facts)
    return profile


class ProjectionUnavailable(Exception):
    """The facts cannot be scored (an invalid fact, no policy in force): nothing to project."""


def resident_projection(
    user: Any, resident: Resident, *, on: dt.date, today: dt.date
) -> tuple[Projection, tuple[Opportunity, ...]]:
    profile = resident_profile(user, resident)
    policies = current_policies()
    try:
        projection = project(profile, today, on, policies)
        found = opportunities(projection.profile, on, policies)
    except (ProfileError, NoPolicyInForce, ProjectionError) as exc:
        raise ProjectionUnavailable(str(exc)) from exc
    return projection, found


def resident_reach(user: Any, resident: Resident, *, target: Decimal, today: dt.date) -> Reach:
    profile = resident_profile(user, resident)
    try:
        return reach(profile, today, target, current_policies(), REACH_HORIZON_YEARS)
    except (ProfileError, NoPolicyInForce, ProjectionError) as exc:
        raise ProjectionUnavailable(str(exc)) from exc


# --- presentation -----------------------------------------------------------------------------


def _zh() -> bool:
    return (translation.get_language() or "zh-hans").startswith("zh")


def _t(text: Any) -> str:
    return text.zh if _zh() else text.en


def _signed(value: Decimal) -> str:
    return f"+{money(value)}" if value > 0 else money(value)


@dataclass
class Panel:
    """Everything ``web/_projection.html`` shows."""

    action: str
    label: str
    disclaimer: str
    on: str
    today: str
    errors: dict[str, str] = field(default_factory=dict)
    unavailable: str = ""
    projection: dict[str, Any] | None = None
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    scenarios: list[ScenarioTarget] = field(default_factory=list)
    reach_value: str = ""
    scenario_value: str = ""
    reach: dict[str, Any] | None = None


def _projection_view(projection: Projection) -> dict[str, Any]:
    return {
        "total": money(projection.total),
        "current": money(projection.current_total),
        "difference": _signed(projection.difference),
        "on": projection.on.isoformat(),
        "from": projection.from_date.isoformat(),
        "reference_values": projection.selection.reference_values,
        "policy": f"{projection.selection.provincial.id} · {projection.selection.city.id}",
        "items": [
            {
                "section": i.section,
                "code": i.item,
                "name": _t(i.name),
                "current": money(i.current),
                "projected": money(i.projected),
                "difference": _signed(i.difference),
            }
            for i in projection.items
            if i.difference
        ],
        "changes": [{"date": c.date.isoformat(), "text": _t(c.text)} for c in projection.changes],
        "assumptions": [_t(a) for a in projection.assumptions],
    }


def _opportunity_view(o: Opportunity) -> dict[str, Any]:
    return {
        "rule": o.rule,
        "kind": o.kind,
        "item": _t(o.item_name),
        "name": _t(o.rule_name),
        "gain": money(o.gain),
        "points": _t(o.points),
        "proof": _t(o.proof),
    }


def _reach_view(answer: Reach, scenario: ScenarioTarget | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "target": money(answer.target),
        "date": answer.date.isoformat() if answer.date else "",
        "already": answer.already,
        "until": answer.until.isoformat(),
        "current": money(answer.current_total),
        "scenario": scenario.name if scenario else "",
        "in_time": None,
    }
    if scenario is not None and answer.date is not None:
        view["in_time"] = answer.date <= scenario.evaluation_date
        view["evaluation_date"] = scenario.evaluation_date.isoformat()
    return view


def build_panel(request: HttpRequest, resident: Resident, params: QueryDict | None) -> Panel:
    """The panel for ``resident`` from the query ``params`` (None: the defaults)."""
    today = clock.china_today()
    params = params if params is not None else QueryDict()
    scenarios = open_scenarios(clock.now())
    panel = Panel(
        action=reverse("web:projection"),
        label=_t(LABEL),
        disclaimer=_t(DISCLAIMER),
        on=default_date(today).isoformat(),
        today=today.isoformat(),
        scenarios=scenarios,
        reach_value=params.get("reach", "")[:20],
        scenario_value=params.get("scenario", "")[:20],
    )
    try:
        on = parse_on(params.get("on"), today)
        panel.on = on.isoformat()
    except ProjectionInputError as exc:
        panel.errors[exc.field] = exc.message
        panel.on = (params.get("on") or "")[:20]
        on = default_date(today)
    target: Decimal | None = None
    scenario: ScenarioTarget | None = None
    try:
        target = parse_target(params.get("reach"))
        scenario = parse_scenario(params.get("scenario"), scenarios)
        if target is None and scenario is not None:
            target = scenario.min_total
    except ProjectionInputError as exc:
        panel.errors[exc.field] = exc.message
    try:
        if "on" not in panel.errors:
            projection, found = resident_projection(request.user, resident, on=on, today=today)
            panel.projection = _projection_view(projection)
            panel.opportunities = [_opportunity_view(o) for o in found]
        if target is not None:
            answer = resident_reach(request.user, resident, target=target, today=today)
            panel.reach = _reach_view(answer, scenario)
    except ProjectionUnavailable:
        panel.unavailable = _(
            "Your facts cannot be projected at the moment. Your points page shows why."
        )
    return panel


def panel_for_request(request: HttpRequest) -> Panel | None:
    """The default panel of the signed-in resident (for the portal include), else None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or access.role_of(user) != Role.RESIDENT:
        return None
    resident = access.residents_for(user).filter(pk=user.resident_id).first()
    if resident is None:
        return None
    return build_panel(request, resident, None)


@login_required
def my_projection(request: HttpRequest) -> HttpResponse:
    access.require_role(request, RESIDENT_ONLY)
    resident = access.resident_or_404(request, request.user.resident_id)
    panel = build_panel(request, resident, request.GET)
    status = 400 if panel.errors else 200
    return render(
        request,
        "web/projection.html",
        {"resident": resident, "projection_panel": panel},
        status=status,
    )
