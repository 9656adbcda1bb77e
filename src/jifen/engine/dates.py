"""Date arithmetic of the measures: full years, full months, "within the last N years".

Convention (docs/mission.md, "Decisions"): a month or year is complete on the same day of the
following month/year, or on the last day of that month when it has no such day
(01-31 -> 02-28 is one full month; 29 February -> 28 February).
"""

from __future__ import annotations

import calendar
import datetime as dt


def shift_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def full_months(start: dt.date, on: dt.date) -> int:
    """Number of full months from ``start`` up to ``on`` (0 when ``on`` is before ``start``)."""
    if on < start:
        return 0
    months = (on.year - start.year) * 12 + (on.month - start.month)
    # The month count is right unless the anniversary within on's month is still ahead.
    if shift_months(start, months) > on:
        months -= 1
    return months


def full_years(start: dt.date, on: dt.date) -> int:
    """Full years (周岁) from ``start`` to ``on``."""
    return full_months(start, on) // 12


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February -> 28 February)."""
    return shift_months(day, -12 * years)
