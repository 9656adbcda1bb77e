"""Scenario pages of the staff workbench.

The center: scenarios, draft versions (a form over the definition's fields, errors named by
field), publication; the enrollments of a scenario with status and blockers; evaluation;
freezing the ranking (hash, cut-off), publishing it (dates: the service enforces at least 5
working days), corrected lists, the final list and outcomes; fraud cases (propose, and
confirm or reject by another member of the center).

A department reviewer: the scenarios their department provides (enrollments, evaluation,
outcomes on the final list), the re-examinations routed to their department (queue, accept,
decide upheld / dismissed with the reason and the corrected facts), fraud proposals.

Objects come from :mod:`jifen.accounts.access`; a wrong role is 403, an object out of
scope 404 (both audited ``access.denied``). A service's ``*.not_allowed`` is a 403 too.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jifen.accounts import access, auditing, clock
from jifen.accounts import access as scope
from jifen.accounts.models import Role
from jifen.evidence.errors import EvidenceRefused
from jifen.evidence.services import store_upload
from jifen.identity import mask_name
from jifen.org.models import Department
from jifen.rankings.models import Outcome
from jifen.reexaminations.models import OPEN_STATES, ReexaminationState
from jifen.scenarios import services as scenarios
from jifen.scenarios.models import EnrollmentStatus, VersionStatus
from jifen.web.claims_portal import FieldErrors
from jifen.web.scenarios_common import DOMAIN_ERRORS, add_error, breakdown_rows, shown

CENTER_ONLY = frozenset({Role.CENTER})
STAFF = frozenset({Role.CENTER, Role.REVIEWER})
CHINA_OFFSET = "+08:00"
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


class Refused(Exception):
    """A domain error shown on the page (status and errors by field)."""

    def __init__(self, errors: FieldErrors, status: int) -> None:
        self.errors, self.status = errors, status


def attempt(request: HttpRequest, action, *args, **kwargs) -> Any:
    """Run a service; ``*.not_allowed`` → 403 (audited); other domain errors → :class:`Refused`."""
    try:
        with transaction.atomic():
            return action(*args, **kwargs)
    except DOMAIN_ERRORS as exc:
        if exc.code.endswith(".not_allowed"):
            auditing.access_denied(request, reason="not_allowed")
            raise PermissionDenied from exc
        errors = FieldErrors()
        add_error(errors, exc)
        raise Refused(errors, exc.status if exc.status in (400, 403, 409, 422) else 400) from exc
    except EvidenceRefused as exc:
        errors = FieldErrors()
        errors.add("evidence", str(exc.message))
        raise Refused(errors, 400) from exc


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200):
    """Render a workbench page; ``error_list`` is every message of ``errors`` (flat)."""
    errors = context.get("errors") or {}
    context["error_list"] = [m for texts in dict(errors).values() for m in texts]
    return render(request, f"web/scenarios/{template}", context, status=status)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        return None


# --- the definition form ------------------------------------------------------------------------


def _local(value: str) -> str:
    """``2026-07-01T09:00`` (a datetime-local input, China time) → ISO with the offset."""
    value = (value or "").strip()
    if _LOCAL.match(value):
        return (value if value.count(":") == 2 else value + ":00") + CHINA_OFFSET
    return value


def _number(value: str) -> Any:
    value = (value or "").strip()
    return int(value) if value.isdigit() else value


def _lines(value: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\n,，]", value or "") if line.strip()]


def form_to_content(post: Any) -> dict[str, Any]:
    """The definition from the form's fields (the service validates and names the field)."""
    eligibility: dict[str, Any] = {"permit_valid": post.get("permit_valid") == "on"}
    if post.get("min_total", "").strip():
        eligibility["min_total"] = post["min_total"].strip()
    for name in ("child_birth_from", "child_birth_to"):
        if post.get(name, "").strip():
            eligibility[name] = post[name].strip()
    if post.get("min_residence_months", "").strip():
        eligibility["min_residence_months"] = _number(post["min_residence_months"])
    if post.get("score_basis_kind") == "items":
        basis: dict[str, Any] = {
            "kind": "items",
            "items": _lines(post.get("score_basis_items", "")),
            "deductions": post.get("score_basis_deductions") == "on",
        }
    else:
        basis = {"kind": "total"}
    quotas = []
    for line in (post.get("quotas") or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (4 - len(parts))
        quotas.append(
            {
                "key": parts[0],
                "label": parts[1],
                "places": _number(parts[2]),
                "town": parts[3] or None,
            }
        )
    most = (post.get("preferences_max") or "").strip()
    content: dict[str, Any] = {
        "rules_text": post.get("rules_text", ""),
        "rules_url": post.get("rules_url", "").strip(),
        "open_from": _local(post.get("open_from", "")),
        "open_until": _local(post.get("open_until", "")),
        "eligibility": eligibility,
        "score_basis": basis,
        "tie_breaks": [t.strip() for t in (post.get("tie_breaks") or "").splitlines() if t.strip()],
        "quotas": quotas,
        "preferences": {"max": _number(most)} if most else None,
    }
    for name in ("evaluation_date", "review_date"):
        if post.get(name, "").strip():
            content[name] = post[name].strip()
    return content


def content_to_form(content: dict[str, Any]) -> dict[str, str]:
    """The form's values of a stored (canonical) definition."""
    eligibility = content.get("eligibility") or {}
    basis = content.get("score_basis") or {"kind": "total"}

    def local(value: str | None) -> str:
        return (value or "")[:19]

    return {
        "rules_text": content.get("rules_text", ""),
        "rules_url": content.get("rules_url", ""),
        "open_from": local(content.get("open_from")),
        "open_until": local(content.get("open_until")),
        "evaluation_date": content.get("evaluation_date", ""),
        "review_date": content.get("review_date", ""),
        "min_total": eligibility.get("min_total") or "",
        "permit_valid": "on" if eligibility.get("permit_valid", True) else "",
        "child_birth_from": eligibility.get("child_birth_from") or "",
        "child_birth_to": eligibility.get("child_birth_to") or "",
        "min_residence_months": str(eligibility.get("min_residence_months") or ""),
        "score_basis_kind": basis.get("kind", "total"),
        "score_basis_items": "\n".join(basis.get("items", [])),
        "score_basis_deductions": "on" if basis.get("deductions", True) else "",
        "tie_breaks": "\n".join(content.get("tie_breaks", [])),
        "quotas": "\n".join(
            f"{q['key']} | {q['label']} | {q['places']} | {q.get('town') or ''}"
            for q in content.get("quotas", [])
        ),
        "preferences_max": str((content.get("preferences") or {}).get("max") or ""),
    }


EMPTY_FORM = {
    "permit_valid": "on",
    "score_basis_kind": "total",
    "score_basis_deductions": "on",
    "tie_breaks": "provincial_total\napplied_at",
}


# --- scenarios -----------------------------------------------------------------------------------


@login_required
def scenario_list(request: HttpRequest) -> HttpResponse:
    access.require_role(request, STAFF)
    center = access.role_of(request.user) == Role.CENTER
    errors = FieldErrors()
    values = {"code": "", "name": "", "department": ""}
    status = 200
    if request.method == "POST":
        access.require_role(request, CENTER_ONLY)
        values = {k: request.POST.get(k, "").strip()[:200] for k in values}
        department = Department.objects.filter(code=values["department"], active=True).first()
        try:
            scenario = attempt(
                request,
                scenarios.create_scenario,
                code=values["code"],
                name=values["name"],
                department=department,
                user=request.user,
                now=clock.now(),
            )
        except Refused as refused:
            errors, status = refused.errors, refused.status
        else:
            return redirect("web:staff_scenario_draft", scenario.pk)
    rows = scope.scenarios_for(request.user).annotate(n=Count("enrollments")).order_by("code")
    context = {
        "rows": [{"scenario": s, "version": s.published_version(), "n": s.n} for s in rows],
        "center": center,
        "departments": Department.objects.filter(active=True).order_by("code"),
        "values": values,
        "errors": errors,
    }
    return page(request, "staff_list.html", context, status=status)


def scenario_context(request: HttpRequest, scenario: Any) -> dict[str, Any]:
    versions = list(scenario.versions.order_by("-number"))
    counts = dict(
        scope.enrollments_for(request.user)
        .filter(scenario=scenario)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {
        "scenario": scenario,
        "versions": [
            {"v": v, "open_from": shown(v.open_from), "open_until": shown(v.open_until)}
            for v in versions
        ],
        "published": next((v for v in versions if v.status == VersionStatus.PUBLISHED), None),
        "counts": [(s.label, counts.get(s.value, 0)) for s in EnrollmentStatus],
        "rankings": scope.rankings_for(request.user)
        .filter(version__scenario=scenario)
        .order_by("-frozen_at"),
        "center": access.role_of(request.user) == Role.CENTER,
        "errors": FieldErrors(),
    }


@login_required
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, STAFF)
    scenario = scope.scenario_or_404(request, pk)
    return page(request, "staff_scenario.html", scenario_context(request, scenario))


def _scenario_action(request: HttpRequest, scenario: Any, action, *args, **kwargs) -> Any:
    try:
        return attempt(request, action, *args, **kwargs)
    except Refused as refused:
        context = scenario_context(request, scenario)
        context["errors"] = refused.errors
        return page(request, "staff_scenario.html", context, status=refused.status)


@login_required
@require_POST
def scenario_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, STAFF)
    scenario = scope.scenario_or_404(request, pk)
    outcome = _scenario_action(
        request,
        scenario,
        scenarios.evaluate_enrollments,
        scenario,
        now=clock.now(),
        user=request.user,
    )
    if isinstance(outcome, HttpResponse):
        return outcome
    messages.success(
        request,
        _("Evaluated %(n)s: %(eligible)s eligible, %(ineligible)s ineligible, %(blocked)s blocked.")
        % {
            "n": outcome.evaluated,
            "eligible": outcome.eligible,
            "ineligible": outcome.ineligible,
            "blocked": outcome.blocked,
        },
    )
    return redirect("web:staff_scenario", scenario.pk)


