"""The chain lock: both implementations, and proof that concurrent writers need it.

The threaded tests run on PostgreSQL only: the SQLite test database is in memory, shared
between threads through SQLite's shared cache, whose table locks behave differently from a
database file's, so a threaded test there would prove nothing about production. The SQLite
lock itself is tested on a database file with two plain connections.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from jifen.audit import chain, locking
from jifen.audit.actors import Actor
from jifen.audit.chain import verify_chain
from jifen.audit.errors import AuditError
from jifen.audit.locking import POSTGRESQL_LOCK_KEY, lock_chain, lock_sqlite
from jifen.audit.models import AuditEntry
from jifen.audit.services import record

T0 = dt.datetime(2025, 3, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
THREADS = 6
#: Time between reading the head and inserting: wide enough that, without the lock, every
#: thread reads the same head, which makes the failure deterministic instead of lucky.
HEAD_TO_INSERT_DELAY = 0.05

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections to one database file or server; the SQLite "
    "test database is in memory (shared cache), so the threaded test runs on PostgreSQL",
)


@pytest.fixture
def slow_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pause after every head read, widening the race window."""
    real = chain.chain_head

    def head_then_pause(using: str) -> tuple[int, str]:
        head = real(using)
        time.sleep(HEAD_TO_INSERT_DELAY)
        return head

    monkeypatch.setattr(chain, "chain_head", head_then_pause)


def record_from_threads(per_thread: int) -> list[BaseException]:
    """Each thread, on its own connection, records ``per_thread`` entries; returns errors."""
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(per_thread):
                with transaction.atomic():
                    record(
                        "job.step_done",
                        actor=Actor.system(f"job:worker_{worker}"),
                        occurred_at=T0 + dt.timedelta(seconds=i),
                        data={"worker": worker, "step": i},
                    )
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_produce_one_unbroken_chain(slow_head):
    errors = record_from_threads(per_thread=4)
    assert errors == []
    sequences = list(AuditEntry.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, THREADS * 4 + 1))
    report = verify_chain()
    assert report.ok, str(report)
    assert report.checked == THREADS * 4


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_without_the_lock_concurrent_writers_collide(slow_head, monkeypatch):
    """The lock is what serialises writers; without it they read the same head."""
    monkeypatch.setattr(locking, "lock_chain", lambda using="default": None)
    collisions: list[BaseException] = []
    for _ in range(3):  # bounded: the delay makes the first round collide in practice
        errors = record_from_threads(per_thread=1)
        assert all(isinstance(error, IntegrityError) for error in errors), errors
        collisions += errors
        if collisions:
            break
    assert collisions, "writers without the lock never collided"
    # The unique sequence is the second line of defence: refused, never forked.
    assert verify_chain().ok


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_postgresql_lock_is_held_until_the_transaction_ends():
    def other_session_can_lock() -> bool:
        result: list[bool] = []

        def probe() -> None:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [POSTGRESQL_LOCK_KEY])
                    result.append(cursor.fetchone()[0])
            finally:
                connection.close()

        thread = threading.Thread(target=probe)
        thread.start()
        thread.join(timeout=30)
        return result[0]

    with transaction.atomic():
        lock_chain()
        with transaction.atomic():  # a savepoint's end does not release it
            pass
        assert not other_session_can_lock()
    assert other_session_can_lock()


def test_sqlite_lock_takes_the_write_lock_before_the_head_is_read(tmp_path):
    path = tmp_path / "audit.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE audit_auditentry (sequence INTEGER NOT NULL UNIQUE)")
    setup.execute("INSERT INTO audit_auditentry VALUES (1)")
    setup.commit()
    setup.close()
    first = sqlite3.connect(path, timeout=0)
    second = sqlite3.connect(path, timeout=0)
    try:
        lock_sqlite(first.cursor())
        assert first.in_transaction
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            lock_sqlite(second.cursor())
        first.execute("INSERT INTO audit_auditentry VALUES (2)")
        first.commit()
        # Once the holder commits, the next writer locks and sees the new head.
        lock_sqlite(second.cursor())
        head = second.execute("SELECT max(sequence) FROM audit_auditentry").fetchone()[0]
        assert head == 2
        second.rollback()
    finally:
        first.close()
        second.close()


@pytest.mark.django_db
def test_each_vendor_of_the_project_has_a_lock():
    assert connection.vendor in locking.LOCKS
    with transaction.atomic():
        lock_chain()  # the implementation of the database under test runs


def test_locking_outside_a_transaction_is_refused():
    with pytest.raises(AuditError, match="atomic"):
        lock_chain()
