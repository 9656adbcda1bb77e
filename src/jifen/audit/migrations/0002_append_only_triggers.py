"""Make the audit table append-only in the database itself (SQLite and PostgreSQL).

The SQL lives in ``jifen.audit.triggers`` so that ``flush`` and the tests use exactly the
triggers installed here. Reversing drops them.
"""

from django.db import migrations

from jifen.audit.triggers import drop_append_only_triggers, install_append_only_triggers


def install(apps, schema_editor):
    install_append_only_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    drop_append_only_triggers(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_audit_entry"),
    ]

    operations = [
        migrations.RunPython(install, drop, elidable=False),
    ]
