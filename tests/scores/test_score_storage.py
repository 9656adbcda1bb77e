"""Writing scores in bulk (COPY on PostgreSQL, bulk_create elsewhere) and the recompute lock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from jifen.scores.locking import LOCKS, LockError, lock_postgresql, lock_residents, lock_sqlite
from jifen.scores.models import Score
from jifen.scores.services import compute_score
from jifen.scores.storage import INSERTS, insert_portable, insert_postgresql, insert_scores
from tests.factories import make_resident

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ON = dt.date(2025, 6, 2)

pytestmark = pytest.mark.django_db


def test_each_database_has_its_insert_and_its_lock():
    assert {"postgresql": insert_postgresql, "sqlite": insert_portable} == INSERTS
    assert {"postgresql": lock_postgresql, "sqlite": lock_sqlite} == LOCKS


def test_inserted_scores_get_their_keys_and_read_back_unchanged(give_facts, profile):
    people = [make_resident(now=NOW) for _ in range(3)]
    for person in people:
        give_facts(person, profile, now=NOW)
    scores = [compute_score(p, on=ON, now=NOW) for p in people]
    scores[1].result["explanation"][0]["reason_zh"] += '（含\\反斜杠、"引号"和\t制表符）'
    insert_scores(scores)
    assert all(s.pk is not None for s in scores) and len({s.pk for s in scores}) == 3
    for score in scores:
        stored = Score.objects.get(pk=score.pk)
        assert stored.result == score.result
        assert stored.fact_ids == score.fact_ids
        assert (stored.total, stored.evaluation_date, stored.computed_at) == (
            score.total,
            score.evaluation_date,
            score.computed_at,
        )
        assert stored.resident_id == score.resident_id and not stored.is_current
    insert_scores([])  # nothing to do


@pytest.mark.django_db(transaction=True)
def test_the_lock_needs_a_transaction(reseeded):
    resident = make_resident(now=NOW)
    with pytest.raises(LockError):
        lock_residents([resident.pk])
    with transaction.atomic():
        lock_residents([resident.pk])  # fine inside one


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections; the SQLite test database is in memory",
)


def recompute_from_threads(resident, monkeypatch) -> list[BaseException]:
    """Two recomputes of one resident at once, each pausing after reading, on two dates."""
    import threading
    import time

    from jifen.audit.actors import Actor
    from jifen.scores import services

    real = services._previous_scores

    def slow(*args, **kwargs):
        found = real(*args, **kwargs)
        time.sleep(0.5)  # both have read "the current score" before either writes
        return found

    monkeypatch.setattr(services, "_previous_scores", slow)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(day: dt.date) -> None:
        try:
            start.wait(timeout=30)
            services.recompute_batch(
                [resident.pk], on=day, now=NOW, actor=Actor.system("test:race")
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(ON + dt.timedelta(days=d),)) for d in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_of_one_resident_wait_for_each_other(reseeded, monkeypatch):
    resident = make_resident(now=NOW)
    assert recompute_from_threads(resident, monkeypatch) == []
    assert Score.objects.filter(resident=resident).count() == 2
    assert Score.objects.filter(resident=resident, is_current=True).count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_without_the_lock_one_of_two_concurrent_recomputes_fails(reseeded, monkeypatch):
    from django.db import IntegrityError

    from jifen.scores import locking

    monkeypatch.setitem(locking.LOCKS, "postgresql", lambda cursor, ids: None)
    resident = make_resident(now=NOW)
    errors = recompute_from_threads(resident, monkeypatch)
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    assert "scores_one_current_per_resident" in str(errors[0])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write lock")
def test_the_sqlite_lock_takes_the_write_lock_at_once(tmp_path):
    import sqlite3

    path = tmp_path / "lock.sqlite3"
    first = sqlite3.connect(path, timeout=0, isolation_level=None)
    second = sqlite3.connect(path, timeout=0, isolation_level=None)
    first.execute("CREATE TABLE scores_score (id INTEGER PRIMARY KEY)")
    first.execute("BEGIN")
    lock_sqlite(first.cursor(), [])
    second.execute("BEGIN")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        lock_sqlite(second.cursor(), [])
    first.execute("COMMIT")
    lock_sqlite(second.cursor(), [])  # free again
    second.execute("COMMIT")