@login_required
@require_POST
def scenario_freeze(request: HttpRequest, pk: int) -> HttpResponse:
    from jifen.rankings.services import freeze_ranking

    access.require_role(request, CENTER_ONLY)
    scenario = scope.scenario_or_404(request, pk)
    version = scenario.published_version()
    if version is None:
        context = scenario_context(request, scenario)
        context["errors"].add("version", _("The scenario has no published version."))
        return page(request, "staff_scenario.html", context, status=409)
    ranking = _scenario_action(
        request, scenario, freeze_ranking, version=version, user=request.user, now=clock.now()
    )
    if isinstance(ranking, HttpResponse):
        return ranking
    return redirect("web:staff_ranking", ranking.pk)


# --- draft versions ---------------------------------------------------------------------------


@login_required
def version_draft(request: HttpRequest, pk: int, number: int | None = None) -> HttpResponse:
    """A new draft (``number`` None: prefilled from the newest version) or edit a draft."""
    access.require_role(request, CENTER_ONLY)
    scenario = scope.scenario_or_404(request, pk)
    version = None
    if number is not None:
        version = scenario.versions.filter(number=number).first()
        if version is None:
            raise access.not_found(request, "scenarios.scenarioversion", number)
    newest = scenario.versions.order_by("-number").first()
    source = version or newest
    values = content_to_form(source.content) if source is not None else dict(EMPTY_FORM)
    errors = FieldErrors()
    status = 200
    if request.method == "POST":
        values = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        try:
            saved = attempt(
                request,
                scenarios.draft_version,
                scenario=scenario,
                content=form_to_content(request.POST),
                user=request.user,
                now=clock.now(),
                version=version,
            )
        except Refused as refused:
            errors, status = refused.errors, refused.status
        else:
            messages.success(request, _("Draft version %(n)s saved.") % {"n": saved.number})
            return redirect("web:staff_scenario", scenario.pk)
    context = {
        "scenario": scenario,
        "version": version,
        "values": values,
        "errors": errors,
        "editable": version is None or version.status == VersionStatus.DRAFT,
    }
    return page(request, "staff_draft.html", context, status=status)


