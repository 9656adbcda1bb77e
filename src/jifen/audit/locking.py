"""The chain lock: one writer at a time between reading the chain head and committing.

Without it two transactions could read the same head and both append entry ``n + 1``. The
unique constraint on ``sequence`` would then refuse one of them (so the chain never forks),
but the caller's request would fail; with the lock the second writer simply waits.

The lock is held until the end of the *outermost* transaction, because the new head is
invisible to other writers until then. Record audit entries as the last database step of a
service function so the lock is held briefly, and never take other locks after it (that
order is what keeps two transactions from waiting on each other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from jifen.audit.errors import AuditError

#: Fixed key of the PostgreSQL advisory lock: the first 8 bytes (signed, big-endian) of
#: SHA-256("jifen.audit.chain"), so it will not clash with another application's key.
POSTGRESQL_LOCK_KEY = -6683053234070819374


def lock_postgresql(cursor: Any) -> None:
    """Take the transaction-scoped advisory lock; released by COMMIT or ROLLBACK.

    Other sessions block here until the holder ends its transaction. Under READ COMMITTED
    the head is read by a later statement, so it sees the entry the previous holder
    committed. Under REPEATABLE READ or SERIALIZABLE the snapshot may predate that commit;
    the unique sequence then refuses the insert instead of forking the chain.
    """
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [POSTGRESQL_LOCK_KEY])


def lock_sqlite(cursor: Any) -> None:
    """Take SQLite's write lock now, before the head is read.

    SQLite allows one writer per database file. Django opens transactions as deferred, so
    a transaction that only reads holds no write lock and could read a head that another
    writer is about to replace. A write statement takes the database's RESERVED (write)
    lock at once and holds it until the transaction ends, even when it matches no row;
    this one matches none, so the append-only triggers (which fire per row) stay quiet.
    Another writer then waits up to the connection's busy timeout, then fails with
    "database is locked": an error, never a forked chain.
    """
    cursor.execute("UPDATE audit_auditentry SET sequence = sequence WHERE 0 = 1")


#: The lock implementation of each supported database vendor.
LOCKS: dict[str, Callable[[Any], None]] = {
    "postgresql": lock_postgresql,
    "sqlite": lock_sqlite,
}


def lock_chain(using: str = DEFAULT_DB_ALIAS) -> None:
    """Lock the audit chain until the current transaction ends.

    Must be called inside ``transaction.atomic(using=using)``; raises ``AuditError``
    otherwise, or when the database vendor has no implementation.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise AuditError("lock_chain() must be called inside transaction.atomic()")
    try:
        lock = LOCKS[connection.vendor]
    except KeyError:
        raise AuditError(f"no audit chain lock for the {connection.vendor} database") from None
    with connection.cursor() as cursor:
        lock(cursor)
