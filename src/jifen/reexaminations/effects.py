"""What an upheld re-examination does outside this app: re-evaluate the enrollment
(``jifen.scenarios``) and publish the corrected list (``jifen.rankings``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jifen.accounts.models import User


def reevaluate(enrollment: Any, *, user: User, now: dt.datetime) -> Any:
    """Evaluate this one enrollment again (its version's evaluation and review dates) and
    return it fresh from the database."""
    from jifen.audit.actors import Actor
    from jifen.scenarios.models import Enrollment
    from jifen.scenarios.services.evaluation import evaluate_enrollments

    evaluate_enrollments(
        enrollment.version,
        now=now,
        actor=Actor.for_user(user),
        enrollments=[enrollment.pk],
    )
    return Enrollment.objects.select_related("version", "resident").get(pk=enrollment.pk)


def publish_correction(
    publication: Any,
    *,
    enrollment: Any,
    reason: str,
    why: str,
    change: dict[str, Any],
    user: User,
    now: dt.datetime,
) -> Any:
    """Publish the corrected list of ``publication``'s ranking; ``why`` is the stated reason
    for ``enrollment``'s change (every other move is listed as its consequence)."""
    from jifen.rankings.services import publish_corrected

    return publish_corrected(
        ranking=publication.ranking,
        reason=why,
        changes=[{"number": enrollment.number, "why": why}],
        user=user,
        now=now,
    )


def entry_change(old_publication: Any, new_publication: Any, enrollment: Any) -> dict[str, Any]:
    """Rank and allocation of ``enrollment`` on the old and the corrected list."""
    from jifen.rankings.models import RankingEntry

    def state(publication):
        entry = RankingEntry.objects.filter(
            ranking_id=publication.ranking_id, enrollment_id=enrollment.pk
        ).first()
        if entry is None:
            return None, None
        return entry.rank, entry.quota_key or None

    old_rank, old_quota = state(old_publication)
    new_rank, new_quota = state(new_publication)
    return {"rank": [old_rank, new_rank], "allocation": [old_quota, new_quota]}