@login_required
@require_POST
def version_publish(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    access.require_role(request, CENTER_ONLY)
    scenario = scope.scenario_or_404(request, pk)
    version = scenario.versions.filter(number=number).first()
    if version is None:
        raise access.not_found(request, "scenarios.scenarioversion", number)
    done = _scenario_action(
        request, scenario, scenarios.publish_version, version, user=request.user, now=clock.now()
    )
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, _("Version %(n)s published.") % {"n": number})
    return redirect("web:staff_scenario", scenario.pk)


# --- enrollments ---------------------------------------------------------------------------------


@login_required
def enrollment_list(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, STAFF)
    scenario = scope.scenario_or_404(request, pk)
    enrollments = scope.enrollments_for(request.user).filter(scenario=scenario)
    status = request.GET.get("status", "")
    if status in EnrollmentStatus.values:
        enrollments = enrollments.filter(status=status)
    else:
        status = ""
    rows = [
        {"e": e, "name": mask_name(e.resident.name), "applied_at": shown(e.applied_at)}
        for e in enrollments.order_by("number")[:500]
    ]
    return page(
        request,
        "staff_enrollments.html",
        {
            "scenario": scenario,
            "rows": rows,
            "status": status,
            "statuses": EnrollmentStatus.choices,
        },
    )


