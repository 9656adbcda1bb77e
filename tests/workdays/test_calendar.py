"""The working-day calendar against the State Council notices for 2025 and 2026.

The expected days are transcribed from the notices' tables (holidays-cn-2025-2026.md), not
derived from the code under test. Each check runs on both sources: the override files in
``policies/calendar`` and the ``chinese-calendar`` package seed.
"""

from __future__ import annotations

import datetime as dt
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jifen import PROJECT_ROOT
from jifen.workdays import (
    Calendar,
    CalendarError,
    Day,
    add_workdays,
    load_calendar,
    seed_calendar,
    workdays_between,
)

D = dt.date.fromisoformat
POLICY_CALENDAR_DIR = PROJECT_ROOT / "policies" / "calendar"

# (holiday, first day off, last day off, adjusted working days) — straight from the notices.
NOTICE_2025 = [
    ("元旦", "2025-01-01", "2025-01-01", []),
    ("春节", "2025-01-28", "2025-02-04", ["2025-01-26", "2025-02-08"]),
    ("清明节", "2025-04-04", "2025-04-06", []),
    ("劳动节", "2025-05-01", "2025-05-05", ["2025-04-27"]),
    ("端午节", "2025-05-31", "2025-06-02", []),
    ("国庆节、中秋节", "2025-10-01", "2025-10-08", ["2025-09-28", "2025-10-11"]),
]
NOTICE_2026 = [
    ("元旦", "2026-01-01", "2026-01-03", ["2026-01-04"]),
    ("春节", "2026-02-15", "2026-02-23", ["2026-02-14", "2026-02-28"]),
    ("清明节", "2026-04-04", "2026-04-06", []),
    ("劳动节", "2026-05-01", "2026-05-05", ["2026-05-09"]),
    ("端午节", "2026-06-19", "2026-06-21", []),
    ("中秋节", "2026-09-25", "2026-09-27", []),
    ("国庆节", "2026-10-01", "2026-10-07", ["2026-09-20", "2026-10-10"]),
]


def _days_off() -> list[pytest.param]:
    params = []
    for name, first, last, _ in NOTICE_2025 + NOTICE_2026:
        day = D(first)
        while day <= D(last):
            params.append(pytest.param(day, id=f"{day}-{name}"))
            day += dt.timedelta(days=1)
    return params


def _adjusted() -> list[pytest.param]:
    return [
        pytest.param(D(day), id=f"{day}-{name}")
        for name, _, _, adjusted in NOTICE_2025 + NOTICE_2026
        for day in adjusted
    ]


DAYS_OFF = _days_off()
ADJUSTED_WORKDAYS = _adjusted()

# Ordinary days around the holidays: plain weekday/weekend rule.
ORDINARY_WORKDAYS = [
    "2025-01-02",  # Thu after 元旦
    "2025-01-27",  # Mon between the adjusted Sunday and 春节
    "2025-02-05",  # Wed after 春节
    "2025-02-07",  # Fri
    "2025-04-03",  # Thu before 清明
    "2025-04-07",  # Mon after 清明
    "2025-05-06",  # Tue after 劳动节
    "2025-05-30",  # Fri before 端午
    "2025-06-03",  # Tue after 端午
    "2025-09-29",  # Mon
    "2025-09-30",  # Tue before 国庆
    "2025-10-09",  # Thu after 国庆
    "2025-12-31",  # Wed
    "2026-01-05",  # Mon after 元旦
    "2026-02-12",  # Thu
    "2026-02-13",  # Fri before the adjusted Saturday
    "2026-02-24",  # Tue after 春节
    "2026-04-03",  # Fri before 清明
    "2026-04-07",  # Tue after 清明
    "2026-05-06",  # Wed after 劳动节
    "2026-06-22",  # Mon after 端午
    "2026-09-24",  # Thu before 中秋
    "2026-09-28",  # Mon after 中秋
    "2026-10-08",  # Thu after 国庆
    "2026-12-31",  # Thu
]
ORDINARY_WEEKENDS = [
    "2025-01-05",  # Sun
    "2025-02-09",  # Sun after the adjusted Saturday
    "2025-04-26",  # Sat before the adjusted Sunday
    "2025-09-27",  # Sat before the adjusted Sunday
    "2025-10-12",  # Sun after the adjusted Saturday
    "2026-01-10",  # Sat
    "2026-03-01",  # Sun after the adjusted Saturday
    "2026-05-10",  # Sun after the adjusted Saturday
    "2026-09-19",  # Sat before the adjusted Sunday
    "2026-10-11",  # Sun after the adjusted Saturday
]


