"""``jifen rekey``: re-encrypt stored personal numbers under the current field key version."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from jifen.operations.rekey import BATCH, rekey, remaining


class Command(BaseCommand):
    help = (
        "Re-encrypt every identity, permit and phone number token made with another key "
        "version than JIFEN_FIELD_KEY_CURRENT (resumable; audited). With --check, only count "
        "them and exit with status 1 if any is left (run it before removing an old key)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="count, change nothing")
        parser.add_argument("--batch", type=int, default=BATCH, help="rows per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            left = remaining()
            for label, count in left.items():
                self.stdout.write(f"{label}: {count} tokens on an older key version")
            if any(left.values()):
                raise CommandError("tokens on older key versions remain; run `jifen rekey`")
            self.stdout.write("every token uses the current key version")
            return
        done = rekey(now=timezone.now(), batch=options["batch"])
        for label, count in done.items():
            self.stdout.write(f"{label}: {count} tokens re-encrypted")