# --- rankings ------------------------------------------------------------------------------------


def ranking_context(request: HttpRequest, ranking: Any) -> dict[str, Any]:
    from jifen.rankings.services import minimum_end

    version = ranking.version
    labels = {q["key"]: q.get("label") or q["key"] for q in version.content.get("quotas", [])}
    publication = getattr(ranking, "publication", None)
    today = clock.china_today()
    entries = ranking.entries.select_related("enrollment__resident").order_by("rank")[:1000]
    role = access.role_of(request.user)
    try:
        earliest = minimum_end(today, now=clock.now())
    except DOMAIN_ERRORS:
        earliest = None
    return {
        "ranking": ranking,
        "version": version,
        "scenario": version.scenario,
        "frozen_at": shown(ranking.frozen_at),
        "publication": publication,
        "public": publication is not None and publication.is_visible_on(today),
        "entries": [
            {
                "e": e,
                "name": mask_name(e.enrollment.resident.name),
                "allocation": labels.get(e.quota_key, e.quota_key) if e.quota_key else "",
                "items": breakdown_rows(e.breakdown, version.evaluation_date),
            }
            for e in entries
        ],
        "center": role == Role.CENTER,
        "provider": role == Role.CENTER
        or (role == Role.REVIEWER and request.user.department_id == version.scenario.department_id),
        "today": today,
        "earliest_end": earliest,
        "outcomes": [(o.value, o.label) for o in Outcome if o != Outcome.CANCELLED],
        "errors": FieldErrors(),
        "values": {},
    }


@login_required
def ranking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, STAFF)
    ranking = scope.ranking_or_404(request, pk)
    return page(request, "staff_ranking.html", ranking_context(request, ranking))


RANKING_ACTIONS = ("publish", "correct", "finalise", "outcome")


