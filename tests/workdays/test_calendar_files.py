"""Calendar override files: the shipped 2025/2026 notices, overriding, and every refusal."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml
from chinese_calendar.constants import holidays as package_holidays
from chinese_calendar.constants import workdays as package_workdays

from jifen import PROJECT_ROOT
from jifen.workdays import (
    CalendarError,
    CalendarFileError,
    default_calendar,
    load_calendar,
    read_notice,
    read_notices,
)

D = dt.date.fromisoformat
POLICY_CALENDAR_DIR = PROJECT_ROOT / "policies" / "calendar"


def _every_day(year: int) -> Iterator[dt.date]:
    day = dt.date(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


# --- the shipped files ---------------------------------------------------------------------


@pytest.mark.parametrize("year", [2025, 2026])
def test_override_files_agree_with_the_package_every_day(year: int) -> None:
    calendar = load_calendar(POLICY_CALENDAR_DIR)
    disagreements = [
        day
        for day in _every_day(year)
        if calendar.is_workday(day) != chinese_calendar.is_workday(day)
    ]
    assert disagreements == []


@pytest.mark.parametrize("year", [2025, 2026])
def test_override_files_list_the_same_days_as_the_package(year: int) -> None:
    notice = read_notice(POLICY_CALENDAR_DIR / f"cn-{year}.yaml")
    off = {day.date for day in notice.days() if not day.is_workday}
    worked = {day.date for day in notice.days() if day.is_workday}
    assert off == {day for day in package_holidays if day.year == year}
    assert worked == {day for day in package_workdays if day.year == year}


def test_shipped_notices() -> None:
    notices = {notice.year: notice for notice in read_notices(POLICY_CALENDAR_DIR)}
    assert sorted(notices) == [2025, 2026]
    assert notices[2025].notice == "国办发明电〔2024〕12号"
    assert notices[2025].published == D("2024-11-12")
    assert notices[2026].published == D("2025-11-04")
    assert [h.name for h in notices[2025].holidays] == [
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "国庆节、中秋节",
    ]
    assert [h.name for h in notices[2026].holidays] == [
        "元旦",
        "春节",
        "清明节",
        "劳动节",
        "端午节",
        "中秋节",
        "国庆节",
    ]


def test_loaded_calendar_covers_the_package_years() -> None:
    assert load_calendar(POLICY_CALENDAR_DIR).years == frozenset(range(2004, 2027))


def test_a_missing_directory_means_the_package_alone(tmp_path: Path) -> None:
    calendar = load_calendar(tmp_path / "nowhere")
    assert calendar.years == frozenset(range(2004, 2027))
    assert calendar.day(D("2025-01-28")).source.startswith("chinese-calendar")


# --- overriding ----------------------------------------------------------------------------

NOTICE_2027 = """\
year: 2027
notice: 国办发明电〔2026〕99号
published: 2026-11-10
holidays:
  - name: 元旦
    days_off: 2027-01-01
  - name: 春节
    days_off: {from: "2027-02-06", to: "2027-02-12"}
    adjusted_workdays: [2027-01-30, 2027-02-20]
