"""Running jobs: the worker loop, one job's run, retries, heartbeats and stale jobs.

A run ends in one of three ways, each recorded on the job and its :class:`JobRun`:

- done: the handler returned; its summary is the job's ``result``;
- failed: the handler raised; the traceback is kept; the job is queued again after a
  backoff (30 s, 1 min, 2 min ... at most an hour) until ``max_attempts``, then it stays
  failed;
- interrupted (Ctrl-C, SIGTERM during the run): queued again at once by a worker, or marked
  failed by a foreground command (which resumes it when run again).

While a job runs, the worker's heartbeat (every ``heartbeat`` seconds, from a small thread,
and on every progress report) shows it is alive; a running job whose heartbeat is older than
``stale_after`` belongs to a worker that died and is queued again (:func:`requeue_stale`).
Every update a worker makes to its job is conditional on still owning it (status running,
its name, its attempt), so a worker that was presumed dead cannot overwrite the new owner.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from jifen.jobs.claim import claim_next
from jifen.jobs.errors import JobLost
from jifen.jobs.models import Job, JobRun, JobStatus, RunOutcome
from jifen.jobs.registry import get_handler

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
ProgressCallback = Callable[[int, int], None]

BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
_ERROR_LENGTH = 20_000


def stale_after() -> dt.timedelta:
    """How long a running job may go without a heartbeat (``JIFEN_JOBS_STALE_AFTER`` s)."""
    return dt.timedelta(seconds=getattr(settings, "JIFEN_JOBS_STALE_AFTER", 600))


def heartbeat_interval() -> float:
    """Seconds between heartbeats of a running job (``JIFEN_JOBS_HEARTBEAT``)."""
    return float(getattr(settings, "JIFEN_JOBS_HEARTBEAT", 30))


def retry_delay(attempt: int) -> dt.timedelta:
    """Backoff before retrying after failed attempt number ``attempt`` (1, 2, ...)."""
    return min(BACKOFF_BASE * (2 ** max(attempt - 1, 0)), BACKOFF_MAX)


def worker_name(index: int = 0) -> str:
    """``host:pid:thread`` — unique among live workers, readable in the job list."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{index}"


class JobContext:
    """What a handler sees: its arguments, checkpoint, the clock, and progress reporting."""

    def __init__(
        self,
        job: Job,
        *,
        worker: str,
        clock: Clock,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.job = job
        self.worker = worker
        self._clock = clock
        self._on_progress = on_progress

    @property
    def args(self) -> dict[str, Any]:
        return self.job.args

    @property
    def checkpoint(self) -> dict[str, Any]:
        """Where an earlier, interrupted attempt got to (``{}`` on a first run)."""
        return dict(self.job.checkpoint or {})

    @property
    def attempt(self) -> int:
        return self.job.attempts

    def now(self) -> dt.datetime:
        return self._clock()

    def owned(self) -> Any:
        """This job, if this worker still holds this attempt of it."""
        return Job.objects.filter(
            pk=self.job.pk,
            status=JobStatus.RUNNING,
            worker=self.worker,
            attempts=self.job.attempts,
        )

    def _update(self, **fields: Any) -> None:
        if self.owned().update(heartbeat_at=self.now(), **fields) != 1:
            raise JobLost(f"job #{self.job.pk} is no longer held by {self.worker}")

    def heartbeat(self) -> None:
        self._update()

    def progress(self, done: int, total: int | None = None) -> None:
        """Report progress (``done`` of ``total`` units); also a heartbeat."""
        fields: dict[str, Any] = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
            self.job.progress_total = total
        self._update(**fields)
        self.job.progress_done = done
        if self._on_progress is not None:
            self._on_progress(done, self.job.progress_total)

    def save_checkpoint(self, checkpoint: dict[str, Any], *, done: int | None = None) -> None:
        """Store where the job got to. Call it inside the transaction of the work it
        describes, so the checkpoint and the work commit (or roll back) together."""
        fields: dict[str, Any] = {"checkpoint": checkpoint}
        if done is not None:
            fields["progress_done"] = done
        self._update(**fields)
        self.job.checkpoint = checkpoint
        if done is not None:
            self.job.progress_done = done
            if self._on_progress is not None:
                self._on_progress(done, self.job.progress_total)


class _Heartbeat:
    """A thread that beats for a running job on its own database connection."""

    def __init__(self, context: JobContext, interval: float) -> None:
        self.context = context
        self.interval = interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"heartbeat-{context.job.pk}")
        self.thread.daemon = True

    def run(self) -> None:
        try:
            while not self.stop.wait(self.interval):
                try:
                    self.context.heartbeat()
                except JobLost:
                    return
                except DatabaseError:  # SQLite busy with the job's own write; next beat
                    logger.debug("heartbeat of job #%s skipped", self.context.job.pk)
        finally:
            connection.close()

    def __enter__(self) -> _Heartbeat:
        if self.interval > 0:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()


