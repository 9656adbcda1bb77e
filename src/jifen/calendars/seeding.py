"""Seeding a calendar version from the package: the chinese-calendar data with the override
notices of ``policies/calendar`` (``jifen.workdays.default_calendar``).

Used by the data migration (with historical models) and by :func:`services.current_calendar`
when the table is empty. Only the explicit exception days are rows; a year is one row.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jifen.workdays import Calendar, calendar_dir, load_calendar, read_notices
from jifen.workdays.seed import SOURCE as PACKAGE_SOURCE

SEED_NOTE = "seeded from the chinese-calendar package and policies/calendar"


def year_sources(directory: Path | None = None) -> dict[int, str]:
    """Where each year of the default calendar comes from (a notice file, else the package)."""
    directory = calendar_dir() if directory is None else directory
    return {n.year: f"{n.notice} ({Path(n.file).name})" for n in read_notices(directory)}


def write_version(
    version_model: Any,
    year_model: Any,
    day_model: Any,
    *,
    number: int,
    calendar: Calendar,
    sources: dict[int, str],
    created_at: dt.datetime,
    created_by: Any = None,
    note: str = "",
    source: str = "",
    using: str = "default",
) -> Any:
    """Create version ``number`` holding ``calendar`` (its years and explicit days)."""
    version = version_model.objects.using(using).create(
        number=number, created_at=created_at, created_by=created_by, note=note, source=source
    )
    year_model.objects.using(using).bulk_create(
        year_model(version=version, year=year, source=sources.get(year, PACKAGE_SOURCE)[:200])
        for year in sorted(calendar.years)
    )
    day_model.objects.using(using).bulk_create(
        (
            day_model(
                version=version,
                date=day.date,
                is_workday=day.is_workday,
                name=day.name[:100],
                source=day.source[:200],
            )
            for day in calendar.days
        ),
        batch_size=500,
    )
    return version


def seed(version_model: Any, year_model: Any, day_model: Any, *, now: dt.datetime, using="default"):
    """Version 1 from the package default, unless a version exists already."""
    if version_model.objects.using(using).exists():
        return None
    directory = calendar_dir()
    return write_version(
        version_model,
        year_model,
        day_model,
        number=1,
        calendar=load_calendar(directory),
        sources=year_sources(directory),
        created_at=now,
        note=SEED_NOTE,
        source="package",
        using=using,
    )
