"""Who sees which scenarios, enrollments, rankings, re-examinations and fraud cases (pages and
API of issue 5). The lead re-exports these from :mod:`jifen.accounts.access` (see
/work/contract/requests-pages5.md); re-examinations and fraud cases come from their apps'
own scoping functions.

=================  ==========================================================================
resident           scenarios: the published ones (to apply); enrollments: their own
clerk (a town)     enrollments of the residents of their town (they apply at the window)
reviewer (a dept)  scenarios their department provides, their enrollments and rankings
center             all
others             nothing
=================  ==========================================================================

Out of scope is 404 (``access.denied`` audited through :func:`jifen.accounts.access.not_found`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from jifen.accounts import access
from jifen.accounts.models import Role


def scenarios_for(user: Any) -> QuerySet:
    """Scenarios a staff user manages or follows: the center all, a reviewer those their
    department provides; residents and clerks: those with a published version."""
    from jifen.scenarios.models import Scenario, VersionStatus

    role = access.role_of(user)
    scenarios = Scenario.objects.select_related("department")
    if role == Role.CENTER:
        return scenarios
    if role == Role.REVIEWER:
        return scenarios.filter(department_id=user.department_id)
    if role in (Role.RESIDENT, Role.CLERK):
        return scenarios.filter(versions__status=VersionStatus.PUBLISHED).distinct()
    return scenarios.none()


def enrollments_for(user: Any) -> QuerySet:
    from jifen.scenarios.models import Enrollment

    role = access.role_of(user)
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
    from jifen.rankings.models import Ranking

    role = access.role_of(user)
    rankings = Ranking.objects.select_related("version", "version__scenario")
    if role == Role.CENTER:
        return rankings
    if role == Role.REVIEWER:
        return rankings.filter(version__scenario__department_id=user.department_id)
    return rankings.none()


def reexaminations_for(user: Any) -> QuerySet:
    from jifen.reexaminations.access import reexaminations_for as scoped

    return scoped(user)


def fraud_cases_for(user: Any) -> QuerySet:
    from jifen.sanctions.services import fraud_cases_for as scoped

    return scoped(user)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _one(request: HttpRequest, queryset: QuerySet, key: Any, label: str, object_id: Any) -> Any:
    found = queryset.filter(pk=key).first() if key is not None else None
    if found is None:
        raise access.not_found(request, label, object_id)
    return found


def scenario_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one(request, scenarios_for(request.user), _int(pk), "scenarios.scenario", pk)


def enrollment_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one(request, enrollments_for(request.user), _uuid(pk), "scenarios.enrollment", pk)


def ranking_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one(request, rankings_for(request.user), _int(pk), "rankings.ranking", pk)


def reexamination_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one(
        request, reexaminations_for(request.user), _uuid(pk), "reexaminations.reexamination", pk
    )


def fraud_case_or_404(request: HttpRequest, pk: Any) -> Any:
    return _one(request, fraud_cases_for(request.user), _uuid(pk), "sanctions.fraudcase", pk)
