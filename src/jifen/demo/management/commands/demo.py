"""``jifen demo load``: the demo data set for the embedded default (never for production)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jifen.demo.claims import seed_demo_claims
from jifen.demo.loader import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo
from jifen.rankings.demo import seed_demo_publication
from jifen.residents.models import Resident
from jifen.scenarios.demo import seed_demo_scenarios


class Command(BaseCommand):
    help = "Load the synthetic demo population (through the real feeds) and the demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        load = actions.add_parser("load", help="load the demo unless residents already exist")
        load.add_argument("--residents", type=int, default=3000, metavar="N")
        load.add_argument("--seed", type=int, default=20250201)
        load.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database has residents"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.JIFEN_DEMO_ALLOWED:
            raise CommandError(
                "the demo (with its published passwords) is never loaded in production"
            )
        if options["residents"] < 1:
            raise CommandError("--residents must be at least 1")
        if Resident.objects.exists():
            if options["if_empty"]:
                self.stdout.write("demo: residents already loaded, nothing to do")
                return
            raise CommandError(
                "the database already has residents; the demo loads into an empty one"
            )
        started = time.monotonic()
        report = load_demo(
            options["residents"],
            now=timezone.now(),
            seed=options["seed"],
            progress=lambda message: self.stderr.write(f"demo: {message}"),
        )
        # The imports queued score recomputations; run them now so the portal opens on scores.
        self.stderr.write("demo: computing scores")
        call_command("worker", "--once", stdout=self.stderr)
        self.stderr.write("demo: filing claims and corrections")
        seeded = seed_demo_claims(now=timezone.now())
        self.stderr.write("demo: publishing the school-place and housing scenarios")
        seed_demo_scenarios(now=timezone.now())
        self.stderr.write("demo: a training scenario whose list is published from today")
        seed_demo_publication(now=timezone.now())
        call_command("worker", "--once", stdout=self.stderr)
        for batch in report.batches:
            self.stdout.write(
                f"  {batch.feed:<22} rows {batch.rows:>6}  accepted {batch.accepted:>6}  "
                f"rejected {batch.rejected:>4}"
            )
        self.stdout.write(
            f"demo: {report.residents} residents and {len(seeded.claims)} claims loaded in "
            f"{time.monotonic() - started:.0f} s; "
            f"accounts ({DEMO_PASSWORD}): {', '.join(u for u, _, _ in DEMO_ACCOUNTS)}"
        )