def run_job(
    job: Job,
    *,
    worker: str,
    clock: Clock = timezone.now,
    retry: bool = True,
    requeue_on_interrupt: bool = True,
    heartbeat: float = 0,
    on_progress: ProgressCallback | None = None,
) -> str:
    """Run a claimed job to the end and record how it ended; returns the job's status.

    ``retry`` False makes a failure final (a foreground command). An interruption
    (``KeyboardInterrupt``/``SystemExit``) is recorded, the job queued again
    (``requeue_on_interrupt``) or marked failed, and re-raised.
    """
    context = JobContext(job, worker=worker, clock=clock, on_progress=on_progress)
    try:
        with _Heartbeat(context, heartbeat):
            result = get_handler(job.kind)(context) or {}
    except JobLost:
        logger.warning("job #%s was taken from %s while it ran", job.pk, worker)
        return JobStatus.QUEUED
    except (KeyboardInterrupt, SystemExit):
        _interrupted(context, requeue=requeue_on_interrupt)
        raise
    except Exception:
        return _failed(context, traceback.format_exc(), retry=retry)
    return _done(context, result)


def _close_run(job: Job, outcome: str, now: dt.datetime, error: str = "") -> None:
    JobRun.objects.filter(job_id=job.pk, attempt=job.attempts).update(
        outcome=outcome, finished_at=now, error=error
    )


def _done(context: JobContext, result: dict[str, Any]) -> str:
    now = context.now()
    job = context.job
    with transaction.atomic():
        updated = context.owned().update(
            status=JobStatus.DONE, finished_at=now, heartbeat_at=now, result=result, error=""
        )
        if updated:
            _close_run(job, RunOutcome.DONE, now)
    if not updated:
        logger.warning("job #%s finished by %s after it was taken away", job.pk, context.worker)
    return JobStatus.DONE if updated else JobStatus.QUEUED


def _failed(context: JobContext, error: str, *, retry: bool) -> str:
    now = context.now()
    job = context.job
    error = error[-_ERROR_LENGTH:]
    again = retry and job.attempts < job.max_attempts
    fields: dict[str, Any] = {"error": error, "heartbeat_at": now}
    if again:
        fields.update(status=JobStatus.QUEUED, worker="", run_after=now + retry_delay(job.attempts))
    else:
        fields.update(status=JobStatus.FAILED, finished_at=now)
    with transaction.atomic():
        updated = context.owned().update(**fields)
        if updated:
            _close_run(job, RunOutcome.FAILED, now, error)
    logger.error("job #%s (%s) attempt %s failed", job.pk, job.kind, job.attempts)
    return fields["status"] if updated else JobStatus.QUEUED


def _interrupted(context: JobContext, *, requeue: bool) -> None:
    now = context.now()
    job = context.job
    fields: dict[str, Any] = {"error": "interrupted", "heartbeat_at": now}
    if requeue:
        fields.update(status=JobStatus.QUEUED, worker="", run_after=now)
    else:
        fields.update(status=JobStatus.FAILED, finished_at=now)
    with transaction.atomic():
        if context.owned().update(**fields):
            _close_run(job, RunOutcome.INTERRUPTED, now, "interrupted")


