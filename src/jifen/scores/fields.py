"""A JSON column that is written whole and read whole, never queried inside."""

from __future__ import annotations

from typing import Any

from django.db import models


class StoredJSONField(models.JSONField):
    """``JSONField`` stored as ``json`` (checked text) on PostgreSQL instead of ``jsonb``.

    A stored score's result (about 8 KB with its explanation) is written a million times by a
    bulk recompute and only ever read back whole. Parsing it into ``jsonb`` is the database's
    largest cost in that recompute (measured: ``bench/recompute.py``); ``json`` checks the
    syntax and keeps the text. No query looks inside the column (``jsonb`` operators, GIN
    indexes, equality or DISTINCT would not work on ``json``). Other databases are unchanged.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if connection.vendor == "postgresql":
            # psycopg decodes ``json`` columns itself (Django registers a text loader for
            # ``jsonb`` only): the value arrives as Python data already.
            return value
        return super().from_db_value(value, expression, connection)