@login_required
@require_POST
def ranking_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    from jifen.rankings import services as rankings

    access.require_role(request, STAFF)
    ranking = scope.ranking_or_404(request, pk)
    if action not in RANKING_ACTIONS:
        raise access.not_found(request, "rankings.ranking.action", action)
    if action != "outcome":
        access.require_role(request, CENTER_ONLY)
    now, user, post = clock.now(), request.user, request.POST
    values = {k: v for k, v in post.items() if k != "csrfmiddlewaretoken"}
    try:
        if action == "publish":
            starts, ends = _date(post.get("starts_on", "")), _date(post.get("ends_on", ""))
            attempt(
                request,
                rankings.publish,
                ranking=ranking,
                starts_on=starts,
                ends_on=ends,
                user=user,
                now=now,
            )
            messages.success(request, _("The list is published."))
        elif action == "correct":
            changes = []
            for line in (post.get("changes") or "").splitlines():
                number, _sep, why = line.partition("|")
                if number.strip():
                    changes.append({"number": number.strip(), "why": why.strip()})
            publication = attempt(
                request,
                rankings.publish_corrected,
                ranking=ranking,
                reason=post.get("reason", ""),
                changes=changes,
                user=user,
                now=now,
            )
            messages.success(request, _("The corrected list is published."))
            return redirect("web:staff_ranking", publication.ranking_id)
        elif action == "finalise":
            attempt(request, rankings.finalise, ranking, user=user, now=now)
            messages.success(request, _("The list is final."))
        else:
            entry = ranking.entries.filter(pk=_int_or_none(post.get("entry"))).first()
            if entry is None:
                raise access.not_found(request, "rankings.rankingentry", post.get("entry"))
            attempt(
                request,
                rankings.record_outcome,
                entry,
                post.get("outcome", ""),
                user=user,
                now=now,
                note=post.get("note", "")[:2000],
            )
            messages.success(request, _("Outcome recorded for %(n)s.") % {"n": entry.number})
    except Refused as refused:
        ranking.refresh_from_db()
        context = ranking_context(request, ranking)
        context.update(errors=refused.errors, values=values)
        return page(request, "staff_ranking.html", context, status=refused.status)
    return redirect("web:staff_ranking", ranking.pk)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- re-examinations ----------------------------------------------------------------------------


@login_required
def reexamination_queue(request: HttpRequest) -> HttpResponse:
    access.require_role(request, STAFF)
    items = scope.reexaminations_for(request.user).select_related(
        "enrollment__scenario", "department"
    )
    state = request.GET.get("state", "open")
    if state == "open":
        items = items.filter(state__in=OPEN_STATES)
    elif state in ReexaminationState.values:
        items = items.filter(state=state)
    else:
        state = "all"
    rows = [
        {"r": r, "name": mask_name(r.resident.name), "filed_at": shown(r.filed_at)}
        for r in items.order_by("due_on", "filed_at")[:500]
    ]
    return page(
        request,
        "staff_reexaminations.html",
        {
            "rows": rows,
            "state": state,
            "states": [("open", _("open")), ("all", _("all")), *ReexaminationState.choices],
        },
    )


def reexamination_context(request: HttpRequest, r: Any) -> dict[str, Any]:
    from jifen.reexaminations import routing
    from jifen.scores.services import select_policies

    version = r.enrollment.version
    try:
        codes = routing.item_codes(r.item, select_policies(version.evaluation_date))
    except Exception:
        codes = []
    return {
        "r": r,
        "name": mask_name(r.resident.name),
        "filed_at": shown(r.filed_at),
        "decided_at": shown(r.decided_at),
        "item_label": dict(
            (c, label) for c, label, _p in breakdown_rows({r.item: ""}, version.evaluation_date)
        ).get(r.item, r.item),
        "codes": codes,
        "files": r.evidence.filter(pk__in=access.evidence_for(request.user).values("pk")),
        "errors": FieldErrors(),
        "values": {},
    }


@login_required
def reexamination_detail(request: HttpRequest, pk) -> HttpResponse:
    access.require_role(request, STAFF)
    r = scope.reexamination_or_404(request, pk)
    return page(request, "staff_reexamination.html", reexamination_context(request, r))


