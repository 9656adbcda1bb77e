"""``jifen scores recompute``: recompute stored scores, with a progress bar, restartable.

A run is a ``scores.recompute`` job (:mod:`jifen.scores.recompute`) executed in the
foreground: it records progress and a checkpoint after every batch. When a run is
interrupted (Ctrl-C, a crash, a killed process), running the same command again resumes the
same job after the last committed batch. ``--enqueue`` leaves the job to ``jifen worker``.

On PostgreSQL the residents are split into ``--processes`` parts (default: one per CPU), each
a job of its own run by a child process (``--part I/N``); the parent shows one progress bar
for all of them. SQLite has one writer at a time, so it runs one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from typing import Any
from urllib.parse import quote

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from jifen.cli import iso_date
from jifen.jobs.claim import claim_by_id
from jifen.jobs.models import Job, JobStatus
from jifen.jobs.queue import enqueue
from jifen.jobs.worker import heartbeat_interval, requeue_stale, run_job, worker_name
from jifen.org.models import Town
from jifen.residents.models import Resident
from jifen.scores.recompute import DEFAULT_BATCH, KIND, residents_in_scope, scope_args
from jifen.scores.services import china_date

#: Unfinished jobs looked at when deciding whether a run resumes an earlier one.
_RESUMABLE_WINDOW = 200
_POLL = 0.5


def part_argument(value: str) -> tuple[int, int]:
    """``I/N`` (0 ≤ I < N)."""
    try:
        index, count = (int(x) for x in value.split("/"))
    except ValueError:
        raise CommandError(f"--part {value!r}: expected I/N, such as 0/2") from None
    if not 0 <= index < count:
        raise CommandError(f"--part {value!r}: I must be from 0 to N-1")
    return index, count


class Command(BaseCommand):
    help = "Stored scores: `recompute` them for everyone, a town or one resident."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        recompute = actions.add_parser(
            "recompute",
            help="recompute stored scores (restartable; resumes an interrupted run)",
        )
        scope = recompute.add_mutually_exclusive_group(required=True)
        scope.add_argument("--all", action="store_true", help="every resident")
        scope.add_argument("--town", metavar="CODE", help="the residents of one town")
        scope.add_argument("--resident", metavar="ID", help="one resident (UUID)")
        recompute.add_argument(
            "--on",
            type=iso_date,
            default=None,
            metavar="DATE",
            help="evaluation date (default: today). Another date than today stores further "
            "evaluations and leaves the current scores alone.",
        )
        recompute.add_argument(
            "--current",
            choices=("auto", "yes", "no"),
            default="auto",
            help="whether the new scores become the current ones (auto: when --on is today)",
        )
        recompute.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH, metavar="N", help="residents per batch"
        )
        recompute.add_argument(
            "--processes",
            type=int,
            default=None,
            metavar="N",
            help="parallel processes (PostgreSQL; default: one per CPU; SQLite: 1)",
        )
        recompute.add_argument(
            "--part", type=part_argument, default=None, metavar="I/N", help=argparse_hidden()
        )
        recompute.add_argument(
            "--enqueue", action="store_true", help="queue the job for `jifen worker` and return"
        )
        recompute.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        today = china_date(now)
        on = options["on"] or today
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        current = {"auto": on == today, "yes": True, "no": False}[options["current"]]
        base = {
            **self._scope(options),
            "on": on.isoformat(),
            "current": current,
            "batch_size": options["batch_size"],
            "reason": "command",
        }
        processes = self._processes(options, base)
        if options["enqueue"]:
            with transaction.atomic():
                jobs = [enqueue(KIND, a, now=now) for a in _parts(base, processes)]
            count = residents_in_scope(base).count()
            names = ", ".join(f"#{j.pk}" for j in jobs)
            self.stdout.write(f"queued job(s) {names} ({count} residents)")
            return
        progress = not options["no_progress"]
        if options["part"] is not None:
            index, count = options["part"]
            self._run({**base, "part": [index, count]}, progress=progress)
        elif processes == 1:
            self._run(base, progress=progress)
        else:
            self._run_parts(options, base, processes, progress=progress)

    # --- arguments ---------------------------------------------------------------------

    def _scope(self, options: dict[str, Any]) -> dict[str, Any]:
        if options["town"] is not None:
            if not Town.objects.filter(code=options["town"]).exists():
                raise CommandError(f"unknown town {options['town']!r}")
            return scope_args(town=options["town"])
        if options["resident"] is not None:
            try:
                resident = uuid.UUID(options["resident"])
            except ValueError:
                raise CommandError(f"{options['resident']!r} is not a resident id") from None
            if not Resident.objects.filter(pk=resident).exists():
                raise CommandError(f"no resident {resident}")
            return scope_args(resident=resident)
        return scope_args()

    def _processes(self, options: dict[str, Any], base: dict[str, Any]) -> int:
        wanted = options["processes"]
        if wanted is not None and wanted < 1:
            raise CommandError("--processes must be at least 1")
        if options["part"] is not None or base["scope"] == "resident":
            return 1
        if connection.vendor != "postgresql":
            if wanted not in (None, 1):
                raise CommandError("--processes needs PostgreSQL (SQLite has one writer)")
            return 1
        return wanted or os.cpu_count() or 1

    # --- one process ---------------------------------------------------------------------

    def _run(self, job_args: dict[str, Any], *, progress: bool) -> None:
        worker = f"command:{worker_name()}"
        job = self._resume_or_start(job_args, worker)
        resumed = job.attempts > 1
        bar = tqdm(
            total=None,
            file=sys.stderr,
            unit="resident",
            disable=not progress,
            desc=f"job #{job.pk}" + (" (resumed)" if resumed else ""),
        )

        def report(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        already = int((job.checkpoint or {}).get("done", 0))
        started = time.perf_counter()
        try:
            status = run_job(
                job,
                worker=worker,
                retry=False,
                requeue_on_interrupt=False,
                heartbeat=heartbeat_interval(),
                on_progress=report,
            )
        finally:
            bar.close()
        elapsed = time.perf_counter() - started
        job.refresh_from_db()
        if status != JobStatus.DONE:
            last = job.error.strip().splitlines()[-1] if job.error else status
            raise CommandError(
                f"job #{job.pk} {status}: {last} — run the same command again to resume"
            )
        self._summary([job], elapsed, job.progress_done - already)

    def _summary(self, jobs: list[Job], elapsed: float, fresh: int) -> None:
        keys = ("residents", "created", "unchanged", "lapsed", "restored", "failed")
        totals = {k: sum(int(j.result.get(k, 0)) for j in jobs) for k in keys}
        rate = fresh / elapsed if elapsed > 0 else 0.0
        names = ", ".join(f"#{j.pk}" for j in jobs)
        self.stdout.write(
            f"job {names} done: {totals['residents']} residents on {jobs[0].result.get('on')} "
            f"(created {totals['created']}, unchanged {totals['unchanged']}, "
            f"lapsed {totals['lapsed']}, restored {totals['restored']}, "
            f"failed {totals['failed']}) in {elapsed:.1f} s ({rate:,.0f}/s)"
        )
        failures = [f for j in jobs for f in j.result.get("failures", [])]
        for failure in failures[:10]:
            self.stderr.write(
                f"  not scored: resident {failure['resident']}: {failure['code']} "
                f"{failure['detail']}"
            )

    def _resume_or_start(self, job_args: dict[str, Any], worker: str) -> Job:
        """The interrupted run of the same recompute, claimed again; else a new job."""
        now = timezone.now()
        requeue_stale(now=now)  # a run whose process died is queued again here
        job = _unfinished(job_args)
        if job is not None:
            if job.status == JobStatus.RUNNING:
                raise CommandError(
                    f"this recompute is running as job #{job.pk} ({job.worker}, "
                    f"last heartbeat {job.heartbeat_at:%Y-%m-%d %H:%M:%S %Z})"
                )
            claimed = claim_by_id(
                job.pk, worker=worker, now=now, statuses=[job.status], require_ready=False
            )
            if claimed is not None:
                return claimed
        with transaction.atomic():
            job = enqueue(KIND, job_args, now=now, max_attempts=1)
            claimed = claim_by_id(job.pk, worker=worker, now=now)
        assert claimed is not None  # created and claimed in one transaction
        return claimed

    # --- several processes ------------------------------------------------------------------

    def _run_parts(
        self, options: dict[str, Any], base: dict[str, Any], processes: int, *, progress: bool
    ) -> None:
        parts = _parts(base, processes)
        command = [sys.executable, "-m", "jifen.cli", "scores", "recompute", "--no-progress"]
        command += {"all": ["--all"], "town": ["--town", str(base.get("town"))]}[base["scope"]]
        command += ["--on", base["on"], "--current", "yes" if base["current"] else "no"]
        command += ["--batch-size", str(base["batch_size"])]
        before = {
            tuple(a["part"]): int(j.checkpoint.get("done", 0))
            for a in parts
            if (j := _unfinished(a)) is not None
        }
        env = {**os.environ, "DATABASE_URL": _database_url()}
        started = time.perf_counter()
        children = [
            subprocess.Popen(  # noqa: S603 - our own command, no shell
                [*command, "--part", f"{a['part'][0]}/{a['part'][1]}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for a in parts
        ]
        bar = tqdm(total=None, file=sys.stderr, unit="resident", disable=not progress)
        bar.set_description(f"{processes} processes")
        try:
            while any(child.poll() is None for child in children):
                self._show(bar, parts)
                time.sleep(_POLL)
            self._show(bar, parts)
        finally:
            bar.close()
            for child in children:
                child.wait()
        elapsed = time.perf_counter() - started
        outputs = [child.communicate() for child in children]
        failed = [
            (a["part"], err.strip().splitlines()[-1] if err.strip() else f"exit {c.returncode}")
            for a, c, (_, err) in zip(parts, children, outputs, strict=True)
            if c.returncode != 0
        ]
        if failed:
            lines = "; ".join(f"part {i}/{n}: {e}" for (i, n), e in failed)
            raise CommandError(f"{lines} — run the same command again to resume")
        jobs = [_latest(a) for a in parts]
        fresh = sum(j.progress_done - before.get(tuple(j.args["part"]), 0) for j in jobs)
        self._summary(jobs, elapsed, fresh)

    def _show(self, bar: tqdm, parts: list[dict[str, Any]]) -> None:
        jobs = [j for a in parts if (j := _latest(a)) is not None]
        bar.total = sum(j.progress_total for j in jobs) or None
        bar.n = sum(j.progress_done for j in jobs)
        bar.refresh()


def _database_url() -> str:
    """This process's PostgreSQL database as a URL, so the children use exactly it."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or ''}{port}/{quote(db['NAME'], safe='')}"


def _parts(base: dict[str, Any], processes: int) -> list[dict[str, Any]]:
    if processes == 1:
        return [base]
    return [{**base, "part": [i, processes]} for i in range(processes)]


def _recent(job_args: dict[str, Any]) -> list[Job]:
    jobs = Job.objects.filter(kind=KIND).order_by("-created_at", "-id")[:_RESUMABLE_WINDOW]
    return [job for job in jobs if job.args == job_args]


def _unfinished(job_args: dict[str, Any]) -> Job | None:
    unfinished = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED)
    return next((j for j in _recent(job_args) if j.status in unfinished), None)


def _latest(job_args: dict[str, Any]) -> Job | None:
    return next(iter(_recent(job_args)), None)


def argparse_hidden() -> str:
    """Help of ``--part``: run one of N parts (the parent process starts these)."""
    return "run part I of N only (used by --processes; resumable like a whole run)"
