"""Starting and running impact simulations (center only, audited ``simulation.run``).

:func:`start_simulation` checks who asks and that the draft is valid, stores a queued
:class:`Simulation` and enqueues its ``simulations.run`` job in the same transaction, audited.
:func:`run_simulation` (the job's handler) loads the current population (one streamed pass,
:mod:`jifen.simulations.population`), the chosen scenario's live enrollments, and stores the
figures of :func:`jifen.simulations.simulation.simulate`: before = the versions in force on the
date, after = the same with the draft in place of the version of its tier.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import Role, User
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.engine import PolicySelection
from jifen.jobs.queue import enqueue
from jifen.policies.errors import InvalidPolicy
from jifen.policies.models import PolicyVersion
from jifen.policies.services import draft_policy_set
from jifen.scenarios.models import (
    Enrollment,
    EnrollmentStatus,
    ScenarioVersion,
    VersionStatus,
)
from jifen.scores.services import china_date, select_policies
from jifen.simulations.errors import InvalidDraft, NotAllowed, SimulationError
from jifen.simulations.models import Simulation, SimulationStatus
from jifen.simulations.population import LoadedPopulation, load_population
from jifen.simulations.simulation import ScenarioEntry, ScenarioSpec, simulate

JOB_KIND = "simulations.run"


def require_center(user: User | None) -> None:
    if not (user is not None and user.is_authenticated and user.is_active):
        raise NotAllowed(_("Only the center runs impact simulations."))
    if user.role != Role.CENTER:
        raise NotAllowed(_("Only the center runs impact simulations."))


def selections(draft: PolicyVersion, on: dt.date) -> tuple[PolicySelection, PolicySelection]:
    """(before, after) on ``on``: the versions in force, and the same with the draft pinned."""
    before = select_policies(on)
    try:
        after = draft_policy_set(draft).select(on, pinned=[draft.policy_id])
    except InvalidPolicy as exc:
        raise InvalidDraft(exc.message, field=exc.field or "draft") from exc
    return before, after


def start_simulation(
    *,
    user: User,
    draft: PolicyVersion,
    now: dt.datetime,
    scenario_version: ScenarioVersion | None = None,
) -> Simulation:
    """Queue a simulation of ``draft`` (optionally with a scenario's enrollments)."""
    require_center(user)
    on = china_date(now)
    selections(draft, on)  # an invalid draft is refused now, naming the field
    if scenario_version is not None and scenario_version.status != VersionStatus.PUBLISHED:
        raise SimulationError(
            _("Only a published scenario version has enrollments to simulate."),
            field="scenario",
            code="simulations.scenario_not_published",
        )
    with transaction.atomic():
        simulation = Simulation.objects.create(
            created_at=now,
            created_by=user,
            draft=draft,
            draft_policy=draft.policy_id,
            draft_hash=draft.content_hash,
            scenario_version=scenario_version,
            on=on,
        )
        simulation.job = enqueue(JOB_KIND, {"simulation": simulation.pk}, now=now)
        simulation.save(update_fields=["job"])
        record(
            "simulation.run",
            actor=Actor.for_user(user),
            occurred_at=now,
            obj=simulation,
            data={
                "draft": draft.pk,
                "policy_id": draft.policy_id,
                "content_hash": draft.content_hash,
                "scenario": scenario_version.scenario.code if scenario_version else None,
                "scenario_version": scenario_version.number if scenario_version else None,
                "on": on.isoformat(),
                "job": simulation.job.pk,
            },
        )
    return simulation


# --- a scenario as plain data --------------------------------------------------------------


class _Evaluated:
    """What ``eligibility_reasons`` reads of a score: the standing only."""

    def __init__(self, status: str, lapse_reason: str) -> None:
        self.status, self.lapse_reason = status, lapse_reason


def scenario_spec(version: ScenarioVersion) -> ScenarioSpec:
    """The live enrollments of ``version`` with their residents' current facts.

    Eligibility besides ``min_total`` (permit valid on the evaluation date, residence months,
    the child's birth date) does not depend on the policy: it is checked once here with the
    scenario's own function; ``min_total`` is checked by the simulation on each side.
    """
    from django.db.models import Min

    from jifen.rankings.services.ranking import timestamp_text
    from jifen.residents.models import ResidencePermit
    from jifen.scenarios.services.evaluation import eligibility_reasons
    from jifen.scores.standing import standings

    enrollments = list(
        Enrollment.objects.filter(version=version)
        .exclude(status=EnrollmentStatus.WITHDRAWN)
        .select_related("resident__town")
        .order_by("number")
    )
    loaded = load_population(
        # S608: the table name comes from the model's _meta; the values are parameters.
        ids_sql=f"SELECT resident_id FROM {Enrollment._meta.db_table} "  # noqa: S608
        f"WHERE version_id = %s AND status <> %s",
        params=[version.pk, EnrollmentStatus.WITHDRAWN.value],
    )
    rows = loaded.row_of()
    resident_ids = [e.resident_id for e in enrollments]
    standing = standings(resident_ids, version.evaluation_date)
    first_permits = dict(
        ResidencePermit.objects.filter(resident_id__in=resident_ids)
        .values("resident_id")
        .annotate(first=Min("issued_on"))
        .values_list("resident_id", "first")
    )
    never_below = Decimal("1000000")
    entries = []
    for enrollment in enrollments:
        st = standing[enrollment.resident_id]
        reasons = eligibility_reasons(
            enrollment,
            version,
            _Evaluated(st.status, st.reason),
            never_below,
            first_permits.get(enrollment.resident_id),
        )
        entries.append(
            ScenarioEntry(
                number=enrollment.number,
                enrollment=str(enrollment.pk),
                row=rows[enrollment.resident_id],
                applied_at=timestamp_text(enrollment.applied_at),
                preferences=tuple(enrollment.preferences or ()),
                town=enrollment.resident.town.code if enrollment.resident.town_id else None,
                other_reasons=tuple(r["code"] for r in reasons),
                blocked=enrollment.status == EnrollmentStatus.BLOCKED,
            )
        )
    content = version.content
    return ScenarioSpec(
        code=version.scenario.code,
        name=version.scenario.name,
        version=version.number,
        version_hash=version.content_hash,
        evaluation_date=version.evaluation_date,
        review_date=version.review_date,
        basis=version.score_basis,
        tie_breaks=list(content.get("tie_breaks") or ["applied_at"]),
        quotas=list(content.get("quotas") or []),
        preferences=content.get("preferences"),
        min_total=version.eligibility.get("min_total"),
        entries=entries,
        population=loaded.population,
        refused=loaded.refused,
        refused_reasons=loaded.reasons,
    )


# --- running -------------------------------------------------------------------------------


def compute_figures(
    draft: PolicyVersion,
    *,
    on: dt.date,
    scenario_version: ScenarioVersion | None = None,
    loaded: LoadedPopulation | None = None,
) -> dict[str, Any]:
    """The figures of ``draft`` over the current population on ``on`` (nothing stored)."""
    before, after = selections(draft, on)
    loaded = loaded or load_population()
    spec = scenario_spec(scenario_version) if scenario_version is not None else None
    figures = simulate(
        before,
        after,
        loaded.population,
        on=on,
        towns=loaded.towns,
        town_codes=loaded.town_codes,
        town_names=loaded.town_names,
        scenario=spec,
        refused=loaded.refused,
        refused_reasons=loaded.reasons,
    )
    figures["draft"] = {"id": draft.pk, "policy_id": draft.policy_id, "tier": draft.tier}
    return figures


def run_simulation(simulation: Simulation, *, now: dt.datetime) -> Simulation:
    """Compute and store the figures of ``simulation`` (status done, or failed with why)."""
    started = time.perf_counter()
    Simulation.objects.filter(pk=simulation.pk).update(
        status=SimulationStatus.RUNNING, started_at=now
    )
    try:
        figures = compute_figures(
            simulation.draft, on=simulation.on, scenario_version=simulation.scenario_version
        )
    except SimulationError as exc:
        simulation.status = SimulationStatus.FAILED
        simulation.error = f"{exc.field}: {exc.message}" if exc.field else str(exc.message)
        figures = {}
    else:
        simulation.status = SimulationStatus.DONE
        simulation.error = ""
    simulation.figures = figures
    simulation.residents = figures.get("residents")
    simulation.started_at = now
    simulation.finished_at = now
    simulation.seconds = round(time.perf_counter() - started, 3)
    simulation.save()
    return simulation
