"""Fixtures for the audit log tests (SQLite and PostgreSQL alike).

With ``--import-mode=importlib`` test modules cannot import this file, so helpers are
fixtures; each module defines its own two constants (a fixed time and an actor).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from django.db import connection

from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.audit.services import record
from jifen.audit.triggers import drop_append_only_triggers, install_append_only_triggers


@pytest.fixture
def write_entries() -> Callable[[int], list[AuditEntry]]:
    """Append ``n`` entries with distinct content; returns them in chain order."""

    def write(n: int) -> list[AuditEntry]:
        start = dt.datetime(2025, 3, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        return [
            record(
                "permit.status_changed",
                actor=Actor.system("feed:public_security"),
                occurred_at=start + dt.timedelta(seconds=i),
                object_type="residents.permit",
                object_id=str(100 + i),
                data={"index": i},
            )
            for i in range(n)
        ]

    return write


@pytest.fixture
def triggers_dropped() -> Callable[[], AbstractContextManager[None]]:
    """A context manager that lifts the append-only triggers, as the table's owner could."""

    @contextmanager
    def dropped() -> Iterator[None]:
        drop_append_only_triggers(connection)
        try:
            yield
        finally:
            install_append_only_triggers(connection)

    return dropped


@pytest.fixture
def raw_sql() -> Callable[..., None]:
    """Run SQL behind the ORM's back (the ``%s`` placeholder works on both vendors)."""

    def run(sql: str, params: list | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run
