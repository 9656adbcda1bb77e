"""Reserving an idempotency key before a request is handled, and storing its response.

``begin`` inserts the key's record (state ``in_progress``) in a transaction of its own, so a
concurrent request with the same key sees it at once (the unique constraint on user + key is
the arbiter on both databases). The caller then runs the handler and ``complete`` in the
handler's transaction, or ``abandon`` when the handler failed, so the client may retry.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib

from django.db import IntegrityError, transaction

from jifen.idempotency.models import IdempotencyRecord, IdempotencyState

#: An ``in_progress`` record older than this is taken to belong to a crashed worker.
STALE_AFTER = dt.timedelta(minutes=10)
#: How long completed responses are kept for replays.
KEEP_FOR = dt.timedelta(days=1)


class Outcome(enum.Enum):
    NEW = "new"  # the key is ours: handle the request
    REPLAY = "replay"  # completed before: return the stored response
    MISMATCH = "mismatch"  # the key was used for a different request
    IN_PROGRESS = "in_progress"  # the same request is being handled right now


def request_hash(method: str, path: str, body_digest: str) -> str:
    return hashlib.sha256(f"{method.upper()}\n{path}\n{body_digest}".encode()).hexdigest()


def begin(
    *,
    user,
    key: str,
    method: str,
    path: str,
    digest: str,
    now: dt.datetime,
    stale_after: dt.timedelta = STALE_AFTER,
) -> tuple[Outcome, IdempotencyRecord | None]:
    """Reserve ``key`` for this request, or say why not (see :class:`Outcome`)."""
    method = method.upper()
    path = path[:500]
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path,
                    request_hash=digest,
                    state=IdempotencyState.IN_PROGRESS,
                    created_at=now,
                )
            return Outcome.NEW, record
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:
            continue  # the holder gave the key up in between: try again
        if (record.method, record.path, record.request_hash) != (method, path, digest):
            return Outcome.MISMATCH, record
        if record.state == IdempotencyState.COMPLETED:
            return Outcome.REPLAY, record
        if record.created_at < now - stale_after:
            # Left behind by a crashed process: take the key over (once, conditionally).
            IdempotencyRecord.objects.filter(
                pk=record.pk, state=IdempotencyState.IN_PROGRESS, created_at=record.created_at
            ).delete()
            continue
        return Outcome.IN_PROGRESS, record
    return Outcome.IN_PROGRESS, None


def complete(record: IdempotencyRecord, *, status: int, body, now: dt.datetime) -> None:
    """Store the response (call it inside the handler's transaction)."""
    updated = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyState.IN_PROGRESS
    ).update(
        state=IdempotencyState.COMPLETED,
        response_status=status,
        response_body=body,
        completed_at=now,
    )
    if updated != 1:
        # Someone took the key over as stale while we worked: refuse to commit twice.
        raise IntegrityError(f"idempotency record {record.pk} is no longer ours")


def abandon(record: IdempotencyRecord) -> None:
    """Give the key up (the handler failed): a retry with the same key runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyState.IN_PROGRESS).delete()


def purge(*, now: dt.datetime, keep_for: dt.timedelta = KEEP_FOR) -> int:
    """Delete records older than ``keep_for``; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - keep_for).delete()
    return deleted
