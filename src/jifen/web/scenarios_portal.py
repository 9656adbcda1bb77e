"""Scenario pages of the resident portal (phone first):

- ``/me/scenarios/`` — the scenarios with a published version (period, rules and their link)
  and "my applications" (积分应用申请) with status;
- ``/me/scenarios/<id>/`` — one scenario: rules, period, places; the application form inside
  the open period (the child's details, school preferences up to the maximum); outside it the
  refusal with both dates;
- ``/me/scenarios/enrollments/<uuid>/`` — one application: status, what blocks it and why,
  the score used (points and breakdown by item), its place on the published list with the
  link to the public list, the re-examination form (3 working days, evidence required) and
  the re-examinations filed with their answers;
- ``/me/reexaminations/<uuid>/`` — one re-examination and its answer.

Objects come from :mod:`jifen.accounts.access`; every change is a service call whose
errors are shown next to the field they name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts import access as scope
from jifen.accounts.models import Role
from jifen.evidence.errors import EvidenceRefused
from jifen.evidence.services import store_upload
from jifen.scenarios import services as scenarios
from jifen.scenarios.errors import ScenarioError
from jifen.scenarios.models import Enrollment, ScenarioVersion, VersionStatus
from jifen.web.claims_portal import FieldErrors
from jifen.web.scenarios_common import DOMAIN_ERRORS, add_error, breakdown_rows, shown

RESIDENT_ONLY = frozenset({Role.RESIDENT})


# --- helpers ----------------------------------------------------------------------------------


def period_state(version: ScenarioVersion, now: dt.datetime) -> str:
    if now < version.open_from:
        return "not_open_yet"
    if now >= version.open_until:
        return "closed"
    return "open"


def period_message(version: ScenarioVersion, now: dt.datetime) -> str:
    """Why applications are refused now (the service's own message, with both dates)."""
    try:
        scenarios.check_open(version, now)
    except ScenarioError as exc:
        return str(exc.message)
    return ""


def quota_choices(version: ScenarioVersion) -> list[tuple[str, str]]:
    return [(q["key"], q.get("label") or q["key"]) for q in version.content.get("quotas", [])]


def current_entry(enrollment: Enrollment) -> Any:
    """The enrollment's entry on the newest published list (a corrected list supersedes)."""
    from jifen.rankings.models import RankingEntry

    return (
        RankingEntry.objects.filter(enrollment=enrollment, ranking__publication__isnull=False)
        .select_related("ranking__publication", "ranking")
        .order_by("-ranking__sequence")
        .first()
    )


def filing_open(publication: Any, today: dt.date) -> bool:
    return (
        publication is not None
        and publication.taken_down_at is None
        and publication.starts_on <= today <= publication.filing_until
    )


def _allocation_label(entry: Any, version: ScenarioVersion) -> str:
    labels = dict(quota_choices(version))
    if entry.outcome == "cancelled":
        return _("cancelled")
    if entry.quota_key:
        return labels.get(entry.quota_key, entry.quota_key)
    return _("waitlisted")


# --- the list ----------------------------------------------------------------------------------


@login_required
def scenario_list(request: HttpRequest) -> HttpResponse:
    access.require_role(request, RESIDENT_ONLY)
    now = clock.now()
    versions = (
        ScenarioVersion.objects.filter(
            status=VersionStatus.PUBLISHED, scenario__in=scope.scenarios_for(request.user)
        )
        .select_related("scenario", "scenario__department")
        .order_by("open_from", "scenario__code")
    )
    mine = list(
        scope.enrollments_for(request.user).order_by("-applied_at").select_related("scenario")
    )
    enrolled = {e.scenario_id: e for e in mine}
    rows = [
        {
            "version": v,
            "scenario": v.scenario,
            "state": period_state(v, now),
            "open_from": shown(v.open_from),
            "open_until": shown(v.open_until),
            "enrollment": enrolled.get(v.scenario_id),
        }
        for v in versions
    ]
    return render(request, "web/scenarios/portal_list.html", {"rows": rows, "enrollments": mine})


# --- one scenario and the application form ---------------------------------------------------


@login_required
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, RESIDENT_ONLY)
    scenario = scope.scenario_or_404(request, pk)
    version = scenario.published_version()
    if version is None:
        raise access.not_found(request, "scenarios.scenario", pk)
    resident = access.resident_or_404(request, request.user.resident_id)
    now = clock.now()
    errors = FieldErrors()
    existing = scope.enrollments_for(request.user).filter(scenario=scenario).first()
    values: dict[str, Any] = {"child_name": "", "child_birth_date": "", "preferences": []}
    status = 200
    if request.method == "POST":
        values = {
            "child_name": request.POST.get("child_name", "").strip()[:100],
            "child_birth_date": request.POST.get("child_birth_date", "").strip()[:20],
            "preferences": [
                p for p in request.POST.getlist("preferences")[: max(version.preferences_max, 1)]
            ],
        }
        details: dict[str, Any] = {}
        if version.eligibility.get("child_birth_from"):
            details = {
                "child_name": values["child_name"],
                "child_birth_date": values["child_birth_date"],
            }
        preferences = [p for p in values["preferences"] if p]
        try:
            with transaction.atomic():
                enrollment = scenarios.enroll(
                    scenario=scenario,
                    resident=resident,
                    user=request.user,
                    details=details,
                    preferences=preferences,
                    now=now,
                )
        except ScenarioError as exc:
            if exc.code == "scenarios.already_enrolled" and exc.enrollment is not None:
                return redirect("web:enrollment", exc.enrollment.pk)
            add_error(errors, exc)
            status = 409 if exc.status == 409 else 400
        else:
            messages.success(
                request,
                _("Application %(number)s received.") % {"number": enrollment.number},
            )
            return redirect("web:enrollment", enrollment.pk)
    most = version.preferences_max
    chosen = list(values["preferences"]) + [""] * most
    context = {
        "scenario": scenario,
        "version": version,
        "content": version.content,
        "state": period_state(version, now),
        "refusal": period_message(version, now),
        "open_from": shown(version.open_from),
        "open_until": shown(version.open_until),
        "quotas": version.quotas.all(),
        "choices": quota_choices(version),
        "preference_slots": [(i + 1, chosen[i]) for i in range(most)],
        "needs_child": bool(version.eligibility.get("child_birth_from")),
        "existing": existing,
        "values": values,
        "errors": errors,
    }
    return render(request, "web/scenarios/portal_scenario.html", context, status=status)


