"""Stored scores: compute, recompute (one resident or a batch), verify, and request recomputes.

A stored :class:`~jifen.scores.models.Score` holds the engine's full result with its
explanation (``ScoreResult.as_dict()``), the policy versions and hashes, the evaluation and
review dates, the ids of the facts it used, and its status: valid, or lapsed while the
resident's residence permit is suspended or cancelled (or missing). It can be reproduced from
those stored inputs (:func:`verify_score`).

Every recompute goes through :func:`recompute_batch` — one resident or a thousand, one
transaction: lock the residents, read their current facts, permits and current scores in a
handful of queries, evaluate each with the single-resident engine (the explanation is stored),
retire the previous current scores and insert the new ones in bulk, and write the audit
entries of status flips (``score.lapsed`` / ``score.restored``) last. A recompute that would
store exactly the current score again writes nothing.

Why stored scores come from the single-resident engine and not from the numpy bulk path
(:mod:`jifen.scores.bulk`): every stored score carries its explanation, and only the engine
writes one; writing it is most of a score's cost. The bulk path gives the same totals and
subtotals about a thousand times faster and serves ranking, what-if runs and cross-checks.
The end-to-end recompute is made fast by the batching instead (a handful of queries per
thousand residents), ``COPY`` into PostgreSQL (:mod:`jifen.scores.storage`), lz4-compressed
results, and one process per CPU over disjoint key ranges (``jifen scores recompute``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.engine import NoPolicyInForce, PolicySelection, ProfileError, evaluate
from jifen.facts.models import Fact
from jifen.facts.profile import PROFILE_COLUMNS, build_profile
from jifen.residents.models import Resident
from jifen.scores.errors import InvalidFacts, NoPolicyForDate, ScoreError
from jifen.scores.locking import lock_residents
from jifen.scores.models import Score, ScoreStatus
from jifen.scores.policies import current_policies
from jifen.scores.standing import Standing, standings
from jifen.scores.storage import insert_scores

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
#: Up to this many residents are recomputed right after the caller's commit; more go to a job.
INLINE_LIMIT = 50
#: Residents per ``scores.recompute`` job enqueued by :func:`request_recompute`.
JOB_CHUNK = 10_000
#: The system actor of recomputes nobody asked for by name (feeds, permit changes, jobs).
RECOMPUTE_ACTOR = "job:scores.recompute"
#: Columns compared to decide whether a new score would repeat the current one.
_SAME_COLUMNS = (
    "evaluation_date",
    "review_date",
    "status",
    "lapse_reason",
    "lapsed_since",
    "provincial_hash",
    "city_hash",
    "fact_ids",
)


def china_date(now: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of ``now`` (the platform's "today")."""
    return now.astimezone(CHINA).date()


def select_policies(on: dt.date) -> PolicySelection:
    """The provincial and city versions in force on ``on``."""
    try:
        return current_policies().select(on)
    except NoPolicyInForce as exc:
        raise NoPolicyForDate(str(exc)) from exc


def score_from_facts(
    resident: Any,
    facts: Iterable[Any],
    standing: Standing,
    *,
    on: dt.date,
    review_date: dt.date | None,
    now: dt.datetime,
    selection: PolicySelection,
) -> Score:
    """An unsaved, not current score of ``resident`` (anything with ``pk`` and
    ``birth_date``) from ``facts`` (see ``build_profile``)."""
    review = review_date or on
    profile, fact_ids = build_profile(resident, facts)
    try:
        result = evaluate(profile, on, review, selection)
    except ProfileError as exc:
        raise InvalidFacts(f"{exc.field}: {exc.reason}") from exc
    return Score(
        resident_id=resident.pk,
        evaluation_date=on,
        review_date=review,
        computed_at=now,
        status=standing.status,
        lapse_reason=standing.reason,
        lapsed_since=standing.since,
        total=result.total,
        provincial_total=result.provincial_total,
        city_bonus_total=result.city_bonus_total,
        deductions_total=result.deductions_total,
        result=result.as_dict(),
        provincial_policy=selection.provincial.id,
        provincial_hash=selection.provincial.hash,
        city_policy=selection.city.id,
        city_hash=selection.city.hash,
        reference_values=selection.reference_values,
        fact_ids=fact_ids,
        is_current=False,
    )


def compute_score(
    resident: Resident, *, on: dt.date, review_date: dt.date | None = None, now: dt.datetime
) -> Score:
    """The score of ``resident`` on ``on`` from their current facts and permit; not saved.

    Deduction windows count back from ``review_date`` (default: ``on``). Raises
    ``InvalidFacts`` (naming the field) or ``NoPolicyForDate``.
    """
    facts = (
        Fact.objects.filter(resident_id=resident.pk)
        .current()
        .values_list(*PROFILE_COLUMNS, named=True)
    )
    return score_from_facts(
        resident,
        facts,
        standings([resident.pk], on)[resident.pk],
        on=on,
        review_date=review_date,
        now=now,
        selection=select_policies(on),
    )


