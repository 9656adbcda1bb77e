"""Two writers changing one permit at once: the row lock makes the second see the first.

PostgreSQL only, like the audit chain's threaded tests: the SQLite test database is in memory
(shared cache), so threads there would prove nothing about production. An earlier
transactional test may have flushed the seeded towns, so the town is made again here.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.db.models import QuerySet

from jifen.audit.actors import Actor
from jifen.org.models import Town
from jifen.residents.errors import PermitStatusUnchanged
from jifen.residents.models import (
    PermitChangeSource,
    PermitStatus,
    PermitStatusChange,
    ResidencePermit,
)
from jifen.residents.services import change_permit_status
from tests.factories import NOW, make_resident

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="threads need separate connections to one database server",
    ),
    pytest.mark.django_db(transaction=True),
]

#: Pause between the status check and the history insert, so that without the lock both
#: writers pass the check.
CHECK_TO_INSERT_DELAY = 0.2


@pytest.fixture
def slow_history(monkeypatch):
    manager = PermitStatusChange.objects
    real = manager.create

    def create_after_pause(**kwargs):
        time.sleep(CHECK_TO_INSERT_DELAY)
        return real(**kwargs)

    monkeypatch.setattr(manager, "create", create_after_pause)


@pytest.fixture
def no_recompute(monkeypatch):
    """The callbacks run for real here (transactional test); keep the scores out of it."""
    monkeypatch.setattr(
        "jifen.residents.services._request_recompute", lambda resident_id, now: None
    )


@pytest.fixture(autouse=True)
def town():
    """The seeded town, present again after another transactional test's flush."""
    return Town.objects.get_or_create(code="wutong", defaults={"name": "梧桐街道"})[0]


def suspend_from_threads(permit_pk) -> tuple[list, list[BaseException]]:
    start = threading.Barrier(2)
    results: list = []
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            permit = ResidencePermit.objects.get(pk=permit_pk)
            start.wait(timeout=30)
            results.append(
                change_permit_status(
                    permit,
                    status=PermitStatus.SUSPENDED,
                    effective_on=dt.date(2025, 3, 1),
                    source=PermitChangeSource.FEED,
                    source_ref=f"worker-{worker}",
                    reason="missed endorsement",
                    now=NOW,
                    actor=Actor.system("feed:public_security_bureau"),
                )
            )
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results, errors


def test_concurrent_changes_apply_once(slow_history, no_recompute):
    permit = make_resident().current_permit
    results, errors = suspend_from_threads(permit.pk)
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], PermitStatusUnchanged), errors
    assert PermitStatusChange.objects.filter(permit=permit, status="suspended").count() == 1


def test_without_the_row_lock_both_writers_apply(slow_history, no_recompute, monkeypatch):
    """The lock is what serialises the writers: without it both pass the check."""
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, **kwargs: self)
    permit = make_resident().current_permit
    results, errors = suspend_from_threads(permit.pk)
    assert errors == []
    assert PermitStatusChange.objects.filter(permit=permit, status="suspended").count() == 2
    assert len(results) == 2
