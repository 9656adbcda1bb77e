"""Idempotency keys: one record per user and key, written in the handler's own transaction.

``begin`` runs first inside the transaction that will also run the handler and ``complete``:
it inserts the key's record (the unique constraint on user + key is the arbiter on both
databases). A concurrent request with the same key blocks on that insert until the first
transaction ends — PostgreSQL waits on the unique index entry, SQLite on its write lock — and
then either finds the completed record (a replay, or a mismatch when the request differs) or,
when the first rolled back, inserts the record itself and handles the request. So a duplicate
queues behind the original instead of failing, a failed handler leaves no record (the key is
free again), and nothing is committed between reserving the key and storing the response.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib

from django.db import IntegrityError, transaction

from jifen.idempotency.models import IdempotencyRecord, IdempotencyState

#: How long completed responses are kept for replays.
KEEP_FOR = dt.timedelta(days=1)


class Outcome(enum.Enum):
    NEW = "new"  # the key is ours: handle the request
    REPLAY = "replay"  # completed before: return the stored response
    MISMATCH = "mismatch"  # the key was used for a different request


def request_hash(method: str, path: str, body_digest: str) -> str:
    return hashlib.sha256(f"{method.upper()}\n{path}\n{body_digest}".encode()).hexdigest()


def begin(
    *, user, key: str, method: str, path: str, digest: str, now: dt.datetime
) -> tuple[Outcome, IdempotencyRecord]:
    """Take ``key`` for this request inside the caller's transaction, or say why not.

    The record is written in state ``in_progress``; no other transaction ever sees that
    state, because ``complete`` runs before the commit and a rollback removes the record.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency.begin() must run inside the handler's transaction")
    method = method.upper()
    path = path[:500]
    while True:
        try:
            with transaction.atomic():  # a savepoint: a conflict leaves the transaction usable
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
            found = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if found is None:
            continue  # purged between the conflict and the read: take the key
        if (found.method, found.path, found.request_hash) != (method, path, digest):
            return Outcome.MISMATCH, found
        return Outcome.REPLAY, found


def complete(record: IdempotencyRecord, *, status: int, body, now: dt.datetime) -> None:
    """Store the response (in the transaction ``begin`` ran in)."""
    record.state = IdempotencyState.COMPLETED
    record.response_status = status
    record.response_body = body
    record.completed_at = now
    record.save(update_fields=["state", "response_status", "response_body", "completed_at"])


def purge(*, now: dt.datetime, keep_for: dt.timedelta = KEEP_FOR) -> int:
    """Delete records older than ``keep_for``; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=now - keep_for).delete()
    return deleted