def requeue_stale(*, now: dt.datetime, older_than: dt.timedelta | None = None) -> int:
    """Queue again the running jobs whose heartbeat is older than ``older_than``.

    Their worker is presumed dead; the lost attempt counts, so a job that keeps killing its
    workers ends failed after ``max_attempts``. Returns how many jobs were requeued or failed.
    """
    cutoff = now - (older_than if older_than is not None else stale_after())
    count = 0
    stale = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
    for pk, attempts, max_attempts, beat in stale.values_list(
        "pk", "attempts", "max_attempts", "heartbeat_at"
    ):
        error = f"worker lost: no heartbeat since {beat.isoformat()}"
        fields: dict[str, Any] = {"worker": "", "error": error}
        if attempts < max_attempts:
            fields.update(status=JobStatus.QUEUED, run_after=now)
        else:
            fields.update(status=JobStatus.FAILED, finished_at=now)
        with transaction.atomic():
            changed = Job.objects.filter(
                pk=pk, status=JobStatus.RUNNING, attempts=attempts, heartbeat_at__lt=cutoff
            ).update(**fields)
            if changed:
                JobRun.objects.filter(job_id=pk, attempt=attempts).update(
                    outcome=RunOutcome.LOST, finished_at=now, error=error
                )
                count += 1
                logger.warning("job #%s requeued: %s", pk, error)
    return count


def work_once(
    *,
    worker: str,
    clock: Clock = timezone.now,
    kinds: Sequence[str] | None = None,
    heartbeat: float = 0,
) -> Job | None:
    """Requeue stale jobs, claim one ready job and run it; returns it (None when idle)."""
    requeue_stale(now=clock())
    job = claim_next(worker=worker, now=clock(), kinds=kinds)
    if job is not None:
        run_job(job, worker=worker, clock=clock, heartbeat=heartbeat)
    return job


def run_worker(
    *,
    concurrency: int = 1,
    poll: float = 1.0,
    once: bool = False,
    kinds: Sequence[str] | None = None,
    clock: Clock = timezone.now,
    stop: threading.Event | None = None,
    heartbeat: float | None = None,
    periodic: bool | None = None,
) -> int:
    """Run jobs until ``stop`` is set (or, with ``once``, until none is ready).

    ``concurrency`` loops run in threads, each with its own database connection. With
    ``periodic`` (default: unless ``once``) the first loop also enqueues the due slots of
    the ``@periodic`` kinds, at most once per ``poll``. Returns the number of jobs run.
    """
    stop = stop or threading.Event()
    beat = heartbeat_interval() if heartbeat is None else heartbeat
    schedule = (not once) if periodic is None else periodic
    if concurrency <= 1:
        return _loop(worker_name(0), poll, once, kinds, clock, stop, beat, schedule)
    counts = [0] * concurrency

    def loop(index: int) -> None:
        try:
            counts[index] = _loop(
                worker_name(index), poll, once, kinds, clock, stop, beat, schedule and index == 0
            )
        finally:
            connection.close()

    threads = [
        threading.Thread(target=loop, args=(i,), name=f"jifen-worker-{i}")
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
    except KeyboardInterrupt:
        stop.set()  # let running jobs finish; no new claims
        for thread in threads:
            thread.join()
        raise
    return sum(counts)


def _loop(
    worker: str,
    poll: float,
    once: bool,
    kinds: Sequence[str] | None,
    clock: Clock,
    stop: threading.Event,
    beat: float,
    schedule: bool = False,
) -> int:
    from jifen.jobs.periodic import schedule_due

    ran = 0
    next_schedule: dt.datetime | None = None
    while not stop.is_set():
        if schedule and (next_schedule is None or clock() >= next_schedule):
            schedule_due(now=clock(), kinds=kinds)
            next_schedule = clock() + dt.timedelta(seconds=max(poll, 1.0))
        job = work_once(worker=worker, clock=clock, kinds=kinds, heartbeat=beat)
        if job is not None:
            ran += 1
            continue
        if once:
            break
        stop.wait(poll)
    return ran
