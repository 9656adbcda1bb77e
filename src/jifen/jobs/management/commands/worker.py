"""``jifen worker``: run queued jobs (run one next to the web server; several on PostgreSQL)."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jifen.jobs.registry import kinds
from jifen.jobs.worker import run_worker


class Command(BaseCommand):
    help = (
        "Run background jobs from the database queue. Several workers (and --concurrency) "
        "may run against PostgreSQL; each job is claimed by exactly one of them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="run the jobs that are ready, then exit"
        )
        parser.add_argument(
            "--concurrency", type=int, default=1, metavar="N", help="jobs run at the same time"
        )
        parser.add_argument(
            "--poll", type=float, default=1.0, metavar="SECONDS", help="wait when idle"
        )
        parser.add_argument(
            "--kind",
            action="append",
            default=None,
            metavar="KIND",
            help="only jobs of this kind (repeatable)",
        )
        parser.add_argument(
            "--periodic",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="enqueue the due periodic jobs (default: yes, except with --once)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        if options["poll"] <= 0:
            raise CommandError("--poll must be positive")
        unknown = sorted(set(options["kind"] or ()) - set(kinds()))
        if unknown:
            raise CommandError(f"unknown job kind(s): {', '.join(unknown)}")
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            # SIGTERM (the process supervisor) lets the running job finish, then exits.
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if not options["once"]:
            self.stdout.write(
                f"worker started: {options['concurrency']} at a time, "
                f"kinds: {', '.join(options['kind'] or kinds())}"
            )
        ran = run_worker(
            concurrency=options["concurrency"],
            poll=options["poll"],
            once=options["once"],
            kinds=options["kind"],
            stop=stop,
            periodic=options["periodic"],
        )
        self.stdout.write(f"{ran} job(s) run")
