"""Assembling the calendar: the package seed with the override files applied on top."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

from jifen import PROJECT_ROOT
from jifen.workdays.calendar import Calendar
from jifen.workdays.notices import Notice, read_notices
from jifen.workdays.seed import seed_calendar


def calendar_dir() -> Path:
    """``$JIFEN_POLICY_DIR/calendar`` (default ``<project root>/policies/calendar``)."""
    base = os.environ.get("JIFEN_POLICY_DIR")
    return (Path(base) if base else PROJECT_ROOT / "policies") / "calendar"


def apply_notices(calendar: Calendar, notices: Iterable[Notice]) -> Calendar:
    """``calendar`` with each notice's year replaced by (or extended with) that notice."""
    notices = list(notices)
    return calendar.replace_years(
        {notice.year for notice in notices}, [day for notice in notices for day in notice.days()]
    )


def load_calendar(directory: Path | str | None = None) -> Calendar:
    """The chinese-calendar seed (2004–2026) with the override files of ``directory``.

    ``directory`` defaults to ``calendar_dir()``; a missing directory means no overrides.
    Raises ``CalendarFileError`` for a bad file.
    """
    directory = calendar_dir() if directory is None else Path(directory)
    return apply_notices(seed_calendar(), read_notices(directory))


@functools.cache
def default_calendar() -> Calendar:
    """The calendar of the default directory, loaded once (``default_calendar.cache_clear()``
    after changing the files or ``JIFEN_POLICY_DIR``)."""
    return load_calendar()