@pytest.fixture(scope="module", params=["override-files", "package-seed"])
def calendar(request: pytest.FixtureRequest) -> Calendar:
    if request.param == "override-files":
        return load_calendar(POLICY_CALENDAR_DIR)
    return seed_calendar()


# --- the notices, day by day ---------------------------------------------------------------


@pytest.mark.parametrize("day", DAYS_OFF)
def test_every_day_off_is_not_a_workday(calendar: Calendar, day: dt.date) -> None:
    assert calendar.is_workday(day) is False


@pytest.mark.parametrize("day", ADJUSTED_WORKDAYS)
def test_every_adjusted_weekend_day_is_a_workday(calendar: Calendar, day: dt.date) -> None:
    assert day.weekday() >= 5  # the notice's table says Sat/Sun
    assert calendar.is_workday(day) is True


@pytest.mark.parametrize("day", ORDINARY_WORKDAYS)
def test_ordinary_weekdays_are_workdays(calendar: Calendar, day: str) -> None:
    assert calendar.is_workday(D(day)) is True


@pytest.mark.parametrize("day", ORDINARY_WEEKENDS)
def test_ordinary_weekends_are_not_workdays(calendar: Calendar, day: str) -> None:
    assert calendar.is_workday(D(day)) is False


def test_table_sizes() -> None:
    # Guards the transcription itself: 2025 has 1+8+3+5+3+8, 2026 has 3+9+3+5+3+3+7 days off.
    assert len(DAYS_OFF) == 28 + 33
    assert len(ADJUSTED_WORKDAYS) == 5 + 6


def test_holiday_names_come_from_the_notice() -> None:
    calendar = load_calendar(POLICY_CALENDAR_DIR)
    assert calendar.day(D("2026-02-17")).name == "春节"
    assert calendar.day(D("2025-10-06")).name == "国庆节、中秋节"
    assert calendar.day(D("2025-09-28")).name == "国庆节、中秋节"
    assert "cn-2025.yaml" in calendar.day(D("2025-09-28")).source
    assert calendar.day(D("2025-03-03")) is None


# --- counting ------------------------------------------------------------------------------


def test_worked_example_accepted_friday_before_national_day(calendar: Calendar) -> None:
    # 09-28 (Sun) works, 10-01…10-08 are off, 10-11 (Sat) works.
    start = D("2025-09-26")
    expected = [
        "2025-09-28",
        "2025-09-29",
        "2025-09-30",
        "2025-10-09",
        "2025-10-10",
        "2025-10-11",
        "2025-10-13",
        "2025-10-14",
        "2025-10-15",
        "2025-10-16",
    ]
    assert [calendar.add_workdays(start, n).isoformat() for n in range(1, 11)] == expected
    assert calendar.add_workdays(start, 10) == D("2025-10-16")
    assert calendar.workdays_between(start, D("2025-10-16")) == 10


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-02-12", 1, "2026-02-13"),
        ("2026-02-13", 1, "2026-02-14"),  # adjusted Saturday before 春节
        ("2026-02-13", 2, "2026-02-24"),  # 02-15…02-23 off
        ("2026-02-12", 3, "2026-02-24"),
        ("2026-02-14", 5, "2026-02-28"),  # 02-24…02-27 and the adjusted Saturday 02-28
        ("2026-02-14", 6, "2026-03-02"),
        ("2026-02-16", 1, "2026-02-24"),  # start on a holiday: not counted
        ("2025-10-01", 1, "2025-10-09"),  # start on a holiday
        ("2025-10-04", 3, "2025-10-11"),  # start on a holiday weekend; 10-11 Sat works
        ("2025-01-01", 1, "2025-01-02"),
        ("2025-01-25", 1, "2025-01-26"),  # Sat start; Sun 01-26 works
        ("2025-12-31", 1, "2026-01-04"),  # year end: 01-01…01-03 off, 01-04 (Sun) works
        ("2025-12-31", 2, "2026-01-05"),
        ("2024-12-31", 1, "2025-01-02"),  # into 2025 from the package's 2024
        ("2025-09-26", 0, "2025-09-26"),  # n = 0 returns start
        ("2025-10-01", 0, "2025-10-01"),  # even when start is a holiday
        ("2026-12-30", 1, "2026-12-31"),
    ],
)
def test_add_workdays(calendar: Calendar, start: str, n: int, expected: str) -> None:
    assert calendar.add_workdays(D(start), n) == D(expected)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("2025-09-26", "2025-09-26", 0),
        ("2025-10-01", "2025-10-08", 0),  # all off
        ("2026-02-14", "2026-02-28", 5),
        ("2026-02-13", "2026-02-23", 1),
        ("2025-12-31", "2026-01-04", 1),
        ("2025-12-31", "2026-01-03", 0),
        ("2024-12-31", "2025-12-31", 248),  # 365 − 104 weekend days − 13 holidays
        ("2025-12-31", "2026-12-31", 248),  # 261 weekdays − 19 weekdays off + 6 adjusted
        ("2025-10-16", "2025-09-26", -10),  # b < a: negative
        ("2026-02-28", "2026-02-14", -5),
    ],
)
def test_workdays_between(calendar: Calendar, a: str, b: str, expected: int) -> None:
    assert calendar.workdays_between(D(a), D(b)) == expected


