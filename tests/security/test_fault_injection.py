# ruff: noqa: F811  (pytest fixtures imported from the claims and rankings tests)
"""Fault injection: the database connection drops in the middle of a review decision, a feed
import and a ranking freeze; the notification channel fails.

The drop is injected at a point where the operation has written part of its rows and not yet
committed: inside ``apply_fact(s)`` (facts being written), after ``store`` (the ranking and its
entries written) and at the audit entry (the last write). On PostgreSQL the connection is
really terminated (``pg_terminate_backend`` of its own backend, so the driver raises the
``OperationalError`` a network drop gives); on SQLite the error is raised at that point.

Each time: no table changed (every row count as before), the audit chain head unchanged and
the chain intact; then the same call, retried on a new connection, gives the complete result,
once. A failing SMS/e-mail gateway leaves the business transaction standing and the outbox
message pending; the retry delivers it, once.
"""

from __future__ import annotations

import datetime as dt
import importlib
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connection

from jifen.audit.actors import Actor
from jifen.audit.chain import chain_head, verify_chain
from jifen.audit.models import AuditEntry
from jifen.claims import services as claim_services
from jifen.claims.models import ClaimItem, ReviewState
from jifen.demo.population import build_demo_feeds
from jifen.facts.models import Fact
from jifen.feeds.importer import import_batch
from jifen.feeds.models import FeedBatch
from jifen.notifications.models import OutboxMessage, OutboxStatus
from jifen.notifications.services import DeliveryFailed, deliver
from jifen.rankings.models import Ranking, RankingEntry, RankingState
from jifen.rankings.services import freeze_ranking
from jifen.rankings.services import ranking as ranking_module
from tests.claims.conftest import (  # noqa: F401  (fixtures)
    NOW,
    _fast,
    resident,
    resident_user,
    submit,
    town_reviewer,
)
from tests.rankings.conftest import FROZEN, center, define, enrol  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


class Dropped(OperationalError):
    """Marks the simulated drop on SQLite (on PostgreSQL the driver's own error comes)."""


def drop_connection() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    raise Dropped("the database connection dropped (simulated)")


def inject(target: str, *, after: bool = False):
    """Patch ``target`` so that its first call drops the connection (before or after it runs);
    later calls run the real function."""
    module, name = target.rsplit(".", 1)
    real = getattr(importlib.import_module(module), name)
    state = {"dropped": False}

    def wrapper(*args, **kwargs):
        if state["dropped"]:
            return real(*args, **kwargs)
        state["dropped"] = True
        if after:
            real(*args, **kwargs)
        drop_connection()

    return mock.patch(target, side_effect=wrapper), state


def reconnect() -> None:
    """What the next request or job does after a failed one: a fresh connection."""
    connection.close()


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


@contextmanager
def nothing_half_written():
    """The block must fail with a dropped connection and leave every table as it was."""
    before, head = row_counts(), chain_head()
    with pytest.raises(OperationalError) as raised:
        yield
    if connection.vendor == "postgresql":  # the driver's error: the connection really dropped
        assert not isinstance(raised.value, Dropped), raised.value
    reconnect()
    after = row_counts()
    changed = {t: (before[t], after.get(t)) for t in before if before[t] != after.get(t)}
    assert not changed, f"half written: {changed}"
    assert chain_head() == head
    assert verify_chain().ok


# --- a review decision ----------------------------------------------------------------------


@pytest.fixture
def accepted_task(submit, town_reviewer):
    task = submit().tasks.get()
    return claim_services.accept(task, user=town_reviewer, now=NOW)


def decide(task, reviewer):
    return claim_services.decide(
        task,
        user=reviewer,
        decisions=[claim_services.ItemDecision(task.items.get(), "approved")],
        now=NOW,
    )


@pytest.mark.parametrize(
    ("target", "after"),
    [
        ("jifen.claims.services.review.apply_fact", False),  # while writing the fact
        ("jifen.claims.services.review.audit", False),  # at the audit entry, all else written
    ],
)
def test_a_review_decision_interrupted_by_a_dropped_connection_leaves_nothing_and_retries(
    accepted_task, town_reviewer, target, after
):
    patcher, state = inject(target, after=after)
    with nothing_half_written(), patcher:
        decide(accepted_task, town_reviewer)
    assert state["dropped"]
    accepted_task.refresh_from_db()
    assert accepted_task.state == ReviewState.ACCEPTED

    task = decide(accepted_task, town_reviewer)
    task.refresh_from_db()
    assert task.state == ReviewState.APPROVED
    item = ClaimItem.objects.get(task=task)
    assert item.outcome == "approved" and not item.is_open
    assert Fact.objects.filter(pk=item.fact_id, source="claim").count() == 1
    assert AuditEntry.objects.filter(action="claim.decided").count() == 1
    assert OutboxMessage.objects.filter(kind="claim.decided").count() == 1
    assert verify_chain().ok


