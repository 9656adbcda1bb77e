"""PostgreSQL only: compress stored results with lz4 instead of pglz.

A score's result (about 9 KB of JSON with the explanation) is stored out of line (TOAST);
lz4 compresses it several times faster than the default pglz, which is most of the database's
work in a bulk recompute. Nothing changes in the schema or the data; other databases skip it,
and so does a PostgreSQL server built without lz4.
"""

from django.db import migrations

TABLE = "scores_score"
COLUMN = "result"


def lz4_available(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
            "AND 'lz4' = ANY(enumvals)"
        )
        return cursor.fetchone() is not None


def use_lz4(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql" and lz4_available(schema_editor):
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET COMPRESSION lz4")


def use_default(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET COMPRESSION DEFAULT"
        )


class Migration(migrations.Migration):
    dependencies = [("scores", "0001_stored_scores")]

    operations = [migrations.RunPython(use_lz4, use_default, elidable=True)]