def test_negative_n_is_refused(calendar: Calendar) -> None:
    with pytest.raises(ValueError, match="0 or more"):
        calendar.add_workdays(D("2025-06-01"), -1)


@pytest.mark.parametrize("n", [1.0, "3", True])
def test_n_must_be_an_int(calendar: Calendar, n: object) -> None:
    with pytest.raises(TypeError):
        calendar.add_workdays(D("2025-06-01"), n)  # type: ignore[arg-type]


def test_a_datetime_counts_as_its_date(calendar: Calendar) -> None:
    start = dt.datetime(2025, 9, 26, 17, 30)
    assert calendar.add_workdays(start, 0) == D("2025-09-26")
    assert type(calendar.add_workdays(start, 0)) is dt.date
    assert calendar.add_workdays(start, 10) == D("2025-10-16")


def test_module_functions_take_a_calendar() -> None:
    calendar = Calendar.from_days([2030], [(D("2030-01-01"), False, "元旦", "test")])
    assert add_workdays(D("2030-01-01"), 1, calendar) == D("2030-01-02")
    assert workdays_between(D("2030-01-01"), D("2030-01-07"), calendar=calendar) == 4


def test_module_functions_default_to_the_loaded_calendar() -> None:
    assert add_workdays(D("2025-09-26"), 10) == D("2025-10-16")
    assert workdays_between(D("2025-09-26"), D("2025-10-16")) == 10


# --- uncovered years -----------------------------------------------------------------------


@pytest.mark.parametrize(("day", "year"), [("2003-12-31", 2003), ("2027-01-01", 2027)])
def test_is_workday_in_an_uncovered_year(calendar: Calendar, day: str, year: int) -> None:
    with pytest.raises(CalendarError, match=str(year)) as info:
        calendar.is_workday(D(day))
    assert info.value.year == year
    assert "not loaded" in str(info.value)


@pytest.mark.parametrize(
    ("start", "n", "year"),
    [
        ("2026-12-31", 1, 2027),  # walks past the last covered day
        ("2026-12-20", 30, 2027),
        ("2027-01-04", 0, 2027),  # start itself is touched, even for n = 0
        ("2003-12-31", 1, 2003),
    ],
)
def test_add_workdays_into_an_uncovered_year(
    calendar: Calendar, start: str, n: int, year: int
) -> None:
    with pytest.raises(CalendarError, match=str(year)) as info:
        calendar.add_workdays(D(start), n)
    assert info.value.year == year


@pytest.mark.parametrize(
    ("a", "b", "year"),
    [
        ("2026-12-01", "2027-01-05", 2027),
        ("2027-01-05", "2026-12-01", 2027),
        ("2003-12-31", "2004-01-05", 2003),
        ("2004-01-05", "2003-12-31", 2003),
        ("2027-01-01", "2027-01-01", 2027),
    ],
)
def test_workdays_between_in_an_uncovered_year(
    calendar: Calendar, a: str, b: str, year: int
) -> None:
    with pytest.raises(CalendarError, match=str(year)) as info:
        calendar.workdays_between(D(a), D(b))
    assert info.value.year == year


