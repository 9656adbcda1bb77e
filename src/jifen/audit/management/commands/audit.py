"""``jifen audit verify``: recompute the audit hash chain and report the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from jifen.audit.chain import verify_chain
from jifen.audit.models import AuditEntry


class Command(BaseCommand):
    help = (
        "Verify the audit log's hash chain. Prints the head when intact; exits with status 1 "
        "and names the first broken entry otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        verify = actions.add_parser("verify", help="verify the hash chain")
        verify.add_argument(
            "--from-sequence",
            type=int,
            default=None,
            metavar="N",
            help="verify entries N onwards only, linked to the stored hash of entry N-1",
        )
        verify.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        entries = AuditEntry.objects.using(options["database"])
        if options["from_sequence"] is not None:
            entries = entries.filter(sequence__gte=options["from_sequence"])
        report = verify_chain(entries)
        if not report.ok:
            raise CommandError(str(report))
        self.stdout.write(str(report))
