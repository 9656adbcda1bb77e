"""``jifen restore FILE``: restore a ``jifen backup`` into an empty database and verify it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from jifen.operations.backup import BackupError, database_alias, restore


class Command(BaseCommand):
    help = (
        "Restore FILE (made by `jifen backup`) into an empty database, then verify the audit "
        "chain, its head and every table's row count against FILE.manifest.json. Refuses a "
        "target that has any table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup file")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")
        parser.add_argument(
            "--database-url",
            default=None,
            help="restore into this (empty) database instead of the alias's",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with database_alias(options["database_url"], options["database"]) as alias:
                manifest = restore(options["file"], alias=alias)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"restored and verified: {sum(manifest.counts.values())} rows in "
            f"{len(manifest.counts)} tables, audit head #{manifest.audit_sequence} "
            f"{manifest.audit_hash}"
        )