def test_calendar_error_is_a_value_error_and_pickles() -> None:
    assert issubclass(CalendarError, ValueError)
    error = pickle.loads(pickle.dumps(CalendarError(year=2027)))
    assert error.year == 2027
    assert "2027" in str(error)


def test_a_gap_between_covered_years_is_not_jumped() -> None:
    calendar = Calendar.from_days([2040, 2042], [])
    with pytest.raises(CalendarError, match="2041") as info:
        calendar.add_workdays(D("2040-12-31"), 1)
    assert info.value.year == 2041
    with pytest.raises(CalendarError, match="2041"):
        calendar.workdays_between(D("2040-12-31"), D("2042-01-02"))
    with pytest.raises(CalendarError, match="2043"):
        calendar.add_workdays(D("2042-12-30"), 2)


# --- building from rows (the future database table) ----------------------------------------


def test_from_rows_and_days() -> None:
    rows = [
        (D("2030-01-01"), False, "元旦", "admin"),
        Day(D("2030-01-05"), True, "元旦"),  # Sat worked
        (D("2030-01-06"), False),  # Sun, named nothing: restates the rule
    ]
    calendar = Calendar.from_days([2030], rows)
    assert calendar.years == frozenset({2030})
    assert calendar.is_workday(D("2030-01-01")) is False
    assert calendar.is_workday(D("2030-01-05")) is True
    assert calendar.is_workday(D("2030-01-07")) is True
    assert calendar.day(D("2030-01-01")) == Day(D("2030-01-01"), False, "元旦", "admin")
    # 2030-01-01 is a Tuesday: Wed, Thu, Fri, the worked Saturday, then Monday.
    assert calendar.add_workdays(D("2030-01-01"), 3) == D("2030-01-04")
    assert calendar.add_workdays(D("2030-01-01"), 4) == D("2030-01-05")
    assert calendar.add_workdays(D("2030-01-01"), 5) == D("2030-01-07")
    assert calendar == Calendar.from_days([2030], reversed(rows))  # order does not matter
    assert hash(calendar) == hash(Calendar.from_days([2030], reversed(rows)))


def test_rows_are_checked() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        Calendar.from_days([2030], [(D("2030-01-01"), False), (D("2030-01-01"), True)])
    with pytest.raises(ValueError, match="not a calendar year"):
        Calendar.from_days([2030], [(D("2031-01-01"), False)])


def test_replace_years_replaces_a_year_entirely_and_adds_new_years() -> None:
    seed = seed_calendar()
    replaced = seed.replace_years([2025, 2027], [(D("2025-03-03"), False, "test")])
    assert replaced.is_workday(D("2025-03-03")) is False
    assert replaced.is_workday(D("2025-01-28")) is True  # the old 春节 is gone
    assert replaced.is_workday(D("2024-02-12")) is False  # other years untouched
    assert replaced.is_workday(D("2027-01-01")) is True  # a plain Friday now
    assert seed.is_workday(D("2025-01-28")) is False  # the original is unchanged
    with pytest.raises(ValueError, match="not being replaced"):
        seed.replace_years([2025], [(D("2024-01-02"), False)])


# --- properties ----------------------------------------------------------------------------

_CALENDAR = load_calendar(POLICY_CALENDAR_DIR)


@settings(max_examples=300, database=None, deadline=None)
@given(
    a=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2026, 12, 31)),
    n=st.integers(min_value=0, max_value=60),
)
def test_add_and_between_are_inverse(a: dt.date, n: int) -> None:
    try:
        result = _CALENDAR.add_workdays(a, n)
    except CalendarError as exc:
        # Only when fewer than n working days remain before the calendar ends.
        assert exc.year == 2027
        assert _CALENDAR.workdays_between(a, dt.date(2026, 12, 31)) < n
        return
    assert _CALENDAR.workdays_between(a, result) == n
    if n > 0:
        assert result > a
        assert _CALENDAR.is_workday(result)
        # The n-th working day is the first day reaching n, not a later one.
        assert _CALENDAR.workdays_between(a, result - dt.timedelta(days=1)) == n - 1
    else:
        assert result == a
