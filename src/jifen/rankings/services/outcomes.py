"""After publication: the final list, outcomes per applicant, and cancelled places.

- :func:`finalise` — the center makes a published list final once its publication and
  re-examination windows are over (audited ``ranking.finalised``).
- :func:`record_outcome` — the providing department (or the center) records admitted /
  waitlisted / declined per applicant of a final list (audited ``ranking.outcome_recorded``;
  the applicant is told).
- :func:`cancel_place` — a place is cancelled (a confirmed fraud case): the entry's outcome
  becomes ``cancelled`` and the allocation is run again over the stored inputs in rank order,
  passing over every cancelled entry; whoever gets a place they did not have (or a preference
  they rank higher) moves up. Serial allocation guarantees that nobody else loses a place.
  Audited ``ranking.place_cancelled`` with the moves; the applicant who lost the place and
  those who move up are notified.

A declined place is not re-allocated by these services (the department records the decline;
a cancellation re-runs the allocation with only cancelled entries passed over).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.rankings import engine
from jifen.rankings.errors import InvalidValue, TransitionNotAllowed
from jifen.rankings.models import Outcome, Ranking, RankingEntry, RankingState
from jifen.rankings.services._common import (
    audit,
    china_date,
    lock_ranking,
    notify_applicant,
    require_center,
    require_provider,
)

logger = logging.getLogger(__name__)

RECORDABLE = (Outcome.ADMITTED, Outcome.WAITLISTED, Outcome.DECLINED)


def _link(entry: RankingEntry) -> str:
    return f"/me/enrollments/{entry.enrollment_id}/"


def _quota_labels(ranking: Ranking) -> dict[str, str]:
    return {q["key"]: q.get("label") or q["key"] for q in ranking.inputs.get("quotas", [])}


def finalise(ranking: Ranking, *, user: User, now: dt.datetime) -> Ranking:
    """Make a published list final (center only), after its windows are over: the day after
    the later of the publication's end and the re-examination answers deadline."""
    require_center(user)
    with transaction.atomic():
        ranking = lock_ranking(ranking)
        if ranking.state != RankingState.PUBLISHED:
            raise TransitionNotAllowed(
                _("Only a published list can become final."), field="ranking"
            )
        publication = ranking.publication
        if china_date(now) <= publication.visible_until:
            raise TransitionNotAllowed(
                _(
                    "The list becomes final after its publication and re-examination windows, "
                    "from %(date)s."
                )
                % {"date": (publication.visible_until + dt.timedelta(days=1)).isoformat()},
                field="ranking",
            )
        ranking.state = RankingState.FINAL
        ranking.finalised_at = now
        ranking.finalised_by = user
        ranking.save(update_fields=["state", "finalised_at", "finalised_by"])
        audit(
            "ranking.finalised",
            user=user,
            obj=ranking,
            now=now,
            data={"ranking": ranking.pk, "content_hash": ranking.content_hash},
        )
    return ranking


def _lock_entry(entry: RankingEntry | int) -> tuple[Ranking, RankingEntry]:
    pk = entry.pk if isinstance(entry, RankingEntry) else entry
    ranking_id = RankingEntry.objects.values_list("ranking_id", flat=True).get(pk=pk)
    ranking = lock_ranking(ranking_id)
    entry = (
        RankingEntry.objects.select_for_update(of=("self",))
        .select_related("enrollment__resident")
        .get(pk=pk)
    )
    return ranking, entry


def record_outcome(
    entry: RankingEntry,
    outcome: str,
    *,
    user: User,
    now: dt.datetime,
    note: str = "",
) -> RankingEntry:
    """Record the outcome of one applicant of a final list (providing department or
    center): ``admitted`` (only with a place), ``waitlisted`` or ``declined``."""
    if outcome not in RECORDABLE:
        raise InvalidValue(
            _("The outcome is one of: admitted, waitlisted, declined."), field="outcome"
        )
    note = (note or "").strip()[:2000] if isinstance(note, str) else ""
    with transaction.atomic():
        ranking, entry = _lock_entry(entry)
        require_provider(user, ranking)
        if ranking.state != RankingState.FINAL:
            raise TransitionNotAllowed(
                _("Outcomes are recorded on the final list."), field="ranking"
            )
        if entry.outcome == Outcome.CANCELLED:
            raise TransitionNotAllowed(_("This place has been cancelled."), field="outcome")
        if outcome == Outcome.ADMITTED and not entry.quota_key:
            raise InvalidValue(
                _("Only an applicant with an allocated place can be admitted."), field="outcome"
            )
        before = entry.outcome
        entry.outcome = outcome
        entry.outcome_note = note
        entry.recorded_at = now
        entry.recorded_by = user
        entry.save(update_fields=["outcome", "outcome_note", "recorded_at", "recorded_by"])
        audit(
            "ranking.outcome_recorded",
            user=user,
            obj=entry,
            now=now,
            data={
                "ranking": ranking.pk,
                "entry": entry.pk,
                "number": entry.number,
                "before": before,
                "after": outcome,
                "quota": entry.quota_key or None,
            },
        )
        scenario = ranking.version.scenario
        notify_applicant(
            entry.enrollment,
            kind="ranking.outcome_recorded",
            subject=_("Outcome of your application %(number)s") % {"number": entry.number},
            body=_("%(scenario)s: your application %(number)s has the outcome “%(outcome)s”.")
            % {
                "scenario": scenario.name,
                "number": entry.number,
                "outcome": Outcome(outcome).label,
            },
            link=_link(entry),
            now=now,
        )
    return entry


