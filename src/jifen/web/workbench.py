"""The staff workbench: find a resident, read their facts, scores and permits; feed reports.

Every query goes through :mod:`jifen.accounts.access`; every view of a resident's personal data
is audited (``resident.searched``, ``resident.viewed``, ``resident.identity_revealed``).
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from jifen.accounts import access, auditing, clock
from jifen.identity import normalise_identity_number
from jifen.residents.models import PermitStatusChange, Resident
from jifen.residents.pii import identity_index, permit_index
from jifen.web.explain import build_score_view, fact_view, policy_set

SEARCH_LIMIT = 50
NAME_MIN_LENGTH = 2
_IDENTITY_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
SEARCH_KINDS = ("identity_number", "permit_number", "name")


def guess_kind(term: str) -> str:
    """What a single search box holds: an identity number, a permit number or a name."""
    if _IDENTITY_SHAPE.match(normalise_identity_number(term)):
        return "identity_number"
    if any(ch.isdigit() for ch in term):
        return "permit_number"
    return "name"


def search_residents(user, kind: str, term: str) -> QuerySet[Resident]:
    """Exact identity or permit number, or part of a name — always inside the user's scope."""
    residents = access.residents_for(user, "search").select_related("town")
    term = term.strip()
    if kind == "identity_number":
        return residents.filter(identity_number_index=identity_index(term))
    if kind == "permit_number":
        return residents.filter(permits__number_index=permit_index(term)).distinct()
    if len(term) < NAME_MIN_LENGTH:
        return residents.none()
    return residents.filter(name__contains=term)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    access.require_role(request, access.WORKBENCH_ROLES)
    term = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("by", "")
    if kind not in SEARCH_KINDS:
        kind = guess_kind(term) if term else "identity_number"
    results: list[Resident] | None = None
    if term:
        results = list(search_residents(request.user, kind, term)[:SEARCH_LIMIT])
        auditing.resident_search(request, by=kind, resident_ids=[str(r.pk) for r in results])
    context = {
        "term": term,
        "kind": kind,
        "kinds": SEARCH_KINDS,
        "results": results,
        "limit": SEARCH_LIMIT,
        "name_min_length": NAME_MIN_LENGTH,
    }
    template = "web/workbench/_results.html" if request.headers.get("HX-Request") else None
    return render(request, template or "web/workbench/search.html", context)


def resident_context(request: HttpRequest, resident: Resident) -> dict:
    user = request.user
    facts = list(access.facts_for(user, resident).order_by("kind", "code", "recorded_at", "id"))
    scores = list(access.scores_for(user, resident).order_by("-computed_at", "-id")[:50])
    current = next((s for s in scores if s.is_current), None)
    history = Prefetch("history", queryset=PermitStatusChange.objects.order_by("effective_on"))
    permits = list(
        access.permits_for(user, resident).order_by("-issued_on").prefetch_related(history)
    )
    view = None
    if current is not None:
        used = [f for f in facts if f.pk in set(current.fact_ids or [])] or [
            f for f in facts if f.superseded_at is None
        ]
        view = build_score_view(access.visible_result(user, current), used)
    policies = list(
        policy_set().in_force(current.evaluation_date if current else clock.china_today())
    )
    return {
        "resident": resident,
        "current_facts": [fact_view(f, policies) for f in facts if f.superseded_at is None],
        "superseded_facts": [fact_view(f, policies) for f in facts if f.superseded_at is not None],
        "scores": scores,
        "current": current,
        "view": view,
        "permits": permits,
        "can_reveal": access.can_reveal_identity(user, resident),
        "revealed": None,
    }


@login_required
def resident_detail(request: HttpRequest, pk) -> HttpResponse:
    access.require_role(request, access.WORKBENCH_ROLES)
    resident = access.resident_or_404(request, pk)
    context = resident_context(request, resident)
    auditing.resident_event("resident.viewed", request, resident, data={"view": "page"})
    return render(request, "web/workbench/resident.html", context)


@require_POST
@login_required
def reveal_identity(request: HttpRequest, pk) -> HttpResponse:
    """Show the full identity number (clerk of the resident's town, center); audited."""
    access.require_role(request, access.IDENTITY_REVEAL_ROLES)
    resident = access.resident_or_404(request, pk)
    if not access.can_reveal_identity(request.user, resident):  # in scope, not allowed
        raise access.not_found(request, "residents.resident", pk)
    auditing.resident_event("resident.identity_revealed", request, resident)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "web/workbench/_identity.html",
            {"resident": resident, "revealed": resident.identity_number, "can_reveal": True},
        )
    context = resident_context(request, resident)
    context["revealed"] = resident.identity_number
    return render(request, "web/workbench/resident.html", context)


@login_required
def feed_batches(request: HttpRequest) -> HttpResponse:
    access.require_role(request, access.FEED_REPORT_ROLES)
    page = Paginator(access.batches_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "web/workbench/feeds.html", {"page": page})


@login_required
def feed_batch(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_role(request, access.FEED_REPORT_ROLES)
    batch = access.batch_or_404(request, pk)
    rows = batch.report if isinstance(batch.report, list) else []
    columns: list[str] = []
    for row in rows:
        if isinstance(row, dict):
            columns += [k for k in row if k not in columns]
    table = [
        [row.get(c, "") if isinstance(row, dict) else "" for c in columns]
        for row in rows
        if isinstance(row, dict)
    ]
    return render(
        request, "web/workbench/batch.html", {"batch": batch, "columns": columns, "rows": table}
    )
