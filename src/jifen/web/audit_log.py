"""The audit administrator's page: search the audit log and verify its hash chain.

The audit administrator reads the log and nothing else (security.md); every other role gets
403. Reading the log is itself audited (``audit.searched``, ``audit.verified``): who looked
at what is part of the record. Entries hold no personal data in clear (``audit.services``),
so the page shows them as stored.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.audit.actors import Actor
from jifen.audit.chain import verify_chain
from jifen.audit.choices import Result
from jifen.audit.models import AuditEntry
from jifen.audit.services import record

AUDIT_ROLES = frozenset({Role.AUDITOR})
PAGE_SIZE = 50
#: The filters of the search form: name → (label, lookup).
TEXT_FILTERS = {
    "action": (_("Action (prefix)"), "action__startswith"),
    "actor": (_("Actor id"), "actor_id"),
    "unit": (_("Department or town code"), "actor_unit"),
    "object_type": (_("Object type"), "object_type"),
    "object_id": (_("Object id"), "object_id"),
    "request_id": (_("Request id"), "request_id"),
}


def _date(value: str, field: str, errors: dict[str, str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[field] = str(_("Enter a date as YYYY-MM-DD."))
        return None


def search_entries(params: dict[str, str]) -> tuple[QuerySet[AuditEntry], dict[str, str]]:
    """The entries matching ``params`` (the form's fields), newest first, and field errors."""
    errors: dict[str, str] = {}
    entries = AuditEntry.objects.order_by("-sequence")
    for name, (_label, lookup) in TEXT_FILTERS.items():
        value = params.get(name, "").strip()[:100]
        if value:
            entries = entries.filter(**{lookup: value})
    result = params.get("result", "")
    if result:
        if result in Result.values:
            entries = entries.filter(result=result)
        else:
            errors["result"] = str(_("Choose a result from the list."))
    since = _date(params.get("since", ""), "since", errors)
    until = _date(params.get("until", ""), "until", errors)
    if since and until and since > until:
        errors["until"] = str(_("The end date is before the start date."))
    # Dates are China dates: the log stores UTC.
    if since:
        entries = entries.filter(
            occurred_at__gte=dt.datetime.combine(since, dt.time(), tzinfo=clock.CHINA)
        )
    if until:
        entries = entries.filter(
            occurred_at__lt=dt.datetime.combine(
                until + dt.timedelta(days=1), dt.time(), tzinfo=clock.CHINA
            )
        )
    if errors:
        entries = entries.none()
    return entries, errors


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    access.require_role(request, AUDIT_ROLES)
    params = {k: v for k, v in request.GET.items() if k != "page"}
    entries, errors = search_entries(params)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    # Read the page before this search's own entry is written, so count and rows agree.
    page.object_list = list(page.object_list)
    record(
        "audit.searched",
        actor=Actor.for_user(request.user),
        occurred_at=clock.now(),
        object_type="audit.auditentry",
        data={"filters": {k: v[:100] for k, v in params.items() if v}, "page": page.number},
        request=request,
    )
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return render(
        request,
        "web/audit/log.html",
        {
            "page": page,
            "params": params,
            "errors": errors,
            "filters": [
                (name, label, params.get(name, "")) for name, (label, _l) in TEXT_FILTERS.items()
            ],
            "results": Result.choices,
            "query": query,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    access.require_role(request, AUDIT_ROLES)
    report = verify_chain()
    record(
        "audit.verified",
        actor=Actor.for_user(request.user),
        occurred_at=clock.now(),
        object_type="audit.auditentry",
        result=Result.SUCCESS if report.ok else Result.FAILURE,
        data={
            "ok": report.ok,
            "checked": report.checked,
            "broken_sequence": report.broken_sequence,
        },
        request=request,
    )
    return render(request, "web/audit/verify.html", {"report": report})
