"""Enqueuing (only after commit) and claiming (exactly one worker per job), on both databases.

Threaded tests run on PostgreSQL only: the SQLite test database is in memory (shared cache)
and its table locks behave unlike a database file's, so threads there would prove nothing.
On SQLite the conditional update's guard is shown deterministically: a worker holding a
stale candidate list cannot take a job another worker already claimed.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from jifen.jobs.claim import (
    CLAIMS,
    claim_by_id,
    claim_conditional,
    claim_next,
    claim_skip_locked,
)
from jifen.jobs.errors import DuplicateJobKind, UnknownJobKind
from jifen.jobs.models import Job, JobRun, JobStatus, RunOutcome
from jifen.jobs.queue import enqueue
from jifen.jobs.registry import get_handler, handler, kinds

T0 = dt.datetime(2025, 6, 2, 2, 0, tzinfo=dt.UTC)

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections to one database; the SQLite test database "
    "is in memory (shared cache), so the threaded tests run on PostgreSQL",
)


@pytest.fixture
def noop(register):
    register("test.noop", lambda context: {"ok": True})
    return "test.noop"


# --- enqueue ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enqueue_creates_a_queued_job(noop):
    job = enqueue(noop, {"n": 1}, now=T0)
    job.refresh_from_db()
    assert (job.kind, job.args, job.status) == (noop, {"n": 1}, JobStatus.QUEUED)
    assert job.run_after == job.created_at == T0
    assert job.attempts == 0 and job.max_attempts == 3
    later = enqueue(noop, {}, now=T0, run_after=T0 + dt.timedelta(hours=1), max_attempts=1)
    assert later.run_after == T0 + dt.timedelta(hours=1)


@pytest.mark.django_db
def test_enqueue_refuses_unknown_kinds_and_arguments_that_are_not_json(noop):
    with pytest.raises(UnknownJobKind):
        enqueue("test.nothing", {}, now=T0)
    with pytest.raises(TypeError):
        enqueue(noop, {"on": dt.date(2025, 6, 2)}, now=T0)
    with pytest.raises(TypeError):
        enqueue(noop, ["not", "an", "object"], now=T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        enqueue(noop, {"x": float("nan")}, now=T0)
    with pytest.raises(ValueError):
        enqueue(noop, {}, now=T0, max_attempts=0)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_job(noop):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(noop, {}, now=T0)
        raise RuntimeError("the caller failed")
    assert not Job.objects.exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_worker_sees_the_job_only_after_the_commit(noop):
    seen: list[Job | None] = []

    def worker_claims() -> None:
        try:
            seen.append(claim_next(worker="other", now=T0))
        finally:
            connection.close()

    with transaction.atomic():
        job = enqueue(noop, {}, now=T0)
        thread = threading.Thread(target=worker_claims)
        thread.start()
        thread.join(timeout=30)
        assert seen == [None]  # not committed yet: invisible to the worker
    thread = threading.Thread(target=worker_claims)
    thread.start()
    thread.join(timeout=30)
    assert seen[1] is not None and seen[1].pk == job.pk


# --- the registry ----------------------------------------------------------------------------


def test_the_scores_recompute_handler_is_registered_at_startup():
    assert "scores.recompute" in kinds()
    assert get_handler("scores.recompute").__module__ == "jifen.scores.handlers"


def test_a_kind_cannot_get_two_handlers(register):
    def first(context):
        return None

    def second(context):
        return {"other": True}

    register("test.twice", first)
    with pytest.raises(DuplicateJobKind):
        handler("test.twice")(second)
    assert get_handler("test.twice") is first


# --- claiming ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_claiming_marks_the_job_running_and_opens_a_run(noop):
    job = enqueue(noop, {}, now=T0)
    claimed = claim_next(worker="w1", now=T0 + dt.timedelta(seconds=5))
    assert claimed.pk == job.pk
    claimed.refresh_from_db()
    assert claimed.status == JobStatus.RUNNING and claimed.worker == "w1"
    assert claimed.attempts == 1
    assert claimed.started_at == claimed.heartbeat_at == T0 + dt.timedelta(seconds=5)
    run = JobRun.objects.get(job=job)
    assert (run.attempt, run.worker, run.outcome) == (1, "w1", RunOutcome.RUNNING)
    assert claim_next(worker="w2", now=T0) is None  # nothing else is ready


@pytest.mark.django_db
def test_jobs_are_claimed_oldest_first_when_due_and_by_kind(noop, register):
    register("test.other", lambda context: None)
    late = enqueue(noop, {"n": "late"}, now=T0, run_after=T0 + dt.timedelta(minutes=10))
    first = enqueue(noop, {"n": "first"}, now=T0 - dt.timedelta(minutes=1))
    other = enqueue("test.other", {}, now=T0)
    second = enqueue(noop, {"n": "second"}, now=T0)
    assert claim_next(worker="w", now=T0, kinds=[noop]).pk == first.pk
    assert claim_next(worker="w", now=T0, kinds=[noop]).pk == second.pk
    assert claim_next(worker="w", now=T0, kinds=[noop]) is None  # "late" is not due yet
    assert claim_next(worker="w", now=T0).pk == other.pk
    assert claim_next(worker="w", now=T0 + dt.timedelta(minutes=10)).pk == late.pk


@pytest.mark.django_db
@pytest.mark.parametrize("claim", [claim_conditional, claim_skip_locked], ids=["sqlite", "pg"])
def test_both_claim_implementations_give_a_job_once(noop, claim):
    if claim is claim_skip_locked and connection.vendor != "postgresql":
        pytest.skip("SELECT ... FOR UPDATE SKIP LOCKED is the PostgreSQL implementation")
    jobs = [enqueue(noop, {"n": n}, now=T0) for n in range(3)]
    got = [claim(worker=f"w{n}", now=T0) for n in range(4)]
    assert [j.pk for j in got[:3]] == [j.pk for j in jobs]
    assert got[3] is None


@pytest.mark.django_db
def test_a_worker_with_a_stale_candidate_cannot_take_a_claimed_job(noop):
    """The conditional update: the second UPDATE ... WHERE status = 'queued' changes no row."""
    job = enqueue(noop, {}, now=T0)
    assert claim_by_id(job.pk, worker="first", now=T0) is not None
    assert claim_by_id(job.pk, worker="second", now=T0) is None
    job.refresh_from_db()
    assert job.worker == "first" and job.attempts == 1
    assert JobRun.objects.filter(job=job).count() == 1


def test_each_database_has_its_claim():
    assert {"postgresql": claim_skip_locked, "sqlite": claim_conditional} == CLAIMS


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("claim", [claim_skip_locked, claim_conditional], ids=["skip", "cond"])
def test_concurrent_workers_never_claim_one_job_twice(noop, claim):
    jobs = {enqueue(noop, {"n": n}, now=T0).pk for n in range(60)}
    start = threading.Barrier(6)
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        try:
            start.wait(timeout=30)
            while (job := claim(worker=f"w{index}", now=T0)) is not None:
                with lock:
                    claimed.append(job.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(claimed) == sorted(jobs)  # every job once, none twice
    assert Job.objects.filter(status=JobStatus.RUNNING, attempts=1).count() == 60
    assert JobRun.objects.count() == 60