def reallocate(ranking: Ranking, skip: frozenset[str]) -> dict[str, str | None]:
    """The allocation of ``ranking``'s stored inputs with the numbers in ``skip`` passed
    over: ``{number: quota key or None}`` (pure, over the snapshot)."""
    inputs = ranking.inputs
    ordered = engine.order(inputs)
    allocation = engine.allocate(ordered, inputs["quotas"], skip=skip)
    return {row["number"]: quota for row, quota in zip(ordered, allocation, strict=True)}


def cancel_place(
    entry: RankingEntry, *, reason: str, user: User, now: dt.datetime
) -> list[RankingEntry]:
    """Cancel ``entry``'s place (center or providing department; used by sanctions) and move
    the next applicants up; returns the entries that moved (their new ``quota_key``)."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidValue(_("Say why the place is cancelled."), field="reason")
    with transaction.atomic():
        ranking, entry = _lock_entry(entry)
        require_provider(user, ranking)
        if ranking.state not in (RankingState.PUBLISHED, RankingState.FINAL):
            raise TransitionNotAllowed(
                _("Places are cancelled on a published or final list."), field="ranking"
            )
        if entry.outcome == Outcome.CANCELLED:
            raise TransitionNotAllowed(_("This place has been cancelled already."), field="entry")
        freed = entry.quota_key or None
        entry.outcome = Outcome.CANCELLED
        entry.outcome_note = reason[:2000]
        entry.recorded_at = now
        entry.recorded_by = user
        entry.quota_key = ""
        entry.save(
            update_fields=["outcome", "outcome_note", "recorded_at", "recorded_by", "quota_key"]
        )
        skip = frozenset(
            RankingEntry.objects.filter(ranking=ranking, outcome=Outcome.CANCELLED).values_list(
                "number", flat=True
            )
        )
        wanted = reallocate(ranking, skip)
        current = dict(
            RankingEntry.objects.filter(ranking=ranking)
            .exclude(outcome=Outcome.CANCELLED)
            .values_list("number", "quota_key")
        )
        moves = []
        for number, quota in wanted.items():
            if number in skip or quota is None:
                if number not in skip and current.get(number):
                    # Serial allocation never takes a place away; keep it if it ever would.
                    logger.error("re-allocation would remove %s's place: kept", number)
                continue
            if (current.get(number) or None) != quota:
                moves.append((number, current.get(number) or None, quota))
        moved: list[RankingEntry] = []
        by_number = {
            e.number: e
            for e in RankingEntry.objects.select_for_update(of=("self",))
            .filter(ranking=ranking, number__in=[m[0] for m in moves])
            .select_related("enrollment__resident")
        }
        for number, _before, quota in moves:
            other = by_number[number]
            other.quota_key = quota
            other.moved_up_at = now
            if other.outcome in (Outcome.WAITLISTED, Outcome.ADMITTED):
                other.outcome = ""  # a new offer: the department records the outcome again
            other.save(update_fields=["quota_key", "moved_up_at", "outcome"])
            moved.append(other)
        audit(
            "ranking.place_cancelled",
            user=user,
            obj=entry,
            now=now,
            data={
                "ranking": ranking.pk,
                "entry": entry.pk,
                "number": entry.number,
                "quota": freed,
                "reason": reason[:500],
                "moved": [{"number": n, "from": a, "to": b} for n, a, b in moves],
            },
        )
        labels = _quota_labels(ranking)
        scenario = ranking.version.scenario
        notify_applicant(
            entry.enrollment,
            kind="ranking.place_cancelled",
            subject=_("Your place has been cancelled (%(number)s)") % {"number": entry.number},
            body=_(
                "%(scenario)s: the place of your application %(number)s is cancelled: %(reason)s"
            )
            % {"scenario": scenario.name, "number": entry.number, "reason": reason},
            link=_link(entry),
            now=now,
        )
        for other in moved:
            notify_applicant(
                other.enrollment,
                kind="ranking.moved_up",
                subject=_("A place for your application %(number)s") % {"number": other.number},
                body=_(
                    "%(scenario)s: a place has become free; your application %(number)s "
                    "(rank %(rank)s) now has a place: %(place)s."
                )
                % {
                    "scenario": scenario.name,
                    "number": other.number,
                    "rank": other.rank,
                    "place": labels.get(other.quota_key, other.quota_key),
                },
                link=_link(other),
                now=now,
            )
    return moved