"""


def test_a_file_adds_a_new_year(tmp_path: Path) -> None:
    (tmp_path / "cn-2027.yaml").write_text(NOTICE_2027, encoding="utf-8")
    calendar = load_calendar(tmp_path)
    assert 2027 in calendar.years
    assert calendar.is_workday(D("2027-01-01")) is False  # single-date shorthand
    assert calendar.is_workday(D("2027-02-08")) is False  # quoted dates
    assert calendar.is_workday(D("2027-01-30")) is True  # Sat worked
    assert calendar.is_workday(D("2027-03-01")) is True
    # 2026-12-31 (Thu) → 2027-01-01 off → Mon 2027-01-04.
    assert calendar.add_workdays(D("2026-12-31"), 1) == D("2027-01-04")
    assert calendar.day(D("2027-01-30")).source == "国办发明电〔2026〕99号 (cn-2027.yaml)"
    with pytest.raises(CalendarError, match="2028"):
        calendar.add_workdays(D("2027-12-31"), 1)


def test_a_file_replaces_the_package_year_entirely(tmp_path: Path) -> None:
    (tmp_path / "cn-2025.yaml").write_text(
        "year: 2025\nnotice: test\npublished: 2024-11-01\n"
        "holidays:\n  - name: 测试\n    days_off: 2025-03-03\n",
        encoding="utf-8",
    )
    calendar = load_calendar(tmp_path)
    assert calendar.is_workday(D("2025-03-03")) is False
    assert calendar.is_workday(D("2025-01-28")) is True  # the package's 春节 is gone
    assert calendar.is_workday(D("2025-01-26")) is False  # and its adjusted Sunday
    assert calendar.is_workday(D("2026-02-16")) is False  # other years: the package
    assert calendar.is_workday(D("2024-10-01")) is False


def test_default_calendar_reads_jifen_policy_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "cn-2027.yaml").write_text(NOTICE_2027, encoding="utf-8")
    monkeypatch.setenv("JIFEN_POLICY_DIR", str(tmp_path))
    default_calendar.cache_clear()
    try:
        assert 2027 in default_calendar().years
        assert default_calendar() is default_calendar()  # cached
    finally:
        default_calendar.cache_clear()


# --- refusals ------------------------------------------------------------------------------

VALID: dict[str, Any] = {
    "year": 2025,
    "notice": "国办发明电〔2024〕12号",
    "published": dt.date(2024, 11, 12),
    "source": "test",
    "holidays": [
        {"name": "元旦", "days_off": {"from": dt.date(2025, 1, 1), "to": dt.date(2025, 1, 1)}},
        {
            "name": "春节",
            "days_off": {"from": dt.date(2025, 1, 28), "to": dt.date(2025, 2, 4)},
            "adjusted_workdays": [dt.date(2025, 1, 26), dt.date(2025, 2, 8)],
        },
    ],
}


def _with(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting ``path`` (``holidays.1.days_off.from``) to ``value``."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            data = data[part]
        data[last] = value

    return mutate


def _without(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            data = data[part]
        del data[last]

    return mutate


BAD_DATA = [
    # unknown keys
    ("unknown-top-key", _with("notes", "x"), "notes", "unknown key"),
    ("unknown-holiday-key", _with("holidays.0.kind", "x"), "holidays[0].kind", "unknown key"),
    (
        "unknown-span-key",
        _with("holidays.1.days_off.until", dt.date(2025, 2, 4)),
        "holidays[1].days_off.until",
        "unknown key",
    ),
    # missing keys
    ("missing-year", _without("year"), "year", "missing required key"),
    ("missing-notice", _without("notice"), "notice", "missing required key"),
    ("missing-published", _without("published"), "published", "missing required key"),
    ("missing-holidays", _without("holidays"), "holidays", "missing required key"),
    ("missing-name", _without("holidays.1.name"), "holidays[1].name", "missing required key"),
    (
        "missing-days-off",
        _without("holidays.1.days_off"),
        "holidays[1].days_off",
        "missing required key",
    ),
    (
        "missing-to",
        _without("holidays.1.days_off.to"),
        "holidays[1].days_off.to",
        "missing required key",
    ),
    # dates outside the stated year
    (
        "day-off-before-year",
        _with("holidays.0.days_off.from", dt.date(2024, 12, 31)),
        "holidays[0].days_off.from",
        "2024-12-31 is outside the notice's year 2025",
    ),
    (
        "day-off-after-year",
        _with("holidays.1.days_off.to", dt.date(2026, 2, 4)),
        "holidays[1].days_off.to",
        "outside the notice's year 2025",
    ),
    (
        "adjusted-outside-year",
        _with("holidays.1.adjusted_workdays", [dt.date(2024, 12, 28)]),
        "holidays[1].adjusted_workdays[0]",
        "outside the notice's year 2025",
    ),
    # adjusted working day on a weekday
    (
        "adjusted-on-a-weekday",
        _with("holidays.1.adjusted_workdays.1", dt.date(2025, 2, 10)),
        "holidays[1].adjusted_workdays[1]",
        "2025-02-10 is a Monday; an adjusted working day must be a Saturday or Sunday",
    ),
    # a day both off and adjusted
    (
        "off-and-adjusted",
        _with("holidays.1.adjusted_workdays.1", dt.date(2025, 2, 1)),
        "holidays[1].adjusted_workdays[1]",
        "2025-02-01 is also a day off in holidays[1] (春节)",
    ),
    # from > to
    (
        "from-after-to",
        _with("holidays.1.days_off.to", dt.date(2025, 1, 27)),
        "holidays[1].days_off",
        "from 2025-01-28 is after to 2025-01-27",
    ),
    # overlaps and repeats
    (
        "overlapping-days-off",
        _with("holidays.0.days_off.to", dt.date(2025, 1, 29)),
        "holidays[1].days_off",
        "2025-01-28 is already a day off in holidays[0] (元旦)",
    ),
    (
        "adjusted-listed-twice",
        _with("holidays.0.adjusted_workdays", [dt.date(2025, 1, 26)]),
        "holidays[1].adjusted_workdays[0]",
        "already listed at holidays[0].adjusted_workdays[0]",
    ),
    # wrong types
    ("year-as-string", _with("year", "2025"), "year", "must be a year"),
    ("year-as-bool", _with("year", True), "year", "must be a year"),
    ("notice-empty", _with("notice", " "), "notice", "non-empty string"),
    ("published-not-a-date", _with("published", "soon"), "published", "must be a date"),
    ("holidays-empty", _with("holidays", []), "holidays", "non-empty list"),
    ("holidays-not-a-list", _with("holidays", {"name": "x"}), "holidays", "non-empty list"),
    ("holiday-not-a-mapping", _with("holidays.0", "元旦"), "holidays[0]", "must be a mapping"),
    ("name-not-a-string", _with("holidays.0.name", 1), "holidays[0].name", "non-empty string"),
    (
        "adjusted-not-a-list",
        _with("holidays.1.adjusted_workdays", dt.date(2025, 1, 26)),
        "holidays[1].adjusted_workdays",
        "must be a list of dates",
    ),
    (
        "bad-date-string",
        _with("holidays.1.days_off.from", "2025-13-01"),
        "holidays[1].days_off.from",
        "must be a date (YYYY-MM-DD)",
    ),
    (
        "compact-date-string",
        _with("holidays.1.days_off.from", "20250128"),
        "holidays[1].days_off.from",
        "must be a date (YYYY-MM-DD)",
    ),
    (
        "datetime-not-date",
        _with("holidays.0.days_off.from", dt.datetime(2025, 1, 1, 9, 0)),
        "holidays[0].days_off.from",
        "without a time",
    ),
]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_the_valid_base_document_loads(write: Callable[[str, str], Path]) -> None:
    notice = read_notice(write("cn-2025.yaml", _dump(VALID)))
    assert notice.year == 2025
    assert len(notice.days()) == 1 + 8 + 2


@pytest.mark.parametrize(
    ("mutate", "path", "reason"),
    [pytest.param(m, p, r, id=case_id) for case_id, m, p, r in BAD_DATA],
)
def test_bad_file_is_refused_naming_file_path_and_reason(
    write: Callable[[str, str], Path],
    mutate: Callable[[dict[str, Any]], None],
    path: str,
    reason: str,
) -> None:
    data = copy.deepcopy(VALID)
    mutate(data)
    file = write("cn-2025.yaml", _dump(data))
    with pytest.raises(CalendarFileError) as info:
        load_calendar(file.parent)
    error = info.value
    assert (error.file, error.path) == (str(file), path)
    assert reason in error.reason
    assert str(error).startswith(f"{file}: {path}: ")
    assert reason in str(error)


BAD_TEXT = [
    ("empty", "", "", "is empty"),
    ("comments-only", "# nothing yet\n", "", "is empty"),
    ("not-yaml", "year: 2025\nholidays: [\n", "line 3", "is not valid YAML"),
    ("top-level-list", "- 2025\n", "", "the file must be a mapping"),
    ("top-level-scalar", "2025\n", "", "the file must be a mapping"),
    (
        "duplicate-key",
        _dump(VALID) + "holidays: []\n",
        "holidays",
        "duplicate key",
    ),
    ("two-documents", "year: 2025\n---\nyear: 2026\n", "line 2", "is not valid YAML"),
    ("recursive-alias", "notes: &x [*x]\n", "notes", "unknown key"),
    (
        "duplicate-nested-key",
        "year: 2025\nnotice: x\npublished: 2024-11-12\nholidays:\n"
        "  - name: 元旦\n    name: 春节\n    days_off: 2025-01-01\n",
        "holidays[0].name",
        "duplicate key",
    ),
]


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [pytest.param(t, p, r, id=case_id) for case_id, t, p, r in BAD_TEXT],
)
def test_bad_yaml_is_refused(
    write: Callable[[str, str], Path], text: str, path: str, reason: str
) -> None:
    file = write("cn-2025.yaml", text)
    with pytest.raises(CalendarFileError) as info:
        read_notice(file)
    assert (info.value.file, info.value.path) == (str(file), path)
    assert reason in info.value.reason
    assert str(file) in str(info.value)


def test_duplicate_years_across_files_are_refused(write: Callable[[str, str], Path]) -> None:
    write("a-2025.yaml", _dump(VALID))
    second = write("b-2025.yaml", _dump(VALID))
    with pytest.raises(CalendarFileError) as info:
        load_calendar(second.parent)
    assert info.value.file == str(second)
    assert info.value.path == "year"
    assert "year 2025 is already defined in a-2025.yaml" in str(info.value)


def test_a_yml_file_is_refused_not_ignored(write: Callable[[str, str], Path]) -> None:
    stray = write("cn-2027.yml", NOTICE_2027)
    with pytest.raises(CalendarFileError, match=r"must be named \*\.yaml") as info:
        load_calendar(stray.parent)
    assert info.value.file == str(stray)


def test_other_files_are_ignored(write: Callable[[str, str], Path]) -> None:
    readme = write("README.md", "# notes\n")
    assert load_calendar(readme.parent).years == frozenset(range(2004, 2027))


def test_directory_that_is_a_file_is_refused(write: Callable[[str, str], Path]) -> None:
    file = write("calendar", "")
    with pytest.raises(CalendarFileError, match="not a directory"):
        load_calendar(file)


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "cn-2025.yaml"
    file.write_bytes("year: 2025\nnotice: 国办\n".encode("gb18030"))
    with pytest.raises(CalendarFileError, match="not UTF-8"):
        read_notice(file)


def test_calendar_file_error_is_a_value_error_and_pickles() -> None:
    assert issubclass(CalendarFileError, ValueError)
    error = pickle.loads(pickle.dumps(CalendarFileError("f.yaml", "year", "bad")))
    assert (error.file, error.path, error.reason, str(error)) == (
        "f.yaml",
        "year",
        "bad",
        "f.yaml: year: bad",
    )
