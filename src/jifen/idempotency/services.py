"""Idempotency keys: one record per user and key, written in the handler's own transaction.

``begin`` runs first inside the transaction that will also run the handler and ``complete``,
so nothing is committed between taking the key and storing the response, and a failed handler
leaves no record (the key is free again).

- On PostgreSQL the key is held by a transaction-scoped advisory lock on a hash of user and
  key (the two-key form, apart from the audit chain's one-key lock): a concurrent duplicate
  does not get it and is answered ``IN_PROGRESS`` (409) at once (security.md). Whoever holds
  the lock inserts the record; a conflict on the unique constraint (user + key) means the key
  was completed before: a replay, or a mismatch when the request differs.
- SQLite (the embedded single-process mode) serializes writers: a duplicate waits for the
  first transaction on the write lock, then finds the completed record and replays it.
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
    IN_PROGRESS = "in_progress"  # the same key is being handled right now (PostgreSQL)


def lock_keys(user_id: int, key: str) -> tuple[int, int]:
    """The two signed 32-bit advisory lock keys of ``user_id`` and ``key``."""
    digest = hashlib.blake2b(f"{user_id}\n{key}".encode(), digest_size=8).digest()
    return (
        int.from_bytes(digest[:4], "big", signed=True),
        int.from_bytes(digest[4:], "big", signed=True),
    )


def _take(user_id: int, key: str) -> bool:
    """Hold the key until the transaction ends; False when another transaction holds it."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return True  # SQLite: the write lock serializes duplicates
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", list(lock_keys(user_id, key)))
        return bool(cursor.fetchone()[0])


def request_hash(method: str, path: str, body_digest: str) -> str:
    return hashlib.sha256(f"{method.upper()}\n{path}\n{body_digest}".encode()).hexdigest()


def begin(
    *, user, key: str, method: str, path: str, digest: str, now: dt.datetime
) -> tuple[Outcome, IdempotencyRecord | None]:
    """Take ``key`` for this request inside the caller's transaction, or say why not.

    The record is written in state ``in_progress``; no other transaction ever sees that
    state, because ``complete`` runs before the commit and a rollback removes the record.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency.begin() must run inside the handler's transaction")
    method = method.upper()
    path = path[:500]
    if not _take(user.pk, key):
        return Outcome.IN_PROGRESS, None
    for _attempt in range(2):
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
        except IntegrityError as exc:
            found = IdempotencyRecord.objects.filter(user=user, key=key).first()
            error = exc
        if found is None:
            continue  # purged between the conflict and the read: take the key
        if (found.method, found.path, found.request_hash) != (method, path, digest):
            return Outcome.MISMATCH, found
        return Outcome.REPLAY, found
    # A conflict that names no record of this key is not a duplicate: let it surface.
    raise error


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
