"""The places a resident obtained with their points, and their cancellation.

A place is a :class:`jifen.rankings.models.RankingEntry` of the resident's enrollment on a
published or final list (the live one, not superseded) with a quota allocated and not
cancelled or declined. Each is cancelled through ``jifen.rankings`` ``cancel_place``, which
re-runs the allocation with the cancelled numbers passed over (the next applicants move up per
the scenario's rules) and tells the resident and everyone who moved up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext

from jifen.accounts.models import User


def places_of(resident_id: Any):
    from jifen.rankings.models import Outcome, RankingEntry, RankingState

    return (
        RankingEntry.objects.filter(
            enrollment__resident_id=resident_id,
            ranking__state__in=(RankingState.PUBLISHED, RankingState.FINAL),
        )
        .exclude(quota_key="")
        .exclude(outcome__in=(Outcome.CANCELLED, Outcome.DECLINED))
        .select_related("ranking", "ranking__version")
        .order_by("ranking_id", "rank")
    )


def cancel_all(case: Any, *, user: User, now: dt.datetime) -> list[dict[str, Any]]:
    """Cancel every place of ``case.resident``; what happened, per place (no personal data)."""
    from jifen.rankings.services import cancel_place

    done = []
    reason = gettext("Fraud case %(number)s: points obtained with false materials.") % {
        "number": case.number
    }
    for entry in list(places_of(case.resident_id)):
        quotas = {q.key: q.label for q in entry.ranking.version.quotas.all()}
        label = quotas.get(entry.quota_key, entry.quota_key)
        moved = cancel_place(entry, reason=reason, user=user, now=now)
        done.append(
            {
                "ranking": entry.ranking_id,
                "entry": entry.pk,
                "enrollment": entry.number,
                "quota": entry.quota_key,
                "label": label,
                "moved_up": [
                    {
                        "enrollment": other.number,
                        "quota": other.quota_key,
                        "label": quotas.get(other.quota_key, other.quota_key),
                    }
                    for other in moved
                ],
            }
        )
    return done