@dataclass
class BatchOutcome:
    """What :func:`recompute_batch` did. ``scores`` maps every scored resident to their score
    (new, or the unchanged one already stored)."""

    scores: dict[uuid.UUID, Score] = field(default_factory=dict)
    created: int = 0
    unchanged: int = 0
    lapsed: int = 0
    restored: int = 0
    failures: dict[uuid.UUID, ScoreError] = field(default_factory=dict)
    missing: list[uuid.UUID] = field(default_factory=list)

    def add(self, other: BatchOutcome) -> None:
        """Fold another batch's counts in (not its scores: a long run keeps no objects)."""
        self.created += other.created
        self.unchanged += other.unchanged
        self.lapsed += other.lapsed
        self.restored += other.restored
        self.failures.update(other.failures)
        self.missing.extend(other.missing)

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "unchanged": self.unchanged,
            "lapsed": self.lapsed,
            "restored": self.restored,
            "failed": len(self.failures),
            "missing": len(self.missing),
        }


def recompute_batch(
    resident_ids: Sequence[uuid.UUID],
    *,
    on: dt.date,
    now: dt.datetime,
    actor: Actor,
    review_date: dt.date | None = None,
    current: bool = True,
    on_stored: Callable[[BatchOutcome], None] | None = None,
) -> BatchOutcome:
    """Recompute and store the scores of ``resident_ids`` on ``on``, in one transaction.

    With ``current`` (the default) each new score becomes the resident's current score and a
    change of status is audited (``score.lapsed`` / ``score.restored``, by ``actor``);
    without it the scores are stored as further evaluations (a scenario's opening date) and
    the current ones are left alone. A resident whose facts cannot be scored is reported in
    ``failures`` and keeps their previous score; the others are stored. ``on_stored`` is
    called inside the transaction once the scores are written, before the audit entries (a
    job saves its checkpoint there, so checkpoint and scores commit together).
    """
    ids = sorted({uuid.UUID(str(i)) for i in resident_ids})
    outcome = BatchOutcome()
    if not ids:
        return outcome
    selection = select_policies(on)
    with transaction.atomic():
        lock_residents(ids)
        residents = {
            r.pk: r
            for r in Resident.objects.filter(pk__in=ids)
            .values_list("pk", "birth_date", named=True)
            .order_by()
        }
        outcome.missing = [i for i in ids if i not in residents]
        facts: dict[uuid.UUID, list[Any]] = {i: [] for i in residents}
        rows = (
            Fact.objects.filter(resident_id__in=list(residents), superseded_at__isnull=True)
            .order_by()
            .values_list(*PROFILE_COLUMNS, named=True)
        )
        for row in rows:
            facts[row.resident_id].append(row)
        standing = standings(residents, on)
        previous = _previous_scores(list(residents), on=on, current=current)

        fresh: list[Score] = []
        for resident_id, resident in residents.items():
            try:
                score = score_from_facts(
                    resident,
                    facts[resident_id],
                    standing[resident_id],
                    on=on,
                    review_date=review_date,
                    now=now,
                    selection=selection,
                )
            except ScoreError as exc:
                outcome.failures[resident_id] = exc
                continue
            before = previous.get(resident_id)
            if before is not None and _same(before, score):
                outcome.scores[resident_id] = before
                outcome.unchanged += 1
                continue
            score.is_current = current
            fresh.append(score)

        if current:
            retired = [previous[s.resident_id].pk for s in fresh if s.resident_id in previous]
            if retired:
                Score.objects.filter(pk__in=retired).update(is_current=False)
        insert_scores(fresh)
        outcome.created = len(fresh)
        for score in fresh:
            outcome.scores[score.resident_id] = score
        if current:
            outcome.lapsed, outcome.restored = _count_flips(fresh, previous)
        if on_stored is not None:
            on_stored(outcome)
        if current:
            # Audit entries last: they hold the audit chain lock until the commit.
            for score in fresh:
                before = previous.get(score.resident_id)
                was = before.status if before is not None else ScoreStatus.VALID
                if score.status != was:
                    _audit_flip(score, before, actor=actor, now=now)
    return outcome


def _previous_scores(ids: list[uuid.UUID], *, on: dt.date, current: bool) -> dict[uuid.UUID, Score]:
    """The score each new one would replace (current), or repeat (another date's latest)."""
    query = Score.objects.filter(resident_id__in=ids).defer("result")
    if current:
        return {s.resident_id: s for s in query.filter(is_current=True)}
    found: dict[uuid.UUID, Score] = {}
    for score in query.filter(evaluation_date=on).order_by("resident_id", "-computed_at", "-id"):
        found.setdefault(score.resident_id, score)
    return found


def _same(before: Score, after: Score) -> bool:
    """True when ``after`` would store exactly ``before`` again (the result compared last)."""
    if any(getattr(before, c) != getattr(after, c) for c in _SAME_COLUMNS):
        return False
    return before.result == _json(after.result)  # loads the deferred result


def _json(value: Any) -> Any:
    """``value`` as it comes back from a JSON column."""
    return json.loads(json.dumps(value, ensure_ascii=False))


