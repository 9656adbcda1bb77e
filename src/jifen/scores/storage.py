"""Writing many scores at once: one small interface, a PostgreSQL and a portable implementation.

A stored score carries its full result (about 9 KB of JSON). Django's ``bulk_create`` on
PostgreSQL sends literal values as ``UNNEST`` arrays, and psycopg quotes every JSON text
inside a text array character by character (seconds per thousand scores); even a plain
multi-row ``INSERT`` spends most of its time building the statement. So on PostgreSQL the
scores go through ``COPY ... FROM STDIN`` with primary keys drawn from the table's sequence
first (COPY returns no ids, and the audit entries of status changes name their score). Every
other database uses ``bulk_create``. Both set ``pk`` on the objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

from jifen.scores.models import Score

#: Scores per INSERT statement on the portable path.
INSERT_BATCH = 250


def insert_postgresql(scores: Sequence[Score], using: str) -> None:
    connection = connections[using]
    meta = Score._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(scores)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        rows = [[_copy_value(f, getattr(s, f.attname), connection) for f in fields] for s in scores]
        # The raw psycopg cursor: Django's wrapper has no COPY. Its errors are translated
        # into Django's (IntegrityError ...) as for any other statement.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({meta.pk.column}, {columns}) FROM STDIN") as copy,
        ):
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row([pk, *row])
    for score, pk in zip(scores, ids, strict=True):
        score.pk = pk
        score._state.adding = False
        score._state.db = using


def _copy_value(field: models.Field, value: Any, connection: Any) -> Any:
    if isinstance(field, models.JSONField):
        # Compact UTF-8 text: the server parses it into jsonb either way, and the
        # explanation's Chinese reasons take half the bytes of backslash-u escapes.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return field.get_db_prep_save(value, connection)


def insert_portable(scores: Sequence[Score], using: str) -> None:
    Score.objects.using(using).bulk_create(scores, batch_size=INSERT_BATCH)


#: The insert implementation of each database vendor (others: the portable one).
INSERTS: dict[str, Callable[[Sequence[Score], str], None]] = {
    "postgresql": insert_postgresql,
    "sqlite": insert_portable,
}


def insert_scores(scores: Sequence[Score], using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert new scores (``pk`` None) in bulk; sets their primary keys."""
    if not scores:
        return
    insert = INSERTS.get(connections[using].vendor, insert_portable)
    insert(scores, using)
