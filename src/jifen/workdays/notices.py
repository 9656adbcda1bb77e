"""Calendar override files: one State Council holiday notice per YAML file.

A file replaces everything the seed knows about its year (or adds a new year), so the center
can load next year's notice, or an emergency change, without a release. The format is
documented in ``policies/calendar/README.md``; every refusal names the file, the path inside
it (``holidays[2].days_off.from``) and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jifen.workdays.calendar import Day
from jifen.workdays.errors import CalendarFileError

# key -> required?
_NOTICE_KEYS = {"year": True, "notice": True, "published": True, "source": False, "holidays": True}
_HOLIDAY_KEYS = {"name": True, "days_off": True, "adjusted_workdays": False}
_SPAN_KEYS = {"from": True, "to": True}
# Python 3.11 fromisoformat also takes 20250128 and week dates; notices use YYYY-MM-DD only.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class HolidayEntry:
    """One row of a notice: a holiday's days off and the weekends worked for it."""

    name: str
    days_off: tuple[dt.date, ...]
    adjusted_workdays: tuple[dt.date, ...]


@dataclass(frozen=True)
class Notice:
    """A validated override file."""

    file: str
    year: int
    notice: str
    published: dt.date
    source: str
    holidays: tuple[HolidayEntry, ...]

    def days(self) -> list[Day]:
        """The notice as calendar rows, each naming its holiday and this notice."""
        origin = f"{self.notice} ({Path(self.file).name})"
        rows: list[Day] = []
        for holiday in self.holidays:
            rows += [Day(day, False, holiday.name, origin) for day in holiday.days_off]
            rows += [Day(day, True, holiday.name, origin) for day in holiday.adjusted_workdays]
        return rows


def read_notices(directory: Path) -> list[Notice]:
    """Every ``*.yaml`` notice in ``directory`` (none if it does not exist), one per year."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        raise CalendarFileError(str(directory), "", "is not a directory")
    stray = sorted(directory.glob("*.yml"))
    if stray:
        # A silently ignored file would leave a loaded-looking notice out of the calendar.
        raise CalendarFileError(str(stray[0]), "", "calendar files must be named *.yaml")
    notices: list[Notice] = []
    first_file: dict[int, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        notice = read_notice(path)
        if notice.year in first_file:
            raise CalendarFileError(
                str(path),
                "year",
                f"year {notice.year} is already defined in {first_file[notice.year]}",
            )
        first_file[notice.year] = path.name
        notices.append(notice)
    return notices


def read_notice(path: Path) -> Notice:
    """Read and validate one override file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CalendarFileError(str(path), "", "is not UTF-8 text") from None
    except OSError as exc:
        raise CalendarFileError(str(path), "", f"cannot be read ({exc.strerror})") from None
    return parse_notice(text, str(path))


def parse_notice(text: str, file: str) -> Notice:
    """Validate the YAML text of an override file; ``file`` names it in errors."""
    try:
        _reject_duplicate_keys(yaml.compose(text, Loader=yaml.SafeLoader), file, "")
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CalendarFileError(file, where, f"is not valid YAML: {problem}") from None
    if data is None:
        raise CalendarFileError(file, "", "is empty")
    return _Checker(file).notice(data)


