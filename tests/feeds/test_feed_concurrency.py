"""Two copies of one file imported at the same time: one batch, the other is its replay.

PostgreSQL only: threads need their own connections, and the SQLite test database is in
memory (shared cache), whose locking says nothing about production.
"""

from __future__ import annotations

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection

from jifen.audit.actors import Actor
from jifen.facts.models import Fact
from jifen.feeds.importer import import_feed
from jifen.feeds.models import FeedBatch
from jifen.org.routing import sync_routes_from_policies
from jifen.scores.policies import current_policies

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="threads need separate connections; the SQLite test database is in memory",
    ),
    pytest.mark.django_db(transaction=True),
]


def reseed() -> None:
    """An earlier transactional test may have flushed the seeded organisation data."""
    seeding = importlib.import_module("jifen.org.migrations.0002_seed_towns_and_departments")
    seeding.seed(apps, None)
    sync_routes_from_policies(current_policies())


def test_the_same_file_sent_twice_at_once_is_applied_once(now, recompute_calls):
    from tests.factories import make_resident

    reseed()
    residents = [make_resident() for _ in range(20)]
    content = (
        "identity_number,record_id,rule,quantity\n"
        + "".join(f"{r.identity_number},P-{i},pension_insurance.months,{i}\n"
                  for i, r in enumerate(residents))
    ).encode()  # fmt: skip
    start = threading.Barrier(2)
    results, errors = [], []

    def send() -> None:
        try:
            start.wait(timeout=30)
            results.append(
                import_feed(
                    "hrss", content, file_name="x.csv", now=now, actor=Actor.system("feed:hrss")
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(r.replayed for r in results) == [False, True]
    assert len({r.batch.pk for r in results}) == 1
    assert FeedBatch.objects.count() == 1
    assert Fact.objects.count() == 20
    assert FeedBatch.objects.get().accepted == 20
