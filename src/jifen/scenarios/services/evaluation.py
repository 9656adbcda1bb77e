"""Evaluating enrollments: the score on the scenario's evaluation date, the points that count,
their breakdown, the tie-break values, eligibility and blockers.

Scores for a scenario are evaluated on its evaluation date (the opening date: bonus windows
count from it) with deductions counted back from its review date (measures 二), through
``jifen.scores.services.recompute_batch(..., current=False)``: stored as further evaluations
beside the residents' current scores, which are not touched. Each enrollment keeps the exact
``Score`` used, so the ranking can be explained and re-run.

Eligibility reasons (``eligibility_reasons``; an enrollment with any is ``ineligible``):

========================================  ===================================================
``scenarios.ineligible.min_total``        the counted points are below ``min_total``
``scenarios.ineligible.permit_not_valid`` the permit was not valid on the evaluation date
``scenarios.ineligible.residence_months`` fewer full months since the first residence permit
                                          (on the evaluation date) than required
``scenarios.ineligible.child_birth_date`` the child's birth date is missing or out of range
========================================  ===================================================
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.audit.actors import Actor
from jifen.engine.dates import full_months
from jifen.scenarios.content import china_iso, item_points
from jifen.scenarios.errors import NoPolicy
from jifen.scenarios.models import (
    Enrollment,
    EnrollmentStatus,
    Scenario,
    ScenarioVersion,
)
from jifen.scenarios.services._common import audit, require_evaluator
from jifen.scenarios.services.blockers import apply_blockers, blockers_for

EVALUATION_ACTOR = "job:scenarios.evaluate"
#: Enrollments evaluated per transaction.
CHUNK = 2000
_ZERO = Decimal("0.00")
_UPDATED = (
    "status",
    "block_reasons",
    "blockers_checked_at",
    "score",
    "points",
    "breakdown",
    "tie_values",
    "eligibility_reasons",
    "evaluated_at",
    "updated_at",
)


@dataclass
class EvaluationOutcome:
    """Counts of one :func:`evaluate_enrollments` run."""

    evaluated: int = 0
    eligible: int = 0
    ineligible: int = 0
    blocked: int = 0
    not_scored: int = 0
    versions: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "evaluated": self.evaluated,
            "eligible": self.eligible,
            "ineligible": self.ineligible,
            "blocked": self.blocked,
            "not_scored": self.not_scored,
        }


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def counted_points(result: dict[str, Any], basis: dict[str, Any]) -> tuple[Decimal, dict[str, str]]:
    """The points that count under ``basis`` and their breakdown (item → points, and
    ``deductions`` as a negative number) from a stored score result."""
    deductions = Decimal(str(result["deductions"]["total"]))
    breakdown: dict[str, str] = {}
    if basis.get("kind", "total") == "total":
        for section in ("provincial", "city"):
            for item, points in result[section]["items"].items():
                breakdown[f"{section}.{item}"] = _money(Decimal(str(points)))
        breakdown["deductions"] = _money(-deductions) if deductions else _money(_ZERO)
        return Decimal(str(result["total"])), breakdown
    total = _ZERO
    for ref in basis["items"]:
        points = item_points(result, ref)
        breakdown[ref] = _money(points)
        total += points
    if basis.get("deductions", True):
        breakdown["deductions"] = _money(-deductions) if deductions else _money(_ZERO)
        total -= deductions
    return max(total, _ZERO).quantize(Decimal("0.01")), breakdown


def tie_values(score: Any, enrollment: Enrollment, tie_breaks: list[str]) -> dict[str, str]:
    """The value of each tie-break for ``enrollment`` (strings, comparable as ranked)."""
    values: dict[str, str] = {}
    for tie in tie_breaks:
        if tie == "applied_at":
            values[tie] = china_iso(enrollment.applied_at)
        elif tie == "provincial_total":
            values[tie] = _money(score.provincial_total)
        elif tie == "city_bonus_total":
            values[tie] = _money(score.city_bonus_total)
        elif tie == "deductions_total":
            values[tie] = _money(score.deductions_total)
        elif tie.startswith("item:"):
            values[tie] = _money(item_points(score.result, tie[len("item:") :]))
    return values


def _reason(code: str, message: Any) -> dict[str, str]:
    return {"code": code, "message": str(message)}


def eligibility_reasons(
    enrollment: Enrollment,
    version: ScenarioVersion,
    score: Any,
    points: Decimal,
    first_permit: dt.date | None,
) -> list[dict[str, str]]:
    """The conditions of ``version`` that ``enrollment`` does not meet (see the module)."""
    rules = version.eligibility
    on = version.evaluation_date
    reasons: list[dict[str, str]] = []
    if rules.get("min_total") is not None and points < Decimal(rules["min_total"]):
        reasons.append(
            _reason(
                "scenarios.ineligible.min_total",
                _("The points that count (%(points)s) are below the minimum of %(min)s.")
                % {"points": _money(points), "min": rules["min_total"]},
            )
        )
    if rules.get("permit_valid", True) and score.status != "valid":
        reasons.append(
            _reason(
                "scenarios.ineligible.permit_not_valid",
                _("The residence permit was not valid on the evaluation date %(date)s (%(why)s).")
                % {
                    "date": on.isoformat(),
                    "why": gettext(score.lapse_reason) if score.lapse_reason else score.status,
                },
            )
        )
    months_needed = rules.get("min_residence_months")
    if months_needed:
        months = full_months(first_permit, on) if first_permit else 0
        if months < months_needed:
            reasons.append(
                _reason(
                    "scenarios.ineligible.residence_months",
                    _(
                        "%(months)s full months of residence in Tongxiang on %(date)s (since "
                        "the first residence permit); %(needed)s are required."
                    )
                    % {"months": months, "date": on.isoformat(), "needed": months_needed},
                )
            )
    born_from, born_to = rules.get("child_birth_from"), rules.get("child_birth_to")
    if born_from:
        birth = (enrollment.details or {}).get("child_birth_date")
        if not birth or not born_from <= birth <= born_to:
            reasons.append(
                _reason(
                    "scenarios.ineligible.child_birth_date",
                    _("Only children born from %(start)s to %(end)s may apply.")
                    % {"start": born_from, "end": born_to},
                )
            )
    return reasons


def _versions(target: Scenario | ScenarioVersion) -> tuple[Scenario, list[ScenarioVersion]]:
    if isinstance(target, ScenarioVersion):
        return target.scenario, [target]
    versions = list(
        ScenarioVersion.objects.filter(
            scenario=target,
            pk__in=Enrollment.objects.filter(scenario=target).values("version_id"),
        ).order_by("number")
    )
    return target, versions


def evaluate_enrollments(
    target: Scenario | ScenarioVersion,
    *,
    now: dt.datetime,
    user: User | None = None,
    actor: Actor | None = None,
    enrollments: Iterable[Enrollment | uuid.UUID | str] | None = None,
) -> EvaluationOutcome:
    """Evaluate the live enrollments of ``target`` (a version, or every version of a scenario
    that has enrollments), or only ``enrollments``, each under its own version.

    Per chunk of :data:`CHUNK`, in one transaction: blockers are checked, the scores stored
    with ``recompute_batch(ids, on=evaluation_date, review_date=review_date, current=False)``,
    and each enrollment gets its score, points, breakdown, tie-break values, eligibility
    reasons and status (``blocked`` / ``eligible`` / ``ineligible``). One
    ``enrollment.evaluated`` audit entry per chunk (on the version, with the counts); a new
    block is audited and told to the resident per enrollment. ``user`` (the center or a
    reviewer of the providing department) or ``actor`` (a system actor) is who acts.
    """
    scenario, versions = _versions(target)
    if user is not None:
        require_evaluator(user, scenario)
        actor = Actor.for_user(user)
    actor = actor or Actor.system(EVALUATION_ACTOR)
    only: set[str] | None = None
    if enrollments is not None:
        only = {str(e.pk if isinstance(e, Enrollment) else e) for e in enrollments}
    outcome = EvaluationOutcome()
    for version in versions:
        version.scenario = scenario
        ids = list(
            Enrollment.objects.filter(version=version)
            .exclude(status=EnrollmentStatus.WITHDRAWN)
            .order_by("number")
            .values_list("pk", flat=True)
        )
        if only is not None:
            ids = [i for i in ids if str(i) in only]
        if not ids:
            continue
        outcome.versions.append(version.number)
        for start in range(0, len(ids), CHUNK):
            _evaluate_chunk(
                version, ids[start : start + CHUNK], now=now, actor=actor, outcome=outcome
            )
    return outcome


def _evaluate_chunk(
    version: ScenarioVersion,
    ids: list[uuid.UUID],
    *,
    now: dt.datetime,
    actor: Actor,
    outcome: EvaluationOutcome,
) -> None:
    from jifen.residents.models import ResidencePermit
    from jifen.scores.errors import NoPolicyForDate
    from jifen.scores.services import recompute_batch

    counts = EvaluationOutcome()
    with transaction.atomic():
        rows = list(
            Enrollment.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .exclude(status=EnrollmentStatus.WITHDRAWN)
            .select_related("resident", "scenario")
            .order_by("number")
        )
        if not rows:
            return
        residents = [e.resident for e in rows]
        resident_ids = [r.pk for r in residents]
        blockers = blockers_for(residents, now=now)
        try:
            batch = recompute_batch(
                resident_ids,
                on=version.evaluation_date,
                review_date=version.review_date,
                now=now,
                actor=actor,
                current=False,
            )
        except NoPolicyForDate as exc:
            raise NoPolicy(
                _("No points policy is in force on the evaluation date %(date)s.")
                % {"date": version.evaluation_date.isoformat()},
                field="content.evaluation_date",
            ) from exc
        first_permits = dict(
            ResidencePermit.objects.filter(resident_id__in=resident_ids)
            .values("resident_id")
            .annotate(first=Min("issued_on"))
            .values_list("resident_id", "first")
        )
        basis, ties = version.score_basis, version.tie_breaks
        for enrollment in rows:
            reasons = list(blockers.get(enrollment.resident_id, []))
            score = batch.scores.get(enrollment.resident_id)
            enrollment.evaluated_at = now
            enrollment.updated_at = now
            if score is None:
                failure = batch.failures.get(enrollment.resident_id)
                counts.not_scored += 1
                enrollment.score = None
                enrollment.points = None
                enrollment.breakdown = {}
                enrollment.tie_values = {}
                enrollment.eligibility_reasons = []
                reasons.append(
                    _reason(
                        "scenarios.blocked.not_scored",
                        _(
                            "Your points could not be computed on %(date)s (%(why)s); the "
                            "responsible department is correcting the data."
                        )
                        % {
                            "date": version.evaluation_date.isoformat(),
                            "why": str(failure) if failure else "missing",
                        },
                    )
                )
            else:
                points, breakdown = counted_points(score.result, basis)
                enrollment.score = score
                enrollment.points = points
                enrollment.breakdown = breakdown
                enrollment.tie_values = tie_values(score, enrollment, ties)
                enrollment.eligibility_reasons = eligibility_reasons(
                    enrollment,
                    version,
                    score,
                    points,
                    first_permits.get(enrollment.resident_id),
                )
            if reasons:
                apply_blockers(enrollment, reasons, actor=actor, now=now)
            elif enrollment.status == EnrollmentStatus.BLOCKED:
                apply_blockers(enrollment, [], actor=actor, now=now)
            else:
                enrollment.status = (
                    EnrollmentStatus.INELIGIBLE
                    if enrollment.eligibility_reasons
                    else EnrollmentStatus.ELIGIBLE
                )
                enrollment.block_reasons = []
                enrollment.blockers_checked_at = now
            counts.evaluated += 1
            if enrollment.status == EnrollmentStatus.BLOCKED:
                counts.blocked += 1
            elif enrollment.status == EnrollmentStatus.ELIGIBLE:
                counts.eligible += 1
            else:
                counts.ineligible += 1
        Enrollment.objects.bulk_update(rows, _UPDATED, batch_size=500)
        audit(
            "enrollment.evaluated",
            actor=actor,
            obj=version,
            now=now,
            data={
                "scenario": version.scenario.code,
                "version": version.number,
                "content_hash": version.content_hash,
                "evaluation_date": version.evaluation_date.isoformat(),
                "review_date": version.review_date.isoformat(),
                "first": rows[0].number,
                "last": rows[-1].number,
                **counts.counts(),
            },
        )
    for name in ("evaluated", "eligible", "ineligible", "blocked", "not_scored"):
        setattr(outcome, name, getattr(outcome, name) + getattr(counts, name))


def rankable(target: Scenario | ScenarioVersion) -> QuerySet[Enrollment]:
    """The enrollments that may be ranked: evaluated eligible, nothing blocking them (blocked
    ones have status ``blocked``), withdrawn ones excluded. For a scenario: those of every
    version; for a version: its own."""
    query = Enrollment.objects.filter(status=EnrollmentStatus.ELIGIBLE, score__isnull=False)
    if isinstance(target, ScenarioVersion):
        query = query.filter(version=target)
    else:
        query = query.filter(scenario=target)
    return query.select_related("resident", "score", "version").order_by("number")
