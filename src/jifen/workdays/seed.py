"""The seed calendar: the data of the ``chinese-calendar`` package (2004–2026).

The package answers "is this a workday" but raises ``NotImplementedError`` outside its years;
here its two tables become plain ``Day`` rows, so they can seed the editable calendar table
and be replaced year by year by newer notices.
"""

from __future__ import annotations

import functools

import chinese_calendar
from chinese_calendar.constants import Holiday, holidays, workdays

from jifen.workdays.calendar import Calendar, Day

SOURCE = f"chinese-calendar {chinese_calendar.__version__}"

# The package stores English names as values; the notices use the Chinese ones.
_CHINESE_NAMES = {holiday.value: holiday.chinese for holiday in Holiday}


def seed_years() -> frozenset[int]:
    """The years the package covers (the same bounds its own ``is_workday`` enforces)."""
    return frozenset(range(min(holidays).year, max(holidays).year + 1))


def seed_days() -> list[Day]:
    """Every day off and adjusted working day the package lists, as ``Day`` rows."""
    rows = [
        Day(date, False, _CHINESE_NAMES.get(name, name), SOURCE) for date, name in holidays.items()
    ]
    rows += [
        Day(date, True, _CHINESE_NAMES.get(name, name), SOURCE) for date, name in workdays.items()
    ]
    return rows


@functools.cache
def seed_calendar() -> Calendar:
    """The package's calendar, built once (its data never changes at run time)."""
    return Calendar.from_days(seed_years(), seed_days())