# --- one application ----------------------------------------------------------------------------


def enrollment_context(request: HttpRequest, enrollment: Enrollment) -> dict[str, Any]:
    now = clock.now()
    today = clock.china_today()
    version = enrollment.version
    entry = current_entry(enrollment)
    publication = getattr(entry.ranking, "publication", None) if entry else None
    public = publication is not None and publication.is_visible_on(today)
    return {
        "enrollment": enrollment,
        "scenario": enrollment.scenario,
        "version": version,
        "applied_at": shown(enrollment.applied_at),
        "breakdown": breakdown_rows(enrollment.breakdown, version.evaluation_date),
        "preferences": [
            dict(quota_choices(version)).get(k, k) for k in (enrollment.preferences or [])
        ],
        "entry": entry,
        "allocation": _allocation_label(entry, version) if entry else "",
        "publication": publication,
        "public": public,
        "filing_open": filing_open(publication, today) and enrollment.resident_id is not None,
        "items": breakdown_rows(entry.breakdown, version.evaluation_date) if entry else [],
        "can_withdraw": enrollment.status != "withdrawn" and period_state(version, now) == "open",
        "reexaminations": scope.reexaminations_for(request.user)
        .filter(enrollment=enrollment)
        .order_by("-filed_at"),
    }


@login_required
def enrollment_detail(request: HttpRequest, pk) -> HttpResponse:
    access.require_role(request, RESIDENT_ONLY)
    enrollment = scope.enrollment_or_404(request, pk)
    context = enrollment_context(request, enrollment)
    context["errors"] = FieldErrors()
    context["values"] = {}
    return render(request, "web/scenarios/portal_enrollment.html", context)


@login_required
@require_POST
def enrollment_withdraw(request: HttpRequest, pk) -> HttpResponse:
    access.require_role(request, RESIDENT_ONLY)
    enrollment = scope.enrollment_or_404(request, pk)
    try:
        scenarios.withdraw_enrollment(
            enrollment,
            user=request.user,
            reason=request.POST.get("reason", "")[:2000],
            now=clock.now(),
        )
    except ScenarioError as exc:
        messages.error(request, str(exc.message))
    return redirect("web:enrollment", enrollment.pk)


@login_required
@require_POST
def reexamination_file(request: HttpRequest, pk) -> HttpResponse:
    """File a re-examination of one item of the published points (evidence required)."""
    from jifen.reexaminations.services import file_reexamination

    access.require_role(request, RESIDENT_ONLY)
    enrollment = scope.enrollment_or_404(request, pk)
    entry = current_entry(enrollment)
    errors = FieldErrors()
    values = {
        "item": request.POST.get("item", "")[:60],
        "statement": request.POST.get("statement", "")[:4000],
    }
    if entry is None:
        errors.add("general", _("This application is not on a published list."))
    else:
        now = clock.now()
        try:
            with transaction.atomic():
                files = [
                    store_upload(
                        upload,
                        resident=enrollment.resident,
                        user=request.user,
                        now=now,
                        already_attached=index,
                        field="evidence",
                        request=request,
                    )
                    for index, upload in enumerate(request.FILES.getlist("evidence"))
                ]
                reexamination = file_reexamination(
                    publication=entry.ranking.publication,
                    enrollment=enrollment,
                    user=request.user,
                    item=values["item"],
                    statement=values["statement"],
                    evidence=files,
                    now=now,
                )
        except EvidenceRefused as exc:
            errors.add("evidence", str(exc.message))
        except DOMAIN_ERRORS as exc:
            add_error(errors, exc)
        else:
            messages.success(
                request,
                _("Re-examination request %(number)s received.") % {"number": reexamination.number},
            )
            return redirect("web:my_reexamination", reexamination.pk)
    context = enrollment_context(request, enrollment)
    context.update(errors=errors, values=values)
    return render(request, "web/scenarios/portal_enrollment.html", context, status=400)


@login_required
def reexamination_detail(request: HttpRequest, pk) -> HttpResponse:
    access.require_role(request, RESIDENT_ONLY)
    reexamination = scope.reexamination_or_404(request, pk)
    version = reexamination.enrollment.version
    labels = dict(
        (code, label)
        for code, label, _p in breakdown_rows({reexamination.item: ""}, version.evaluation_date)
    )
    return render(
        request,
        "web/scenarios/portal_reexamination.html",
        {
            "r": reexamination,
            "item_label": labels.get(reexamination.item, reexamination.item),
            "filed_at": shown(reexamination.filed_at),
            "decided_at": shown(reexamination.decided_at),
            "enrollment_url": reverse("web:enrollment", args=[reexamination.enrollment_id]),
        },
    )