@login_required
@require_POST
def reexamination_action(request: HttpRequest, pk, action: str) -> HttpResponse:
    from jifen.reexaminations.services import FactChange, accept, decide

    access.require_role(request, STAFF)
    r = scope.reexamination_or_404(request, pk)
    post = request.POST
    values = {k: v for k, v in post.items() if k != "csrfmiddlewaretoken"}
    try:
        if action == "accept":
            attempt(request, accept, r, user=request.user, now=clock.now())
        elif action == "decide":
            outcome = post.get("outcome", "")
            changes = []
            if outcome == ReexaminationState.UPHELD and post.get("code", "").strip():
                changes.append(
                    FactChange(
                        code=post.get("code", "").strip(),
                        key=post.get("key", "").strip(),
                        level=post.get("level", "").strip(),
                        quantity=post.get("quantity", "").strip() or None,
                        date=_date(post.get("date", "")),
                    )
                )
            attempt(
                request,
                decide,
                r,
                user=request.user,
                outcome=outcome,
                reason=post.get("reason", ""),
                changes=changes,
                now=clock.now(),
            )
        else:
            raise access.not_found(request, "reexaminations.reexamination.action", action)
    except Refused as refused:
        r.refresh_from_db()
        context = reexamination_context(request, r)
        context.update(errors=refused.errors, values=values)
        return page(request, "staff_reexamination.html", context, status=refused.status)
    return redirect("web:staff_reexamination", r.pk)


# --- fraud cases ------------------------------------------------------------------------------


@login_required
def fraud_list(request: HttpRequest) -> HttpResponse:
    from jifen.sanctions.services import propose

    access.require_role(request, STAFF)
    errors = FieldErrors()
    values = {"resident": request.GET.get("resident", ""), "grounds": ""}
    status = 200
    if request.method == "POST":
        values = {
            "resident": request.POST.get("resident", "").strip()[:40],
            "grounds": request.POST.get("grounds", "")[:4000],
        }
        resident = access.resident_or_404(request, _uuid_text(values["resident"]))
        now = clock.now()

        def run():
            files = [
                store_upload(
                    upload,
                    resident=resident,
                    user=request.user,
                    now=now,
                    already_attached=i,
                    field="evidence",
                    request=request,
                )
                for i, upload in enumerate(request.FILES.getlist("evidence"))
            ]
            return propose(
                resident=resident,
                user=request.user,
                grounds=values["grounds"],
                evidence=files,
                now=now,
            )

        try:
            case = attempt(request, run)
        except Refused as refused:
            errors, status = refused.errors, refused.status
        else:
            messages.success(request, _("Fraud case %(n)s proposed.") % {"n": case.number})
            return redirect("web:staff_fraud_case", case.pk)
    cases = scope.fraud_cases_for(request.user).order_by("-proposed_at")[:200]
    return page(
        request,
        "staff_fraud.html",
        {
            "rows": [
                {"c": c, "name": mask_name(c.resident.name), "at": shown(c.proposed_at)}
                for c in cases
            ],
            "values": values,
            "errors": errors,
        },
        status=status,
    )


def _uuid_text(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        return "00000000-0000-0000-0000-000000000000"


@login_required
def fraud_case(request: HttpRequest, pk) -> HttpResponse:
    from jifen.sanctions.services import confirm, reject

    access.require_role(request, STAFF)
    case = scope.fraud_case_or_404(request, pk)
    errors = FieldErrors()
    status = 200
    if request.method == "POST":
        access.require_role(request, CENTER_ONLY)
        action = confirm if request.POST.get("decision") == "confirm" else reject
        try:
            attempt(
                request,
                action,
                case,
                user=request.user,
                reason=request.POST.get("reason", "")[:4000],
                now=clock.now(),
            )
        except Refused as refused:
            errors, status = refused.errors, refused.status
        else:
            return redirect("web:staff_fraud_case", case.pk)
    case.refresh_from_db()
    return page(
        request,
        "staff_fraud_case.html",
        {
            "c": case,
            "name": mask_name(case.resident.name),
            "proposed_at": shown(case.proposed_at),
            "decided_at": shown(case.confirmed_at or case.rejected_at),
            "center": access.role_of(request.user) == Role.CENTER,
            "errors": errors,
        },
        status=status,
    )
