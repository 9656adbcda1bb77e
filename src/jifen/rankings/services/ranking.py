"""Freezing a ranking (center only) and re-running it from its stored inputs.

:func:`freeze_ranking` reads the scenario's rankable enrollments of the version
(``jifen.scenarios.services.rankable``: eligible and not blocked), builds the canonical input
snapshot (:func:`jifen.rankings.engine.make_inputs`: points, tie-break values, preferences,
town, the score used), ranks and allocates with :func:`jifen.rankings.engine.rank`, and stores
the list with its content hash, in one transaction audited ``ranking.frozen``. The same
inputs always give the same hash, whatever order the database returns the rows in;
:func:`rerun` recomputes the hash from the stored inputs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.rankings import engine
from jifen.rankings.errors import (
    AlreadyPublished,
    HashMismatch,
    NothingToRank,
    NotPublishedVersion,
    TransitionNotAllowed,
)
from jifen.rankings.models import Ranking, RankingEntry, RankingState
from jifen.rankings.services._common import audit, require_center

#: Rows written per INSERT when storing the entries.
BATCH = 2000
_UTC = dt.UTC


def timestamp_text(value: dt.datetime) -> str:
    """The canonical text of a timestamp tie-break (UTC, microseconds, ``Z``)."""
    return value.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rankable_enrollments(version: Any):
    """The enrollments of ``version`` that are ranked (eligible, not blocked)."""
    from jifen.scenarios.services import rankable

    return rankable(version).order_by()


def tie_value(tie_break: str, row: dict[str, Any], score_of) -> str:
    """The value of one tie-break for one enrollment row (see :func:`collect`): the value the
    evaluation stored (``Enrollment.tie_values``), else computed from the score used;
    ``applied_at`` as canonical UTC text."""
    if tie_break == "applied_at":
        return timestamp_text(row["applied_at"])
    stored = (row["tie_values"] or {}).get(tie_break)
    if stored is not None:
        return stored
    score = score_of(row["score_id"])
    if tie_break in ("provincial_total", "city_bonus_total", "deductions_total"):
        return engine.points_text(getattr(score, tie_break))
    if tie_break.startswith("item:"):
        ref = tie_break.removeprefix("item:")
        if ref in (row["breakdown"] or {}):
            return engine.points_text(row["breakdown"][ref])
        from jifen.scenarios.content import item_points

        return engine.points_text(item_points(score.result, ref))
    raise engine.RankingInputError(f"unknown tie-break {tie_break!r}")


def collect(version: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The input snapshot of ``version`` and, per application number, what the entries
    store besides it (enrollment id, breakdown)."""
    content = version.content
    tie_breaks = list(content.get("tie_breaks") or ["applied_at"])
    rows = rankable_enrollments(version).values(
        "id",
        "number",
        "points",
        "breakdown",
        "tie_values",
        "applied_at",
        "preferences",
        "score_id",
        "resident__town__code",
    )

    def score_of(score_id: int):
        from jifen.scores.models import Score

        return Score.objects.get(pk=score_id)

    entries = []
    extra: dict[str, dict[str, Any]] = {}
    with engine.no_gc():
        for row in rows.iterator(chunk_size=5000):
            if row["points"] is None:
                continue  # not evaluated: rankable() should not return it
            entries.append(
                {
                    "number": row["number"],
                    "enrollment": str(row["id"]),
                    "score": row["score_id"],
                    "points": row["points"],
                    "ties": [tie_value(t, row, score_of) for t in tie_breaks],
                    "preferences": row["preferences"] or [],
                    "town": row["resident__town__code"],
                }
            )
            extra[row["number"]] = {
                "enrollment_id": row["id"],
                "breakdown": row["breakdown"] or {},
            }
    inputs = engine.make_inputs(
        scenario=version.scenario.code,
        version=version.number,
        version_hash=version.content_hash,
        tie_breaks=tie_breaks,
        quotas=content.get("quotas") or [],
        preferences=content.get("preferences"),
        entries=entries,
    )
    return inputs, extra


def store(
    version: Any,
    inputs: dict[str, Any],
    extra: dict[str, dict[str, Any]],
    *,
    user: User,
    now: dt.datetime,
    state: str = RankingState.FROZEN,
    supersedes: Ranking | None = None,
    correction_reason: str = "",
) -> tuple[Ranking, engine.RankResult]:
    """Rank ``inputs`` and write the ranking and its entries (inside the caller's
    transaction)."""
    result = engine.rank(inputs)
    sequence = (version.rankings.aggregate(m=Max("sequence"))["m"] or 0) + 1
    ranking = Ranking.objects.create(
        version=version,
        sequence=sequence,
        state=state,
        frozen_at=now,
        frozen_by=user,
        inputs=inputs,
        inputs_hash=result.inputs_hash,
        content_hash=result.hash,
        entry_count=len(result.entries),
        admitted_count=sum(result.filled.values()),
        cutoff_points=Decimal(result.cutoff_points) if result.cutoff_points else None,
        cutoff_tiebreak=result.cutoff_tiebreak,
        quota_cutoffs=result.quota_cutoffs,
        supersedes=supersedes,
        correction_reason=correction_reason,
    )
    tie_breaks = inputs["tie_breaks"]
    with engine.no_gc():
        _insert(ranking, result, extra, tie_breaks)
    return ranking, result


