"""Who may see what: the one place where personal data is scoped to a user.

Views and API endpoints never filter residents, facts, scores, permits or feed batches by hand;
they ask this module. An object outside the user's scope is answered with 404 (the same answer
as an object that does not exist, so ids cannot be probed); a page or endpoint that the user's
role may not use at all is answered with 403. Both leave an ``access.denied`` audit entry.

Scope by role (this table is the reference for pages, API and tests):

=================  ==========================================================================
resident           only themselves: their own resident record, facts (all kinds), scores,
                   permits.
clerk (a town)     the residents of their town; their facts except deductions (criminal and
                   credit details: only the responsible department and the center see them);
                   scores with deduction details withheld; permits. May reveal the full
                   identity number (audited).
reviewer (a dept)  the residents for whom their department has sent a fact (current or
                   superseded) or who have a review task or a re-examination routed to it;
                   only the facts of
                   their department; scores with only their department's deduction details;
                   permits. No full identity number. Searches (identity number, permit number,
                   name) run inside that scope only: a resident the department holds nothing
                   about is "not found", whoever knows the number.
center             everyone and everything; may reveal the full identity number (audited).
auditor, system    nothing: no personal data by default (the auditor reads the audit log at
and security       ``/audit/``; administrators manage configuration and accounts).
administrators
=================  ==========================================================================

Feed batches: the center sees all, a reviewer those of their department, nobody else.

Scenarios and enrollments (``scenarios_for``, ``enrollments_for``, ``rankings_for``): residents
and clerks see the published scenarios; the resident their own enrollments, a clerk those of
their town's residents, a reviewer the enrollments and rankings of the scenarios their
department provides, the center all. The public list is not scoped: it is masked
(``jifen.rankings.exports``).

Re-examinations (``reexaminations_for``; the rules live in ``jifen.reexaminations.access``):
the resident their own, a clerk those of their town's residents, a reviewer those routed to
their department (and their evidence), the center all. Fraud cases (``fraud_cases_for``): the
center all, a reviewer those their department proposed. Credit records: the resident their
own, the center all.

Claims and review (``claims_for``, ``tasks_for``, ``items_for``, ``evidence_for``):

=================  ==========================================================================
resident           their own claims (drafts too), every task and item of them, the evidence
                   attached to their claims and the files they uploaded.
clerk (a town)     the claims of the residents of their town (drafts filed at their window
                   too), their tasks, items and evidence.
reviewer (a dept)  the tasks routed to their department, and those claims — but only their
                   department's items and evidence (evidence of their items, of the materials
                   notice of their task, or attached to the claim as a whole).
center             all.
others             nothing.
=================  ==========================================================================
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from jifen.accounts import auditing
from jifen.accounts.models import Role
from jifen.facts.models import Fact, FactKind
from jifen.feeds.models import FeedBatch
from jifen.residents.models import ResidencePermit, Resident
from jifen.scores.models import Score

#: Roles that use the staff workbench (resident look-up).
WORKBENCH_ROLES = frozenset({Role.CLERK, Role.REVIEWER, Role.CENTER})
#: Roles that may open feed import reports (scoped by :func:`batches_for`).
FEED_REPORT_ROLES = frozenset({Role.CENTER, Role.REVIEWER})
#: Roles whose members may see a full identity number (the clerk only in their own town).
IDENTITY_REVEAL_ROLES = frozenset({Role.CLERK, Role.CENTER})

ACTIONS = frozenset({"view", "search"})


def role_of(user: Any) -> str | None:
    """The role of an active signed-in user, else None (who then sees nothing)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user.role


# --- querysets ------------------------------------------------------------------------------


