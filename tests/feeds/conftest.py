"""Fixtures of the feed tests (SQLite and PostgreSQL alike).

With ``--import-mode=importlib`` test modules cannot import each other; shared helpers are
fixtures here, and residents come from ``tests.factories`` (through the real services).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from jifen.audit.actors import Actor
from jifen.feeds import importer
from jifen.feeds.formats import FEEDS
from jifen.feeds.models import FeedBatch
from jifen.residents.models import Resident

CHINA = ZoneInfo("Asia/Shanghai")
#: The import time of the tests: examples and rows are dated on or before 2025-06-01.
FEED_NOW = dt.datetime(2025, 6, 2, 9, 30, tzinfo=CHINA)


@pytest.fixture
def now() -> dt.datetime:
    return FEED_NOW


@pytest.fixture(autouse=True)
def recompute_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list, dt.datetime]]:
    """Record the recompute requests instead of scoring (the scores app is tested apart)."""
    calls: list[tuple[list, dt.datetime]] = []

    def fake(resident_ids: list, *, now: dt.datetime) -> None:
        calls.append((list(resident_ids), now))

    monkeypatch.setattr(importer, "request_recompute", fake)
    return calls


@pytest.fixture
def resident_factory(db) -> Callable[..., Resident]:
    from tests.factories import make_resident

    return make_resident


@pytest.fixture
def run_import(db, now) -> Callable[..., FeedBatch]:
    """``run_import(feed, content, file_name=..., **kwargs)`` with the feed's system actor."""

    def run(feed: str, content: bytes | str, file_name: str = "batch.csv", **kwargs):
        if isinstance(content, str):
            content = content.encode("utf-8")
        kwargs.setdefault("now", now)
        unit = FEEDS[feed].department if feed in FEEDS else ""
        kwargs.setdefault("actor", Actor.system(f"feed:{feed}", unit=unit))
        return importer.import_batch(feed, content, file_name=file_name, **kwargs)

    return run


@pytest.fixture
def csv_text() -> Callable[..., str]:
    """``csv_text(header, *rows)``: rows are lists or comma-joined strings."""

    def build(header: str, *rows: str | list[str]) -> str:
        lines = [header]
        for row in rows:
            lines.append(row if isinstance(row, str) else ",".join(row))
        return "\n".join(lines) + "\n"

    return build