# --- a feed import --------------------------------------------------------------------------

FEED_DAY = dt.datetime(2025, 6, 2, 9, 0, tzinfo=NOW.tzinfo)


def demo_files():
    return build_demo_feeds(12, FEED_DAY.date(), seed=7).csv_files()


def run_import(code, content):
    return import_batch(
        code,
        content,
        file_name=f"{code}.csv",
        now=FEED_DAY,
        actor=Actor.system(f"feed:{code}"),
        content_type="text/csv",
    )


@pytest.mark.parametrize(
    ("target", "after"),
    [
        ("jifen.facts.services.apply_facts", True),  # after the first chunk of facts
        ("jifen.feeds.importer.record", False),  # at the audit entry, all rows applied
    ],
)
def test_a_feed_import_interrupted_by_a_dropped_connection_leaves_nothing_and_retries(
    target, after
):
    files = demo_files()
    # The registration feed first (residents), then a feed of facts is interrupted.
    registration, (code, content) = (
        files[0],
        next((c, b) for c, b in files[1:] if b.count(b"\n") > 2),
    )
    run_import(*registration)
    patcher, state = inject(target, after=after)
    with nothing_half_written(), patcher:
        run_import(code, content)
    assert state["dropped"]
    assert not FeedBatch.objects.filter(feed=code).exists()

    facts_before = Fact.objects.count()
    batch = run_import(code, content)
    assert batch.status == "applied" and batch.rows > 0
    written = Fact.objects.count() - facts_before
    assert written > 0
    assert (
        AuditEntry.objects.filter(action="feed.batch_imported", object_id=str(batch.pk)).count()
        == 1
    )
    # Retried again, the same file is a replay: the same batch, nothing written twice.
    assert run_import(code, content).pk == batch.pk
    assert Fact.objects.count() - facts_before == written
    assert verify_chain().ok


# --- a ranking freeze -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "after"),
    [
        ("jifen.rankings.services.ranking.store", True),  # ranking and entries written
        ("jifen.rankings.services.ranking.audit", False),  # at the audit entry
    ],
)
def test_a_ranking_freeze_interrupted_by_a_dropped_connection_leaves_nothing_and_retries(
    define, enrol, center, target, after
):
    version = define()
    for points in (50, 60, 70):
        enrol(version, points)
    patcher, state = inject(target, after=after)
    with nothing_half_written(), patcher:
        freeze_ranking(version=version, user=center, now=FROZEN)
    assert state["dropped"]
    assert not Ranking.objects.exists()

    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    assert ranking.state == RankingState.FROZEN
    assert Ranking.objects.count() == 1
    assert RankingEntry.objects.filter(ranking=ranking).count() == 3
    assert ranking_module.rerun(ranking) == ranking.content_hash
    assert AuditEntry.objects.filter(action="ranking.frozen").count() == 1


# --- the notification channel fails ---------------------------------------------------------

SENT: list[tuple[int, str]] = []


class FailingGateway:
    def send(self, message, address):
        raise ConnectionError("SMS gateway unreachable")


class RecordingGateway:
    def send(self, message, address):
        SENT.append((message.pk, address))
        return f"gw-{message.pk}"


def test_a_failing_notification_channel_keeps_the_decision_and_delivers_on_retry(
    accepted_task, town_reviewer, resident, settings
):
    SENT.clear()
    settings.JIFEN_NOTIFY_CHANNEL = f"{__name__}.FailingGateway"
    decide(accepted_task, town_reviewer)
    message = OutboxMessage.objects.get(kind="claim.decided")

    with pytest.raises(DeliveryFailed):
        deliver(message.pk, now=NOW)
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1 and "unreachable" in message.last_error
    accepted_task.refresh_from_db()
    assert accepted_task.state == ReviewState.APPROVED  # the business transaction stands
    assert Fact.objects.filter(source="claim").count() == 1

    settings.JIFEN_NOTIFY_CHANNEL = f"{__name__}.RecordingGateway"
    assert deliver(message.pk, now=NOW) == OutboxStatus.SENT
    assert deliver(message.pk, now=NOW) == OutboxStatus.SENT  # a repeated job sends nothing
    assert [(message.pk, resident.phone)] == SENT
    message.refresh_from_db()
    assert message.receipt == f"gw-{message.pk}" and message.last_error == ""