def _insert(ranking, result, extra, tie_breaks) -> None:
    insert_entries(
        ranking,
        (
            (
                extra[p.number]["enrollment_id"],
                p.number,
                p.rank,
                Decimal(p.points),
                extra[p.number]["breakdown"],
                dict(zip(tie_breaks, p.ties, strict=True)),
                p.quota or "",
            )
            for p in result.entries
        ),
    )


_ENTRY_FIELDS = (
    "ranking",
    "enrollment",
    "number",
    "rank",
    "points",
    "breakdown",
    "tiebreak_values",
    "quota_key",
    "frozen_quota_key",
    "outcome",
    "outcome_note",
)


def insert_entries(ranking: Ranking, rows) -> int:
    """Write the entries with one prepared INSERT per batch (``executemany``).

    ``bulk_create`` builds every row through the SQL compiler (about 0.5 ms a row: most of a
    100,000-entry freeze); the values here are adapted the way Django adapts them (JSON by
    the backend's ``adapt_json_value``, UUIDs as the backend stores them).
    """
    meta = RankingEntry._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in _ENTRY_FIELDS]
    sql = (
        # S608: identifiers from the model's own metadata, quoted; the values are parameters.
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    json_value = connection.ops.adapt_json_value
    native_uuid = connection.features.has_native_uuid_field
    count = 0
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for enrollment_id, number, rank, points, breakdown, ties, quota in rows:
            batch.append(
                (
                    ranking.pk,
                    enrollment_id if native_uuid else enrollment_id.hex,
                    number,
                    rank,
                    points,
                    json_value(breakdown, None),
                    json_value(ties, None),
                    quota,
                    quota,
                    "",
                    "",
                )
            )
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def ranking_data(ranking: Ranking, **extra: Any) -> dict[str, Any]:
    return {
        "ranking": ranking.pk,
        "scenario": ranking.version.scenario.code,
        "version": ranking.version.number,
        "sequence": ranking.sequence,
        "entries": ranking.entry_count,
        "admitted": ranking.admitted_count,
        "cutoff_points": str(ranking.cutoff_points) if ranking.cutoff_points is not None else None,
        "content_hash": ranking.content_hash,
        **extra,
    }


def freeze_ranking(*, version: Any, user: User, now: dt.datetime) -> Ranking:
    """Freeze the list of ``version`` (center only).

    A list frozen earlier and not yet published is superseded by the new one (audited in the
    new entry as ``replaces``); once published, a list changes only through
    ``publish_corrected`` (``rankings.already_published``). No rankable enrollment raises
    ``rankings.nothing_to_rank``. Audited ``ranking.frozen``.
    """
    from jifen.scenarios.models import ScenarioVersion, VersionStatus

    require_center(user)
    with transaction.atomic():
        version = (
            ScenarioVersion.objects.select_for_update(of=("self",))
            .select_related("scenario")
            .get(pk=version.pk)
        )
        if version.status != VersionStatus.PUBLISHED:
            raise NotPublishedVersion(
                _("Only a published scenario version is ranked."), field="version"
            )
        live = version.rankings.exclude(state=RankingState.SUPERSEDED).first()
        if live is not None and live.state != RankingState.FROZEN:
            raise AlreadyPublished(
                _(
                    "The list of this scenario has been published already; publish a "
                    "corrected list instead."
                ),
                field="version",
            )
        inputs, extra = collect(version)
        if not inputs["entries"]:
            raise NothingToRank(
                _("No enrollment of this scenario can be ranked (none is eligible)."),
                field="version",
            )
        if live is not None:
            live.state = RankingState.SUPERSEDED
            live.save(update_fields=["state"])
        try:
            with transaction.atomic():
                ranking, _result = store(version, inputs, extra, user=user, now=now)
        except IntegrityError as exc:  # a concurrent freeze of the same version
            raise TransitionNotAllowed(
                _("The list is being frozen by someone else; try again."), field="version"
            ) from exc
        audit(
            "ranking.frozen",
            user=user,
            obj=ranking,
            now=now,
            data=ranking_data(ranking, replaces=live.pk if live is not None else None),
        )
    return ranking


def rerun(ranking: Ranking) -> str:
    """The content hash recomputed from the stored inputs (equal to ``content_hash``)."""
    return engine.rank(ranking.inputs).hash


def verify(ranking: Ranking) -> str:
    """Re-run ``ranking`` and raise ``rankings.hash_mismatch`` unless the hash matches."""
    again = rerun(ranking)
    if again != ranking.content_hash:
        raise HashMismatch(
            _("Re-running the stored inputs gives %(again)s, not %(stored)s.")
            % {"again": again[:12], "stored": ranking.content_hash[:12]}
        )
    return again
