"""The recompute lock: one writer per resident between reading the facts and storing the score.

Without it two recomputes of one resident (a feed import's and the nightly run's) could both
read the current score and both try to replace it; the "one current score per resident"
constraint would refuse one of them, failing its batch. With the lock the second one waits
and then reads the first one's score.

PostgreSQL locks the residents' rows (``SELECT ... FOR UPDATE``, in primary-key order so two
batches never wait on each other in a cycle). SQLite has one writer per database file: the
lock is its write lock, taken at once instead of at the first write, so that the facts read
next cannot be replaced before the scores are written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from jifen.residents.models import Resident


def lock_postgresql(cursor: Any, resident_ids: Sequence[uuid.UUID]) -> None:
    """Row locks on the residents, released by COMMIT or ROLLBACK."""
    table = Resident._meta.db_table
    cursor.execute(
        # S608: the table name comes from the model's _meta; the ids are a parameter.
        f'SELECT "id" FROM "{table}" WHERE "id" = ANY(%s) ORDER BY "id" FOR UPDATE',  # noqa: S608
        [list(resident_ids)],
    )


def lock_sqlite(cursor: Any, resident_ids: Sequence[uuid.UUID]) -> None:
    """SQLite's write lock, now: a write statement that matches no row takes it."""
    cursor.execute("UPDATE scores_score SET id = id WHERE 0 = 1")


#: The lock implementation of each supported database vendor.
LOCKS: dict[str, Callable[[Any, Sequence[uuid.UUID]], None]] = {
    "postgresql": lock_postgresql,
    "sqlite": lock_sqlite,
}


class LockError(RuntimeError):
    code = "score.lock"


def lock_residents(resident_ids: Sequence[uuid.UUID], using: str = DEFAULT_DB_ALIAS) -> None:
    """Lock the residents' scores until the current transaction ends.

    Must be called inside ``transaction.atomic(using=using)``.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise LockError("lock_residents() must be called inside transaction.atomic()")
    try:
        lock = LOCKS[connection.vendor]
    except KeyError:
        raise LockError(f"no recompute lock for the {connection.vendor} database") from None
    if not resident_ids:
        return
    with connection.cursor() as cursor:
        lock(cursor, sorted(resident_ids))
