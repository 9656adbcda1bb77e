"""The database calendar: the seed, deadlines with their version, new versions, problems."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from jifen.audit.models import AuditEntry
from jifen.calendars import services
from jifen.calendars.errors import CalendarChangeRefused, CalendarNotCovered
from jifen.calendars.models import CalendarDay, CalendarProblem, CalendarVersion, CalendarYear
from jifen.workdays import CalendarFileError, default_calendar
from jifen.workdays.errors import CalendarError
from tests.factories import make_user

NOW = dt.datetime(2025, 9, 1, 2, 0, tzinfo=dt.UTC)
D = dt.date.fromisoformat

pytestmark = pytest.mark.django_db

NOTICE_2027 = """\
year: 2027
notice: 国办发明电〔2026〕99号
published: 2026-11-10
holidays:
  - name: 元旦
    days_off: 2027-01-01
  - name: 春节
    days_off: {from: 2027-02-06, to: 2027-02-12}
    adjusted_workdays: [2027-02-14]
"""


def test_the_seed_equals_the_package_calendar():
    calendar, version = services.current_calendar()
    assert version == 1
    assert calendar == default_calendar()
    assert {2025, 2026} <= calendar.years
    # only explicit exception days are rows; a year is one row
    assert CalendarYear.objects.filter(version=1).count() == len(default_calendar().years)
    assert CalendarDay.objects.filter(version=1).count() == len(default_calendar().days)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-10-01", False),
        ("2025-10-08", False),
        ("2025-09-28", True),  # Sunday worked
        ("2025-10-11", True),  # Saturday worked
        ("2026-02-15", False),
        ("2026-02-23", False),
        ("2026-02-14", True),
        ("2026-02-28", True),
        ("2026-02-24", True),
    ],
)
def test_national_day_2025_and_spring_festival_2026(day, working):
    assert services.is_workday(D(day)) is working


def test_deadlines_across_the_holidays_carry_the_version():
    assert services.deadline(D("2025-09-30"), 10) == services.Deadline(D("2025-10-21"), 1)
    # accepted on Friday 13 Feb 2026: Sat 14 worked (1), 15–23 off, 24–27 (5), Sat 28
    # worked (6), 2–5 March (10); with the extension 6, 9–12 March (15)
    assert services.deadline(D("2026-02-13"), 10).due_on == D("2026-03-05")
    assert services.deadline(D("2026-02-13"), 15).due_on == D("2026-03-12")
    assert services.workdays_between(D("2025-09-30"), D("2025-10-21")) == 10


def test_a_new_version_changes_later_deadlines_and_names_its_number():
    center = make_user("center")
    before = services.deadline(D("2025-11-03"), 10)
    version = services.set_day(
        date=D("2025-11-05"),
        is_workday=False,
        name="台风停工",
        reason="Typhoon: offices closed by the city",
        user=center,
        now=NOW,
    )
    assert version.number == 2 and version.created_by == center
    after = services.deadline(D("2025-11-03"), 10)
    assert after.calendar_version == 2
    assert after.due_on == before.due_on + dt.timedelta(days=1)
    # version 1 is unchanged
    assert services.calendar_of(1).is_workday(D("2025-11-05")) is True
    entry = AuditEntry.objects.get(action="calendar.changed")
    assert entry.data["from_version"] == 1 and entry.data["to_version"] == 2
    assert entry.data["before"] == {"is_workday": True}
    assert entry.data["after"] == {"is_workday": False, "name": "台风停工"}
    assert entry.actor_id == str(center.pk)


def test_a_day_change_needs_a_reason_and_a_covered_year():
    center = make_user("center")
    with pytest.raises(CalendarChangeRefused) as refused:
        services.set_day(
            date=D("2025-11-05"), is_workday=False, name="", reason=" ", user=center, now=NOW
        )
    assert refused.value.field == "reason"
    with pytest.raises(CalendarChangeRefused) as refused:
        services.set_day(
            date=D("2031-11-05"), is_workday=False, name="", reason="x", user=center, now=NOW
        )
    assert refused.value.field == "date"
    with pytest.raises(CalendarChangeRefused) as refused:
        services.set_day(
            date=D("2025-11-05"), is_workday=True, name="", reason="x", user=center, now=NOW
        )
    assert refused.value.field == "is_workday"
    assert CalendarVersion.objects.count() == 1
    assert not AuditEntry.objects.filter(action="calendar.changed").exists()


def test_an_uncovered_year_is_refused_and_recorded_for_the_center():
    with pytest.raises(CalendarNotCovered) as refused:
        services.deadline(D("2027-03-01"), 10, now=NOW)
    assert refused.value.year == 2027 and isinstance(refused.value, CalendarError)
    assert refused.value.code == "calendar.not_covered"
    problem = CalendarProblem.objects.get()
    assert problem.year == 2027 and problem.first_seen == NOW and problem.resolved_at is None
    # a walk that runs off the end of the last covered year names the next year
    with pytest.raises(CalendarNotCovered) as refused:
        services.deadline(D("2026-12-28"), 10, now=NOW + dt.timedelta(hours=1))
    assert refused.value.year == 2027
    problem.refresh_from_db()
    assert problem.occurrences == 2 and problem.last_seen == NOW + dt.timedelta(hours=1)
    assert list(services.open_problems()) == [problem]


def test_the_problem_survives_the_callers_rollback():
    with pytest.raises(CalendarNotCovered), transaction.atomic():
        services.deadline(D("2028-03-01"), 10, now=NOW)
    assert not CalendarProblem.objects.exists()  # rolled back with the caller...
    services.flush_pending()  # ...and written at the end of the request
    assert CalendarProblem.objects.get().year == 2028


def test_importing_a_notice_covers_the_year_and_resolves_the_problem():
    center = make_user("center")
    with pytest.raises(CalendarNotCovered):
        services.deadline(D("2027-02-05"), 3, now=NOW)
    version = services.import_notice(NOTICE_2027, file="cn-2027.yaml", user=center, now=NOW)
    assert version.number == 2
    result = services.deadline(D("2027-02-05"), 3)
    # 6–12 Feb off, 14 Feb (Sunday) worked: 14, 15, 16
    assert result == services.Deadline(D("2027-02-16"), 2)
    problem = CalendarProblem.objects.get(year=2027)
    assert problem.resolved_at == NOW and problem.resolved_by_version == 2
    assert not services.open_problems().exists()
    entry = AuditEntry.objects.get(action="calendar.changed")
    assert entry.data["year"] == 2027 and entry.data["before"]["covered"] is False
    assert entry.data["resolved_years"] == [2027]
    assert CalendarYear.objects.get(version=2, year=2027).source.endswith("(cn-2027.yaml)")


def test_a_bad_notice_writes_nothing():
    center = make_user("center")
    bad = NOTICE_2027.replace("2027-02-14", "2027-02-15")  # a Monday
    with pytest.raises(CalendarFileError) as refused:
        services.import_notice(bad, file="bad.yaml", user=center, now=NOW)
    assert refused.value.path == "holidays[1].adjusted_workdays[0]"
    assert CalendarVersion.objects.count() == 1


def test_another_process_saving_a_version_is_seen(django_assert_max_num_queries):
    services.current_calendar()
    with django_assert_max_num_queries(1):
        services.current_calendar()  # cached: one query for the latest version
    center = make_user("center")
    services.set_day(
        date=D("2025-11-05"), is_workday=False, name="x", reason="x", user=center, now=NOW
    )
    services.clear_cache()  # as in another process
    assert services.current_calendar()[1] == 2


@pytest.mark.django_db(transaction=True)
def test_an_empty_table_is_seeded_again():
    CalendarVersion.objects.all().delete()
    calendar, version = services.current_calendar()
    assert version == 1 and calendar == default_calendar()
