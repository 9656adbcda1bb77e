"""``jifen backup FILE``: the whole database to FILE, with FILE.manifest.json beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from jifen.operations.backup import BackupError, backup, database_alias, manifest_path


class Command(BaseCommand):
    help = (
        "Back up the database to FILE (PostgreSQL: pg_dump custom format of one snapshot; "
        "SQLite: the online backup API) and write FILE.manifest.json with the audit chain head "
        "and the row count of every table."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup file to create (never overwritten)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias")
        parser.add_argument(
            "--database-url", default=None, help="back up this database instead of the alias's"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with database_alias(options["database_url"], options["database"]) as alias:
                manifest = backup(options["file"], alias=alias, now=timezone.now())
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"backup written: {options['file']} ({manifest.vendor}, {manifest.size} bytes, "
            f"{sum(manifest.counts.values())} rows in {len(manifest.counts)} tables, "
            f"audit head #{manifest.audit_sequence} {manifest.audit_hash}); "
            f"manifest {manifest_path(options['file'])}"
        )
