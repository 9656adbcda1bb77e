"""Django's ``flush``, able to empty the append-only audit table.

``flush`` empties every table (DELETE on SQLite, TRUNCATE on PostgreSQL), which the audit
table's triggers refuse. Test runners flush between transactional tests, so without this
override every such test in the project would fail at teardown. The triggers are dropped and
re-installed inside the same transaction as the purge, so they are never missing from a
committed state; the confirmation is asked first, outside that transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections, transaction

from jifen.audit.triggers import (
    append_only_triggers_installed,
    drop_append_only_triggers,
    install_append_only_triggers,
)


class Command(flush.Command):
    help = flush.Command.help + " This includes the append-only audit log."

    def handle(self, **options: Any) -> None:
        database = options["database"]
        connection = connections[database]
        if options["interactive"]:
            name = connection.settings_dict["NAME"]
            confirm = input(
                "You have requested a flush of the database.\n"
                f'This will IRREVERSIBLY DESTROY all data in the "{name}" database, '
                "including the audit log.\n"
                "Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
        options = {**options, "interactive": False}
        if not append_only_triggers_installed(connection):
            super().handle(**options)
            return
        with transaction.atomic(using=database):
            drop_append_only_triggers(connection)
            super().handle(**options)
            install_append_only_triggers(connection)
