"""The resident portal: "my points" (我的积分)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from jifen.accounts import access, clock
from jifen.accounts.models import Role
from jifen.audit.actors import Actor
from jifen.residents.models import Resident
from jifen.scores.models import Score
from jifen.web.explain import build_score_view

RESIDENT_ONLY = frozenset({Role.RESIDENT})


def first_score(request: HttpRequest, resident: Resident) -> Score | None:
    """A resident with no stored score yet gets one computed now; None when their facts
    cannot be scored yet (the page then says "not scored yet")."""
    from jifen.scores.errors import ScoreError
    from jifen.scores.services import recompute_resident

    try:
        return recompute_resident(
            resident, on=clock.china_today(), now=clock.now(), actor=Actor.for_user(request.user)
        )
    except ScoreError:
        return None


def current_score(request: HttpRequest, resident: Resident) -> Score | None:
    score = access.scores_for(request.user, resident).filter(is_current=True).first()
    return score if score is not None else first_score(request, resident)


def facts_of_score(request: HttpRequest, resident: Resident, score: Score) -> list:
    facts = access.facts_for(request.user, resident)
    if score.fact_ids:
        return list(facts.filter(pk__in=score.fact_ids))
    return list(facts.current())


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    access.require_role(request, RESIDENT_ONLY)
    resident = access.resident_or_404(request, request.user.resident_id)
    score = current_score(request, resident)
    permit = access.permits_for(request.user, resident).order_by("-issued_on").first()
    context = {"resident": resident, "score": score, "permit": permit, "view": None}
    if score is not None:
        result = access.visible_result(request.user, score)
        context["view"] = build_score_view(result, facts_of_score(request, resident, score))
    return render(request, "web/portal.html", context)
