"""Importing one feed file: :func:`import_batch`.

1. The same content for the same feed already applied → that batch is returned, nothing
   changes (idempotent; checksum = SHA-256 of the bytes).
2. A file that cannot be read at all (encoding, JSON/CSV structure, header) → a ``refused``
   batch with the reason; nothing applied.
3. Otherwise every row is checked (:mod:`jifen.feeds.validation`) and the good rows are applied
   in ONE transaction: an exception midway rolls back the whole batch. The batch stores the
   counts and the row-by-row report (identity numbers masked) and is audited as
   ``feed.batch_imported`` by the system actor ``feed:<code>``.
4. After the commit the affected residents' scores are recalculated
   (``jifen.scores.services.request_recompute``, in the background for large batches).

The rows themselves are checked and applied by :class:`jifen.feeds.applying.BatchRows`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from jifen.audit.actors import Actor
from jifen.audit.choices import Result
from jifen.audit.services import record
from jifen.feeds.applying import BatchRows, ProgressCallback
from jifen.feeds.errors import FeedFileRefused, FeedNotOwned, UnknownDepartment
from jifen.feeds.formats import FeedFormat, get_feed
from jifen.feeds.models import BatchStatus, FeedBatch
from jifen.feeds.parsing import parse
from jifen.feeds.validation import Checker
from jifen.org.models import Department, Town
from jifen.org.routing import rules_of_departments
from jifen.scores.policies import current_policies

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class ImportResult:
    """The batch, and whether it is an earlier batch returned for a replayed file."""

    batch: FeedBatch
    replayed: bool


def import_batch(
    feed_code: str,
    content: bytes,
    *,
    file_name: str,
    now: dt.datetime,
    actor: Actor,
    department: Department | None = None,
    content_type: str | None = None,
    progress: ProgressCallback | None = None,
    request: HttpRequest | None = None,
    audit_data: Mapping[str, Any] | None = None,
) -> FeedBatch:
    """Import one file of feed ``feed_code``; see the module docstring. Returns the batch.

    ``department`` is the sending department when known (the API token's): it must be the
    feed's department (:class:`FeedNotOwned`). ``content_type`` (``text/csv``,
    ``application/json``) decides the format, else the file name, else the content.
    ``progress(done, total)`` is called as rows are processed. ``request`` (the API's) gives
    the audit entry its source address and request id; ``audit_data`` is added to its data.
    """
    return import_feed(
        feed_code,
        content,
        file_name=file_name,
        now=now,
        actor=actor,
        department=department,
        content_type=content_type,
        progress=progress,
        request=request,
        audit_data=audit_data,
    ).batch


def import_feed(
    feed_code: str,
    content: bytes,
    *,
    file_name: str,
    now: dt.datetime,
    actor: Actor,
    department: Department | None = None,
    content_type: str | None = None,
    progress: ProgressCallback | None = None,
    request: HttpRequest | None = None,
    audit_data: Mapping[str, Any] | None = None,
) -> ImportResult:
    """:func:`import_batch`, also saying whether the batch was a replay."""
    feed = get_feed(feed_code)
    owner = Department.objects.filter(code=feed.department).first()
    if owner is None:
        raise UnknownDepartment()
    if department is not None and department.pk != owner.pk:
        raise FeedNotOwned()
    checksum = hashlib.sha256(content).hexdigest()
    file_name = file_name[: FeedBatch._meta.get_field("file_name").max_length]
    existing = _applied_batch(feed.code, checksum)
    if existing is not None:
        return ImportResult(existing, replayed=True)

    try:
        parsed = parse(content, feed, file_name=file_name, content_type=content_type)
    except FeedFileRefused as exc:
        return ImportResult(
            _refuse(
                feed,
                owner,
                exc,
                checksum=checksum,
                file_name=file_name,
                now=now,
                actor=actor,
                request=request,
                audit_data=audit_data,
            ),
            replayed=False,
        )

    today = now.astimezone(CHINA).date()
    checker = Checker(
        feed,
        current_policies().select(today),
        rules_of_departments(feed.departments),
        today,
        _towns() if feed.registers_residents else {},
    )
    run = BatchRows(feed, owner, parsed, checker, now=now, actor=actor, progress=progress)
    run.check_rows()

    with transaction.atomic():
        # One import of a feed at a time: a second copy of the same file waits here and then
        # finds the first one applied (feed keys are the feed's own, so different feeds never
        # touch the same facts). NO KEY UPDATE: rows that merely reference the department
        # (a reviewer's fact, a new user) do not wait for the import.
        Department.objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
        existing = _applied_batch(feed.code, checksum)
        if existing is not None:
            return ImportResult(existing, replayed=True)
        batch = FeedBatch(
            feed=feed.code,
            department=owner,
            file_name=file_name,
            checksum=checksum,
            encoding=parsed.encoding,
            format=parsed.format,
            status=BatchStatus.APPLIED,
            received_at=now,
            actor=actor.id,
            rows=run.total,
        )
        try:
            with transaction.atomic():
                batch.save()
        except IntegrityError:
            # Same file committed concurrently by a writer that did not wait on the lock
            # (SQLite has no row locks): that batch is the answer.
            existing = _applied_batch(feed.code, checksum)
            if existing is None:
                raise
            return ImportResult(existing, replayed=True)
        run.apply(batch)
        batch.report = run.report()
        counts = run.counts()
        for name, value in counts.items():
            setattr(batch, name, value)
        batch.save(update_fields=["report", *counts])
        record(
            "feed.batch_imported",
            actor=actor,
            occurred_at=now,
            obj=batch,
            data={
                "feed": feed.code,
                "department": owner.code,
                "file_name": file_name,
                "checksum": checksum,
                "encoding": parsed.encoding,
                "format": parsed.format,
                "rows": batch.rows,
                **counts,
                "permit_changes": run.permit_changes,
                **(audit_data or {}),
            },
            request=request,
        )
        affected = sorted(run.affected, key=str)
        if affected:
            transaction.on_commit(lambda: request_recompute(affected, now=now))
    return ImportResult(batch, replayed=False)


def request_recompute(resident_ids: list, *, now: dt.datetime) -> None:
    """Ask for the scores of ``resident_ids`` to be recalculated (after the commit)."""
    from jifen.scores.services import request_recompute as scores_request_recompute

    scores_request_recompute(resident_ids, reason="feed", now=now)


def _applied_batch(feed_code: str, checksum: str) -> FeedBatch | None:
    return FeedBatch.objects.filter(
        feed=feed_code, checksum=checksum, status=BatchStatus.APPLIED
    ).first()


def _towns() -> dict[str, Town]:
    towns: dict[str, Town] = {}
    for town in Town.objects.filter(active=True):
        towns[town.code] = town
        towns[town.name] = town
    return towns


def _refuse(
    feed: FeedFormat,
    owner: Department,
    exc: FeedFileRefused,
    *,
    checksum: str,
    file_name: str,
    now: dt.datetime,
    actor: Actor,
    request: HttpRequest | None,
    audit_data: Mapping[str, Any] | None,
) -> FeedBatch:
    with transaction.atomic():
        batch = FeedBatch.objects.create(
            feed=feed.code,
            department=owner,
            file_name=file_name,
            checksum=checksum,
            encoding=exc.encoding,
            status=BatchStatus.REFUSED,
            received_at=now,
            actor=actor.id,
            refusal_reason=exc.reason,
            refusal_reason_zh=exc.reason_zh,
        )
        record(
            "feed.batch_refused",
            actor=actor,
            occurred_at=now,
            obj=batch,
            result=Result.FAILURE,
            data={
                "feed": feed.code,
                "department": owner.code,
                "file_name": file_name,
                "checksum": checksum,
                "reason": exc.reason,
                **(audit_data or {}),
            },
            request=request,
        )
    return batch