def _count_flips(fresh: list[Score], previous: dict[uuid.UUID, Score]) -> tuple[int, int]:
    """(lapsed, restored): a score that became lapsed or cleared has no usable points any
    more; one that became valid is restored."""
    lapsed = restored = 0
    for score in fresh:
        before = previous.get(score.resident_id)
        was = before.status if before is not None else ScoreStatus.VALID
        if score.status != was:
            if score.status == ScoreStatus.VALID:
                restored += 1
            else:
                lapsed += 1
    return lapsed, restored


_FLIP_ACTIONS = {
    ScoreStatus.LAPSED: "score.lapsed",
    ScoreStatus.CLEARED: "score.cleared",
    ScoreStatus.VALID: "score.restored",
}


def _audit_flip(score: Score, before: Score | None, *, actor: Actor, now: dt.datetime) -> None:
    record(
        _FLIP_ACTIONS[ScoreStatus(score.status)],
        actor=actor,
        occurred_at=now,
        obj=score,
        data={
            "resident": str(score.resident_id),
            "previous_score": before.pk if before is not None else None,
            "evaluation_date": score.evaluation_date.isoformat(),
            "total": str(score.total),
            "reason": score.lapse_reason,
            "lapsed_since": score.lapsed_since.isoformat() if score.lapsed_since else None,
        },
    )


def recompute_resident(
    resident: Resident, *, on: dt.date, now: dt.datetime, actor: Actor, current: bool = True
) -> Score:
    """Recompute and store ``resident``'s score on ``on`` (see :func:`recompute_batch`).

    Returns the stored score: the new one, or the current one when nothing changed. Raises
    ``InvalidFacts`` / ``NoPolicyForDate`` when the resident cannot be scored.
    """
    outcome = recompute_batch([resident.pk], on=on, now=now, actor=actor, current=current)
    if resident.pk in outcome.failures:
        raise outcome.failures[resident.pk]
    if resident.pk in outcome.missing:
        raise Resident.DoesNotExist(f"resident {resident.pk} does not exist")
    return outcome.scores[resident.pk]


def verify_score(score: Score) -> bool:
    """True when ``score`` is reproduced exactly from its stored inputs.

    The profile is rebuilt from the facts the score names (superseded since or not), the
    policy versions are taken by id and must still have the stored hashes, and the engine's
    result for the stored dates must equal the stored result, explanation included.
    """
    policies = current_policies()
    try:
        provincial = policies.get(score.provincial_policy)
        city = policies.get(score.city_policy)
    except NoPolicyInForce:
        return False
    if (provincial.hash, city.hash) != (score.provincial_hash, score.city_hash):
        return False
    facts = list(Fact.objects.filter(pk__in=score.fact_ids).only(*PROFILE_COLUMNS))
    profile, used = build_profile(score.resident, facts, include_superseded=True)
    if used != sorted(score.fact_ids):
        return False
    selection = PolicySelection(provincial=provincial, city=city)
    try:
        result = evaluate(profile, score.evaluation_date, score.review_date, selection)
    except ProfileError:
        return False
    return (
        _json(result.as_dict()) == score.result
        and result.total == score.total
        and result.provincial_total == score.provincial_total
        and result.city_bonus_total == score.city_bonus_total
        and result.deductions_total == score.deductions_total
        and selection.reference_values == score.reference_values
    )


def request_recompute(resident_ids: Iterable[Any], *, reason: str, now: dt.datetime) -> None:
    """Have the residents' current scores recomputed (for today) once the caller commits.

    Up to :data:`INLINE_LIMIT` residents are recomputed right after the commit (in their own
    transaction; if that fails, a job is enqueued instead so nothing is lost). More go to
    ``scores.recompute`` jobs of :data:`JOB_CHUNK` residents, created in the caller's
    transaction, so a rollback leaves no job behind.
    """
    ids = list(dict.fromkeys(str(uuid.UUID(str(i))) for i in resident_ids))
    if not ids:
        return
    on = china_date(now)
    if len(ids) <= INLINE_LIMIT:
        transaction.on_commit(partial(_recompute_after_commit, ids, on, now, reason))
        return
    for start in range(0, len(ids), JOB_CHUNK):
        _enqueue(ids[start : start + JOB_CHUNK], on, now, reason)


def _enqueue(ids: list[str], on: dt.date, now: dt.datetime, reason: str) -> None:
    from jifen.jobs.queue import enqueue

    enqueue(
        "scores.recompute",
        {"resident_ids": ids, "on": on.isoformat(), "reason": reason},
        now=now,
    )


def _recompute_after_commit(ids: list[str], on: dt.date, now: dt.datetime, reason: str) -> None:
    try:
        outcome = recompute_batch(
            [uuid.UUID(i) for i in ids], on=on, now=now, actor=Actor.system(RECOMPUTE_ACTOR)
        )
    except Exception:
        # The caller's transaction is committed: fall back to a job rather than lose the work.
        logger.exception("inline recompute of %d resident(s) failed; enqueuing a job", len(ids))
        with transaction.atomic():
            _enqueue(ids, on, now, reason)
        return
    for resident_id, error in outcome.failures.items():
        logger.warning("score of resident %s not recomputed: %s", resident_id, error)
