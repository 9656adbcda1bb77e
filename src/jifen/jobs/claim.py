"""Claiming a job: exactly one worker gets each ready job.

Two implementations behind one function, chosen by database vendor:

- PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks the first ready job no other
  transaction holds, and marks it running in the same transaction. Concurrent workers skip
  each other's rows instead of queueing behind them.
- SQLite (one writer at a time): a conditional update, ``UPDATE ... SET status = 'running'
  WHERE id = ? AND status = 'queued'``. Whoever updates one row has the job; a worker that
  updates none lost the race and tries the next candidate. (This one is correct on
  PostgreSQL too: the losing UPDATE waits for the winner's commit, re-reads the row and
  matches nothing. The tests run it on both.)

Every claim counts an attempt and opens a :class:`~jifen.jobs.models.JobRun`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F, Q

from jifen.jobs.models import Job, JobRun, JobStatus

#: Candidates a conditional claim tries before giving up for this poll.
CANDIDATES = 5

ClaimFunction = Callable[..., Job | None]


def ready(now: dt.datetime, kinds: Sequence[str] | None = None) -> Q:
    """Jobs that may start now."""
    condition = Q(status=JobStatus.QUEUED, run_after__lte=now)
    if kinds:
        condition &= Q(kind__in=list(kinds))
    return condition


def _running(job: Job, *, worker: str, now: dt.datetime) -> None:
    job.status = JobStatus.RUNNING
    job.worker = worker
    job.started_at = now
    job.heartbeat_at = now
    job.finished_at = None


def claim_skip_locked(
    *,
    worker: str,
    now: dt.datetime,
    kinds: Sequence[str] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Job | None:
    """PostgreSQL: lock the first ready job nobody else holds, mark it running, commit."""
    with transaction.atomic(using=using):
        job = (
            Job.objects.using(using)
            .select_for_update(skip_locked=True)
            .filter(ready(now, kinds))
            .order_by("run_after", "id")
            .first()
        )
        if job is None:
            return None
        _running(job, worker=worker, now=now)
        job.attempts += 1
        job.save(
            using=using,
            update_fields=[
                "status",
                "worker",
                "started_at",
                "heartbeat_at",
                "finished_at",
                "attempts",
            ],
        )
        _open_run(job, using=using)
    return job


def claim_conditional(
    *,
    worker: str,
    now: dt.datetime,
    kinds: Sequence[str] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Job | None:
    """SQLite (and any database): a conditional update; the one that changes a row wins.

    When every candidate went to other workers, look again: each lost race means another
    worker made progress, so this ends, and a ready job is never left behind.
    """
    while True:
        candidates = list(
            Job.objects.using(using)
            .filter(ready(now, kinds))
            .order_by("run_after", "id")
            .values_list("pk", flat=True)[:CANDIDATES]
        )
        if not candidates:
            return None
        for pk in candidates:
            job = claim_by_id(pk, worker=worker, now=now, using=using)
            if job is not None:
                return job


def claim_by_id(
    pk: int,
    *,
    worker: str,
    now: dt.datetime,
    statuses: Sequence[str] = (JobStatus.QUEUED,),
    using: str = DEFAULT_DB_ALIAS,
    require_ready: bool = True,
) -> Job | None:
    """Claim one given job if it is still in one of ``statuses`` (a conditional update)."""
    condition = Q(pk=pk, status__in=list(statuses))
    if require_ready:
        condition &= Q(run_after__lte=now)
    with transaction.atomic(using=using):
        changed = (
            Job.objects.using(using)
            .filter(condition)
            .update(
                status=JobStatus.RUNNING,
                worker=worker,
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
                attempts=F("attempts") + 1,
            )
        )
        if changed != 1:
            return None
        job = Job.objects.using(using).get(pk=pk)
        _open_run(job, using=using)
    return job


def _open_run(job: Job, *, using: str) -> None:
    JobRun.objects.using(using).create(
        job=job, attempt=job.attempts, worker=job.worker, started_at=job.started_at
    )


#: The claim implementation of each supported database vendor.
CLAIMS: dict[str, ClaimFunction] = {
    "postgresql": claim_skip_locked,
    "sqlite": claim_conditional,
}


def claim_next(
    *,
    worker: str,
    now: dt.datetime,
    kinds: Sequence[str] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Job | None:
    """Claim the next ready job for ``worker`` (oldest ``run_after`` first), or None."""
    claim = CLAIMS.get(connections[using].vendor, claim_conditional)
    return claim(worker=worker, now=now, kinds=kinds, using=using)
