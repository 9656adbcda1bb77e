"""The working-day calendar (工作日) of mainland China.

Working days are Monday–Friday minus statutory holidays and bridged days off, plus the
adjusted working weekends (调休上班) of the State Council's yearly notice. The data comes from
the ``chinese-calendar`` package (2004–2026), replaced year by year by the override files in
``policies/calendar/``. A date in a year no notice covers raises ``CalendarError``.

Pure Python: no Django import, so deadlines can be computed anywhere.
"""

from __future__ import annotations

import datetime as dt

from jifen.workdays.calendar import Calendar, Day, DayRow
from jifen.workdays.errors import CalendarError, CalendarFileError
from jifen.workdays.loader import apply_notices, calendar_dir, default_calendar, load_calendar
from jifen.workdays.notices import HolidayEntry, Notice, parse_notice, read_notice, read_notices
from jifen.workdays.seed import seed_calendar

__all__ = [
    "Calendar",
    "CalendarError",
    "CalendarFileError",
    "Day",
    "DayRow",
    "HolidayEntry",
    "Notice",
    "add_workdays",
    "apply_notices",
    "calendar_dir",
    "default_calendar",
    "is_workday",
    "load_calendar",
    "parse_notice",
    "read_notice",
    "read_notices",
    "seed_calendar",
    "workdays_between",
]


def is_workday(day: dt.date, calendar: Calendar | None = None) -> bool:
    """Whether ``day`` is a working day (default calendar unless one is given)."""
    return (default_calendar() if calendar is None else calendar).is_workday(day)


def add_workdays(start: dt.date, n: int, calendar: Calendar | None = None) -> dt.date:
    """The ``n``-th working day after ``start``; see ``Calendar.add_workdays``."""
    return (default_calendar() if calendar is None else calendar).add_workdays(start, n)


def workdays_between(a: dt.date, b: dt.date, calendar: Calendar | None = None) -> int:
    """Working days after ``a`` up to and including ``b``; see ``Calendar.workdays_between``."""
    return (default_calendar() if calendar is None else calendar).workdays_between(a, b)