def _reject_duplicate_keys(
    node: yaml.Node | None, file: str, path: str, seen_nodes: set[int] | None = None
) -> None:
    # safe_load keeps the last of two equal keys; a second `holidays:` would silently win.
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # an alias: already checked (and may be recursive)
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = _join(path, key)
            if key in seen:
                raise CalendarFileError(file, child, "duplicate key")
            seen.add(key)
            _reject_duplicate_keys(value_node, file, child, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_duplicate_keys(item, file, f"{path}[{index}]", seen_nodes)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


class _Checker:
    """Validation of one file's data; methods raise ``CalendarFileError`` at the first fault."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.year = 0

    def fail(self, path: str, reason: str) -> CalendarFileError:
        return CalendarFileError(self.file, path, reason)

    def notice(self, data: Any) -> Notice:
        data = self.mapping(data, "", _NOTICE_KEYS)
        year = data["year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise self.fail("year", f"must be a year such as 2026, got {year!r}")
        self.year = year
        holidays_data = data["holidays"]
        if not isinstance(holidays_data, list) or not holidays_data:
            raise self.fail("holidays", "must be a non-empty list of holidays")
        holidays = [self.holiday(item, f"holidays[{i}]") for i, item in enumerate(holidays_data)]
        self.check_overlaps(holidays)
        return Notice(
            file=self.file,
            year=year,
            notice=self.text(data["notice"], "notice"),
            published=self.date(data["published"], "published"),
            source=self.text(data["source"], "source") if "source" in data else "",
            holidays=tuple(holidays),
        )

    def holiday(self, data: Any, path: str) -> HolidayEntry:
        data = self.mapping(data, path, _HOLIDAY_KEYS)
        name = self.text(data["name"], f"{path}.name")
        days_off = self.span(data["days_off"], f"{path}.days_off")
        adjusted_data = data.get("adjusted_workdays", [])
        if adjusted_data is None:
            adjusted_data = []
        if not isinstance(adjusted_data, list):
            raise self.fail(f"{path}.adjusted_workdays", "must be a list of dates")
        adjusted: list[dt.date] = []
        for index, item in enumerate(adjusted_data):
            where = f"{path}.adjusted_workdays[{index}]"
            day = self.day_in_year(item, where)
            if day.weekday() < 5:
                raise self.fail(
                    where,
                    f"{day} is a {_WEEKDAYS[day.weekday()]}; an adjusted working day "
                    "must be a Saturday or Sunday",
                )
            adjusted.append(day)
        return HolidayEntry(name, days_off, tuple(adjusted))

    def span(self, data: Any, path: str) -> tuple[dt.date, ...]:
        # A single date is shorthand for a one-day holiday (元旦 in most years).
        if not isinstance(data, dict):
            return (self.day_in_year(data, path),)
        data = self.mapping(data, path, _SPAN_KEYS)
        first = self.day_in_year(data["from"], f"{path}.from")
        last = self.day_in_year(data["to"], f"{path}.to")
        if first > last:
            raise self.fail(path, f"from {first} is after to {last}")
        return tuple(dt.date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1))

    def check_overlaps(self, holidays: list[HolidayEntry]) -> None:
        off: dict[dt.date, str] = {}
        for index, holiday in enumerate(holidays):
            for day in holiday.days_off:
                if day in off:
                    raise self.fail(
                        f"holidays[{index}].days_off", f"{day} is already a day off in {off[day]}"
                    )
                off[day] = f"holidays[{index}] ({holiday.name})"
        adjusted: dict[dt.date, str] = {}
        for index, holiday in enumerate(holidays):
            for position, day in enumerate(holiday.adjusted_workdays):
                where = f"holidays[{index}].adjusted_workdays[{position}]"
                if day in off:
                    raise self.fail(where, f"{day} is also a day off in {off[day]}")
                if day in adjusted:
                    raise self.fail(where, f"{day} is already listed at {adjusted[day]}")
                adjusted[day] = where

    def mapping(self, data: Any, path: str, keys: dict[str, bool]) -> dict[str, Any]:
        if not isinstance(data, dict):
            what = "the file" if not path else "this entry"
            raise self.fail(path, f"{what} must be a mapping with keys {', '.join(keys)}")
        for key in data:
            if key not in keys:
                raise self.fail(_join(path, key), f"unknown key (allowed: {', '.join(keys)})")
        for key, required in keys.items():
            if required and key not in data:
                raise self.fail(_join(path, key), "missing required key")
        return data

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def date(self, value: Any, path: str) -> dt.date:
        # YAML turns 2025-01-28 into a date; a quoted ISO string is accepted too.
        if isinstance(value, dt.datetime):
            raise self.fail(path, f"must be a date (YYYY-MM-DD) without a time, got {value}")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(path, f"must be a date (YYYY-MM-DD), got {value!r}")

    def day_in_year(self, value: Any, path: str) -> dt.date:
        day = self.date(value, path)
        if day.year != self.year:
            raise self.fail(path, f"{day} is outside the notice's year {self.year}")
        return day