def residents_for(user: Any, action: str = "view") -> QuerySet[Resident]:
    """The residents ``user`` may see (``view``) or find (``search``); the same set today."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r} (one of {', '.join(sorted(ACTIONS))})")
    role = role_of(user)
    residents = Resident.objects.all()
    if role == Role.RESIDENT:
        return residents.filter(pk=user.resident_id)
    if role == Role.CLERK:
        return residents.filter(town_id=user.town_id)
    if role == Role.REVIEWER:
        from jifen.claims.models import ReviewTask

        department_facts = Fact.objects.filter(
            resident=OuterRef("pk"), department_id=user.department_id
        )
        department_tasks = ReviewTask.objects.filter(
            claim__resident=OuterRef("pk"), department_id=user.department_id
        )
        from jifen.reexaminations.models import Reexamination

        department_reexaminations = Reexamination.objects.filter(
            resident=OuterRef("pk"), department_id=user.department_id
        )
        return residents.filter(
            Exists(department_facts) | Exists(department_tasks) | Exists(department_reexaminations)
        )
    if role == Role.CENTER:
        return residents
    return residents.none()


def facts_for(user: Any, resident: Resident | None = None) -> QuerySet[Fact]:
    """The facts ``user`` may see (current and superseded), of one resident if given."""
    role = role_of(user)
    facts = Fact.objects.filter(resident__in=residents_for(user)).select_related(
        "department", "batch"
    )
    if resident is not None:
        facts = facts.filter(resident=resident)
    if role == Role.CLERK:
        facts = facts.exclude(kind=FactKind.DEDUCTION)
    elif role == Role.REVIEWER:
        facts = facts.filter(department_id=user.department_id)
    elif role not in (Role.RESIDENT, Role.CENTER):
        facts = facts.none()
    return facts


def scores_for(user: Any, resident: Resident | None = None) -> QuerySet[Score]:
    """The stored scores ``user`` may see; show their explanation through :func:`visible_result`."""
    scores = Score.objects.filter(resident__in=residents_for(user))
    return scores.filter(resident=resident) if resident is not None else scores


def permits_for(user: Any, resident: Resident | None = None) -> QuerySet[ResidencePermit]:
    permits = ResidencePermit.objects.filter(resident__in=residents_for(user)).select_related(
        "issuing_town"
    )
    return permits.filter(resident=resident) if resident is not None else permits


def batches_for(user: Any) -> QuerySet[FeedBatch]:
    """Feed batches: the center all, a reviewer those of their own department."""
    role = role_of(user)
    batches = FeedBatch.objects.select_related("department")
    if role == Role.CENTER:
        return batches
    if role == Role.REVIEWER:
        return batches.filter(department_id=user.department_id)
    return batches.none()


# --- claims and review ----------------------------------------------------------------------


def claims_for(user: Any) -> QuerySet:
    """Claims ``user`` may see (see the module's table). A reviewer sees the claims with a
    task of their department; what they see *inside* a claim is scoped by :func:`items_for`,
    :func:`tasks_for` and :func:`evidence_for`."""
    from jifen.claims.models import Claim, ReviewTask

    role = role_of(user)
    claims = Claim.objects.select_related("resident")
    if role == Role.RESIDENT:
        return claims.filter(resident_id=user.resident_id)
    if role == Role.CLERK:
        return claims.filter(resident__town_id=user.town_id)
    if role == Role.REVIEWER:
        tasks = ReviewTask.objects.filter(claim=OuterRef("pk"), department_id=user.department_id)
        return claims.filter(Exists(tasks)).exclude(status="draft")
    if role == Role.CENTER:
        return claims
    return claims.none()


def tasks_for(user: Any) -> QuerySet:
    """Review tasks: a reviewer those of their department; residents and clerks the tasks of
    the claims they see; the center all."""
    from jifen.claims.models import ReviewTask

    role = role_of(user)
    tasks = ReviewTask.objects.select_related("claim", "claim__resident", "department")
    if role == Role.REVIEWER:
        return tasks.filter(department_id=user.department_id)
    if role in (Role.RESIDENT, Role.CLERK):
        return tasks.filter(claim__in=claims_for(user))
    if role == Role.CENTER:
        return tasks
    return tasks.none()


def items_for(user: Any) -> QuerySet:
    """Claim items: a reviewer only those routed to their department."""
    from jifen.claims.models import ClaimItem

    role = role_of(user)
    items = ClaimItem.objects.select_related("department", "task")
    if role == Role.REVIEWER:
        return items.filter(department_id=user.department_id)
    if role in (Role.RESIDENT, Role.CLERK, Role.CENTER):
        return items.filter(claim__in=claims_for(user))
    return items.none()


def evidence_for(user: Any) -> QuerySet:
    """Evidence files ``user`` may open (download). A reviewer: the files of their
    department's items, of their task's materials notice, or attached to a whole claim with
    a task of their department. Deleted files are never served."""
    from jifen.claims.models import ClaimEvidence, ReviewTask
    from jifen.evidence.models import Evidence

    role = role_of(user)
    files = Evidence.objects.filter(deleted_at__isnull=True)
    if role == Role.RESIDENT:
        return files.filter(resident_id=user.resident_id)
    if role == Role.CLERK:
        return files.filter(resident__town_id=user.town_id)
    if role == Role.REVIEWER:
        department = user.department_id
        own_task = ReviewTask.objects.filter(claim=OuterRef("claim"), department_id=department)
        links = ClaimEvidence.objects.filter(evidence=OuterRef("pk")).filter(
            Q(item__department_id=department)
            | Q(notice__task__department_id=department)
            | (Q(item__isnull=True, notice__isnull=True) & Exists(own_task))
        )
        from jifen.reexaminations.models import Reexamination

        reexamination_files = Reexamination.evidence.through.objects.filter(
            evidence_id=OuterRef("pk"), reexamination__department_id=department
        )
        return files.filter(Exists(links) | Exists(reexamination_files))
    if role == Role.CENTER:
        return files
    return files.none()


def claim_or_404(request: HttpRequest, pk: Any) -> Any:
    """The claim if ``request.user`` may see it; otherwise 404 and ``access.denied``."""
    key = _uuid_or_none(pk)
    claim = claims_for(request.user).filter(pk=key).first() if key else None
    if claim is None:
        raise not_found(request, "claims.claim", pk)
    return claim


def task_or_404(request: HttpRequest, pk: Any) -> Any:
    """The review task if ``request.user`` may see it; otherwise 404 and ``access.denied``."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        number = None
    task = tasks_for(request.user).filter(pk=number).first() if number is not None else None
    if task is None:
        raise not_found(request, "claims.reviewtask", pk)
    return task


def evidence_or_404(request: HttpRequest, pk: Any) -> Any:
    """The evidence file if ``request.user`` may open it; otherwise 404 and ``access.denied``."""
    key = _uuid_or_none(pk)
    evidence = evidence_for(request.user).filter(pk=key).first() if key else None
    if evidence is None:
        raise not_found(request, "evidence.evidence", pk)
    return evidence


def reexaminations_for(user: Any) -> QuerySet:
    """Re-examinations: the resident their own, a clerk their town's residents', a reviewer
    those routed to their department, the center all."""
    from jifen.reexaminations.access import reexaminations_for as scoped

    return scoped(user)


def reexamination_or_404(request: HttpRequest, pk: Any) -> Any:
    """The re-examination if ``request.user`` may see it; otherwise 404 and ``access.denied``."""
    key = _uuid_or_none(pk)
    found = reexaminations_for(request.user).filter(pk=key).first() if key else None
    if found is None:
        raise not_found(request, "reexaminations.reexamination", pk)
    return found


def fraud_cases_for(user: Any) -> QuerySet:
    """Fraud cases: the center all, a reviewer those their department proposed."""
    from jifen.sanctions.services import fraud_cases_for as scoped

    return scoped(user)


def scenarios_for(user: Any) -> QuerySet:
    """Scenarios: the center all, a reviewer those their department provides; residents and
    clerks those with a published version (to apply)."""
    from jifen.scenarios.models import Scenario, VersionStatus

    role = role_of(user)
    scenarios = Scenario.objects.select_related("department")
    if role == Role.CENTER:
        return scenarios
    if role == Role.REVIEWER:
        return scenarios.filter(department_id=user.department_id)
    if role in (Role.RESIDENT, Role.CLERK):
        return scenarios.filter(versions__status=VersionStatus.PUBLISHED).distinct()
    return scenarios.none()


def enrollments_for(user: Any) -> QuerySet:
    """Enrollments: the resident their own, a clerk their town's residents', a reviewer those
    of the scenarios their department provides, the center all."""
    from jifen.scenarios.models import Enrollment

    role = role_of(user)
    enrollments = Enrollment.objects.select_related("scenario", "version", "resident")
    if role == Role.RESIDENT:
        return enrollments.filter(resident_id=user.resident_id)
    if role == Role.CLERK:
        return enrollments.filter(resident__town_id=user.town_id)
    if role == Role.REVIEWER:
        return enrollments.filter(scenario__department_id=user.department_id)
    if role == Role.CENTER:
        return enrollments
    return enrollments.none()


def rankings_for(user: Any) -> QuerySet:
    """Frozen rankings (staff lists): the center all, a reviewer those of the scenarios their
    department provides. The public sees only the masked publication."""
    from jifen.rankings.models import Ranking

    role = role_of(user)
    rankings = Ranking.objects.select_related("version", "version__scenario")
    if role == Role.CENTER:
        return rankings
    if role == Role.REVIEWER:
        return rankings.filter(version__scenario__department_id=user.department_id)
    return rankings.none()


def _one_or_404(request: HttpRequest, queryset: QuerySet, key: Any, label: str, raw: Any) -> Any:
    found = queryset.filter(pk=key).first() if key is not None else None
    if found is None:
        raise not_found(request, label, raw)
    return found


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def scenario_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one_or_404(
        request, scenarios_for(request.user), _int_or_none(pk), "scenarios.scenario", pk
    )


def published_version_or_404(request: HttpRequest, pk: Any) -> Any:
    """The published version (with its scenario) of a scenario within ``request.user``'s
    scope, in one query: what an enrollment is made under. 404 and ``access.denied`` when the
    scenario is out of scope or has no published version."""
    from jifen.scenarios.models import ScenarioVersion, VersionStatus

    versions = ScenarioVersion.objects.select_related("scenario").filter(
        status=VersionStatus.PUBLISHED
    )
    if role_of(request.user) not in (Role.RESIDENT, Role.CLERK):
        # Residents and clerks see exactly the scenarios with a published version
        # (``scenarios_for``), so for them the version found is the scope check.
        versions = versions.filter(scenario__in=scenarios_for(request.user))
    key = _int_or_none(pk)
    found = versions.filter(scenario_id=key).first() if key is not None else None
    if found is None:
        raise not_found(request, "scenarios.scenario", pk)
    return found


def enrollment_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one_or_404(
        request, enrollments_for(request.user), _uuid_or_none(pk), "scenarios.enrollment", pk
    )


def ranking_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one_or_404(
        request, rankings_for(request.user), _int_or_none(pk), "rankings.ranking", pk
    )


def fraud_case_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one_or_404(
        request, fraud_cases_for(request.user), _uuid_or_none(pk), "sanctions.fraudcase", pk
    )


def credit_records_for(user: Any) -> QuerySet:
    """Credit records: the resident their own, the center all."""
    from jifen.sanctions.services import credit_records_for as scoped

    return scoped(user)


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


# --- field-level rules ----------------------------------------------------------------------


def may_act_for(user: Any, resident: Resident) -> bool:
    """Who may file, apply or withdraw on a resident's behalf (claims, corrections,
    enrollments, re-examinations): the resident themselves, or a window clerk of their town."""
    role = role_of(user)
    if role == Role.RESIDENT:
        return user.resident_id == resident.pk
    if role == Role.CLERK:
        return user.town_id == resident.town_id
    return False


def can_reveal_identity(user: Any, resident: Resident) -> bool:
    """The full identity number: the clerk of the resident's town and the center only."""
    role = role_of(user)
    if role == Role.CENTER:
        return True
    return role == Role.CLERK and resident.town_id == user.town_id


def deduction_details_visible(user: Any, departments: tuple[str, ...] | list[str]) -> bool:
    """Criminal and credit details: the resident themselves, the responsible department, the
    center. ``departments`` are the codes responsible for the deduction (policy data)."""
    role = role_of(user)
    if role in (Role.RESIDENT, Role.CENTER):
        return True
    if role == Role.REVIEWER and user.department is not None:
        return user.department.code in departments
    return False


def _deduction_departments(score: Score) -> dict[str, tuple[str, ...]]:
    from jifen.web.explain import policy_set

    policies = policy_set()
    out: dict[str, tuple[str, ...]] = {}
    for policy_id in (score.provincial_policy, score.city_policy):
        if policy_id in policies.by_id:
            for deduction in policies.by_id[policy_id].deductions:
                out[deduction.code] = tuple(deduction.departments)
    return out


def visible_result(user: Any, score: Score) -> dict[str, Any]:
    """``score.result`` as ``user`` may read it: deduction lines and acts the user may not see
    are withheld (the deduction total stays: it is part of the score)."""
    result = copy.deepcopy(score.result or {})
    owners = _deduction_departments(score)

    def visible(rule: str | None) -> bool:
        return deduction_details_visible(user, owners.get(rule or "", ()))

    lines = result.get("explanation", [])
    kept = [
        line for line in lines if line.get("section") != "deduction" or visible(line.get("rule"))
    ]
    withheld = len(lines) - len(kept)
    if withheld:
        kept.append(
            {
                "section": "deduction",
                "item": "deductions",
                "rule": None,
                "facts": {},
                "points": None,
                "status": "withheld",
                "reason": f"{withheld} deduction line(s) withheld: only the responsible "
                "department and the center see deduction details",
                "reason_zh": f"{withheld}条扣分明细不予显示：扣分明细仅限负责部门和市流管中心查看",
            }
        )
    result["explanation"] = kept
    deductions = result.get("deductions")
    if isinstance(deductions, dict) and "acts" in deductions:
        deductions["acts"] = [a for a in deductions["acts"] if visible(a.get("rule"))]
    return result


# --- request helpers (they audit what they refuse) ------------------------------------------


def require_role(request: HttpRequest, roles: frozenset[str]) -> None:
    """403 (and ``access.denied``) unless the signed-in user has one of ``roles``."""
    if role_of(request.user) not in roles:
        auditing.access_denied(request, reason="role")
        raise PermissionDenied


def not_found(request: HttpRequest, object_type: str, object_id: Any) -> Http404:
    auditing.access_denied(
        request, reason="out_of_scope", object_type=object_type, object_id=str(object_id)[:100]
    )
    return Http404()


def resident_or_404(request: HttpRequest, pk: uuid.UUID | str, action: str = "view") -> Resident:
    """The resident if ``request.user`` may see them; otherwise 404 and ``access.denied``."""
    resident = residents_for(request.user, action).select_related("town").filter(pk=pk).first()
    if resident is None:
        raise not_found(request, "residents.resident", pk)
    return resident


def batch_or_404(request: HttpRequest, pk: int) -> FeedBatch:
    batch = batches_for(request.user).filter(pk=pk).first()
    if batch is None:
        raise not_found(request, "feeds.feedbatch", pk)
    return batch
