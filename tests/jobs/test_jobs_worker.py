"""Running jobs: results, failures and retries, progress, heartbeats, stale and lost jobs."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection

from jifen.jobs.claim import claim_next
from jifen.jobs.errors import JobLost
from jifen.jobs.models import Job, JobRun, JobStatus, RunOutcome
from jifen.jobs.queue import enqueue
from jifen.jobs.worker import requeue_stale, retry_delay, run_job, run_worker, work_once

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections to one database; the SQLite test database "
    "is in memory (shared cache), so the threaded tests run on PostgreSQL",
)


def claimed(kind, clock, **args):
    enqueue(kind, args, now=clock())
    return claim_next(worker="w1", now=clock())


def test_a_successful_run_is_recorded_with_its_result(register, clock):
    def count(context):
        context.progress(0, 3)
        clock.advance(seconds=5)
        for done in (1, 2, 3):
            context.progress(done)
        return {"counted": context.args["n"]}

    register("test.count", count)
    job = claimed("test.count", clock, n=3)
    assert run_job(job, worker="w1", clock=clock) == JobStatus.DONE
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result == {"counted": 3}
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.finished_at == job.heartbeat_at == clock()
    run = JobRun.objects.get(job=job)
    assert run.outcome == RunOutcome.DONE and run.finished_at == clock()


def test_a_failure_is_retried_with_backoff_then_recorded_as_failed(register, clock):
    def broken(context):
        raise ValueError(f"bad row on attempt {context.attempt}")

    register("test.broken", broken)
    job = enqueue("test.broken", {}, now=clock())
    delays = []
    for attempt in (1, 2, 3):
        got = claim_next(worker="w1", now=clock())
        assert got.pk == job.pk and got.attempts == attempt
        status = run_job(got, worker="w1", clock=clock)
        job.refresh_from_db()
        assert f"ValueError: bad row on attempt {attempt}" in job.error
        assert "Traceback" in job.error
        if attempt < 3:
            assert status == JobStatus.QUEUED and job.worker == ""
            delays.append(job.run_after - clock())
            assert claim_next(worker="w1", now=clock()) is None  # not before the backoff
            clock.now = job.run_after
        else:
            assert status == JobStatus.FAILED and job.finished_at == clock()
    assert delays == [dt.timedelta(seconds=30), dt.timedelta(seconds=60)]
    runs = JobRun.objects.filter(job=job).order_by("attempt")
    assert [r.outcome for r in runs] == [RunOutcome.FAILED] * 3
    assert all("ValueError" in r.error for r in runs)
    assert claim_next(worker="w1", now=clock() + dt.timedelta(days=1)) is None


def test_without_retry_a_failure_is_final(register, clock):
    register("test.once", lambda context: 1 / 0)
    job = claimed("test.once", clock)
    assert run_job(job, worker="w1", clock=clock, retry=False) == JobStatus.FAILED
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "ZeroDivisionError" in job.error


def test_backoff_doubles_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [
        30,
        60,
        120,
        3600,
        3600,
    ]


def test_a_stale_running_job_is_requeued_and_its_run_marked_lost(register, clock):
    register("test.noop", lambda context: None)
    job = claimed("test.noop", clock)
    fresh = claimed("test.noop", clock)
    clock.advance(minutes=11)
    Job.objects.filter(pk=fresh.pk).update(heartbeat_at=clock() - dt.timedelta(minutes=1))
    assert requeue_stale(now=clock(), older_than=dt.timedelta(minutes=10)) == 1
    job.refresh_from_db()
    fresh.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.run_after == clock()
    assert "worker lost" in job.error
    assert fresh.status == JobStatus.RUNNING  # its heartbeat is recent
    assert JobRun.objects.get(job=job).outcome == RunOutcome.LOST
    again = claim_next(worker="w2", now=clock())
    assert again.pk == job.pk and again.attempts == 2


def test_a_job_that_keeps_losing_its_workers_ends_failed(register, clock):
    register("test.noop", lambda context: None)
    enqueue("test.noop", {}, now=clock(), max_attempts=1)
    job = claim_next(worker="w1", now=clock())
    clock.advance(hours=1)
    assert requeue_stale(now=clock(), older_than=dt.timedelta(minutes=10)) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.finished_at == clock()


def test_a_worker_that_lost_its_job_does_not_overwrite_the_new_owner(register, clock):
    def slow(context):
        # Meanwhile the job was presumed dead and taken by another worker.
        requeue_stale(now=context.now() + dt.timedelta(hours=1))
        claim_next(worker="w2", now=context.now() + dt.timedelta(hours=1))
        context.progress(1, 2)  # raises JobLost: not ours any more
        return {"never": "stored"}

    register("test.slow", slow)
    job = claimed("test.slow", clock)
    assert run_job(job, worker="w1", clock=clock) == JobStatus.QUEUED
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.worker == "w2" and job.result == {}


def test_progress_reports_raise_once_the_job_is_gone(register, clock):
    seen = []

    def check(context):
        Job.objects.filter(pk=context.job.pk).update(status=JobStatus.FAILED)
        with pytest.raises(JobLost):
            context.heartbeat()
        seen.append(True)

    register("test.check", check)
    run_job(claimed("test.check", clock), worker="w1", clock=clock)
    assert seen == [True]


@pytest.mark.parametrize(
    ("requeue", "status"), [(True, JobStatus.QUEUED), (False, JobStatus.FAILED)]
)
def test_an_interrupted_run_is_recorded_and_reraised(register, clock, requeue, status):
    def interrupted(context):
        context.save_checkpoint({"after": "x"}, done=5)
        raise KeyboardInterrupt

    register("test.interrupted", interrupted)
    job = claimed("test.interrupted", clock)
    with pytest.raises(KeyboardInterrupt):
        run_job(job, worker="w1", clock=clock, requeue_on_interrupt=requeue)
    job.refresh_from_db()
    assert job.status == status and job.error == "interrupted"
    assert job.checkpoint == {"after": "x"} and job.progress_done == 5
    assert JobRun.objects.get(job=job).outcome == RunOutcome.INTERRUPTED


def test_the_worker_runs_what_is_ready_and_stops_with_once(register, clock):
    ran = []
    register("test.record", lambda context: ran.append(context.args["n"]))
    for n in range(3):
        enqueue("test.record", {"n": n}, now=clock())
    enqueue("test.record", {"n": "later"}, now=clock(), run_after=clock() + dt.timedelta(days=1))
    assert run_worker(once=True, clock=clock, heartbeat=0) == 3
    assert ran == [0, 1, 2]
    assert Job.objects.filter(status=JobStatus.DONE).count() == 3
    assert work_once(worker="w", clock=clock) is None


def test_the_worker_command_runs_the_queue(register, capsys):
    register("test.record", lambda context: {"n": context.args["n"]})
    from django.utils import timezone

    enqueue("test.record", {"n": 1}, now=timezone.now())
    call_command("worker", "--once")
    assert "1 job(s) run" in capsys.readouterr().out
    assert Job.objects.get().status == JobStatus.DONE


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_one_job_twice(register):
    from django.utils import timezone

    runs: list[int] = []
    lock = threading.Lock()

    def record(context):
        time.sleep(0.01)
        with lock:
            runs.append(context.args["n"])

    register("test.record", record)
    for n in range(40):
        enqueue("test.record", {"n": n}, now=timezone.now())
    counts = []

    def worker() -> None:
        try:
            counts.append(run_worker(once=True, heartbeat=0))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(runs) == list(range(40))  # each job ran exactly once
    assert sum(counts) == 40
    assert Job.objects.filter(status=JobStatus.DONE, attempts=1).count() == 40


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrency_runs_jobs_in_threads(register):
    from django.utils import timezone

    names: set[str] = set()

    def record(context):
        time.sleep(0.05)
        names.add(context.worker)

    register("test.record", record)
    for n in range(8):
        enqueue("test.record", {"n": n}, now=timezone.now())
    assert run_worker(once=True, concurrency=3, heartbeat=0) == 8
    assert len(names) > 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_long_job_keeps_its_heartbeat(register):
    from django.utils import timezone

    beats: list[dt.datetime] = []

    def long(context):
        first = Job.objects.get(pk=context.job.pk).heartbeat_at
        time.sleep(0.6)
        beats.extend([first, Job.objects.get(pk=context.job.pk).heartbeat_at])

    register("test.long", long)
    enqueue("test.long", {}, now=timezone.now())
    job = claim_next(worker="w1", now=timezone.now())
    assert run_job(job, worker="w1", heartbeat=0.1) == JobStatus.DONE
    assert beats[1] > beats[0]
