"""The working-day calendar: Monday–Friday, corrected by the State Council holiday notices."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from jifen.workdays.errors import CalendarError


@dataclass(frozen=True)
class Day:
    """One day a notice (or the admin-edited calendar table) states explicitly.

    ``is_workday=False`` is a day off (statutory holiday or bridged day); ``True`` is an
    adjusted working day (调休上班). Rows that merely restate the weekly rule (a holiday
    falling on a Sunday) are allowed: they carry the holiday's name.
    """

    date: dt.date
    is_workday: bool
    name: str = ""
    source: str = ""


#: What ``Calendar.from_days`` accepts for a row: a ``Day`` or ``(date, is_workday[, name
#: [, source]])`` — the shape of a database row.
DayRow = Day | Sequence[object]


def _as_day(row: DayRow) -> Day:
    if isinstance(row, Day):
        return row
    return Day(*row)  # type: ignore[arg-type]


def _as_date(value: dt.date) -> dt.date:
    # datetime is a date subclass; silently keeping the time would leak into results.
    if isinstance(value, dt.datetime):
        return value.date()
    if not isinstance(value, dt.date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class Calendar:
    """Working days for a set of covered years.

    A date in a year outside ``years`` raises ``CalendarError``: without that year's notice
    the answer would be a guess. ``days`` lists the explicit exceptions to Monday–Friday.
    """

    years: frozenset[int]
    days: tuple[Day, ...] = ()
    # Derived lookups, built once: deadlines are computed by the thousand.
    _by_date: Mapping[dt.date, Day] = field(init=False, repr=False, compare=False)
    _ordinals: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        years = frozenset(self.years)
        for year in years:
            if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
                raise ValueError(f"invalid calendar year {year!r}")
        days = tuple(sorted((_as_day(row) for row in self.days), key=lambda day: day.date))
        by_date: dict[dt.date, Day] = {}
        for day in days:
            if type(day.date) is not dt.date:
                raise ValueError(f"{day.date!r}: a calendar day must be a datetime.date")
            if day.date.year not in years:
                raise ValueError(f"{day.date}: year {day.date.year} is not a calendar year")
            if day.date in by_date:
                raise ValueError(f"{day.date}: listed twice")
            by_date[day.date] = day
        object.__setattr__(self, "years", years)
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "_by_date", by_date)
        object.__setattr__(self, "_ordinals", _workday_ordinals(years, by_date))

    @classmethod
    def from_days(cls, years: Iterable[int], days: Iterable[DayRow]) -> Calendar:
        """Build from plain rows ``(date, is_workday, name, source)`` or ``Day`` objects."""
        return cls(frozenset(years), tuple(_as_day(row) for row in days))

    def replace_years(self, years: Iterable[int], days: Iterable[DayRow]) -> Calendar:
        """A copy where ``years`` take their days from ``days`` only (others are kept).

        A newer notice replaces everything known about its year; a year not yet covered is
        added. Every row in ``days`` must fall in one of ``years``.
        """
        replaced = frozenset(years)
        new_days = [_as_day(row) for row in days]
        for day in new_days:
            if day.date.year not in replaced:
                raise ValueError(f"{day.date}: year {day.date.year} is not being replaced")
        kept = [day for day in self.days if day.date.year not in replaced]
        return Calendar(self.years | replaced, (*kept, *new_days))

    def covers(self, day: dt.date) -> bool:
        """Whether ``day``'s year is covered by a loaded notice."""
        return _as_date(day).year in self.years

    def day(self, day: dt.date) -> Day | None:
        """The explicit row for ``day`` (holiday or adjusted working day), if any."""
        day = _as_date(day)
        self._require(day.year)
        return self._by_date.get(day)

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (工作日)."""
        day = _as_date(day)
        self._require(day.year)
        explicit = self._by_date.get(day)
        if explicit is not None:
            return explicit.is_workday
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``start`` itself never counts).

        ``n == 0`` returns ``start``. Raises ``ValueError`` for ``n < 0`` and
        ``CalendarError`` when the walk touches an uncovered year.
        """
        start = _as_date(start)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an integer, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be 0 or more, got {n}")
        self._require(start.year)
        if n == 0:
            return start
        ordinals = self._ordinals
        index = bisect.bisect_right(ordinals, start.toordinal()) + n - 1
        if index >= len(ordinals):
            raise CalendarError(year=self._first_uncovered_from(start.year))
        result = dt.date.fromordinal(ordinals[index])
        # The ordinals skip uncovered years, so a walk may have jumped over a gap.
        self._require_span(start.year, result.year)
        return result

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Working days after ``a`` up to and including ``b`` (negative when ``b < a``)."""
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.workdays_between(b, a)
        self._require_span(a.year, b.year)
        ordinals = self._ordinals
        return bisect.bisect_right(ordinals, b.toordinal()) - bisect.bisect_right(
            ordinals, a.toordinal()
        )

    def _require(self, year: int) -> None:
        if year not in self.years:
            raise CalendarError(year=year)

    def _require_span(self, first: int, last: int) -> None:
        for year in range(first, last + 1):
            self._require(year)

    def _first_uncovered_from(self, year: int) -> int:
        while year in self.years:
            year += 1
        return year


def _workday_ordinals(years: frozenset[int], by_date: Mapping[dt.date, Day]) -> tuple[int, ...]:
    ordinals: list[int] = []
    for year in sorted(years):
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        for ordinal in range(first, last + 1):
            day = dt.date.fromordinal(ordinal)
            explicit = by_date.get(day)
            working = explicit.is_workday if explicit is not None else day.weekday() < 5
            if working:
                ordinals.append(ordinal)
    return tuple(ordinals)
