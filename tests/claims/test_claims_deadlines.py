"""Deadlines: 10 working days after acceptance, +5 with the extension, on the database
calendar (its version stored), across the 2025 National Day and the 2026 Spring Festival; a
year the calendar does not cover is refused as a configuration problem."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.calendars.services import current_calendar
from jifen.claims import services
from jifen.claims.errors import DeadlineUnavailable
from jifen.claims.models import ReviewState, ReviewTask
from jifen.workdays import add_workdays, default_calendar
from tests.claims.conftest import actions, last_entry
from tests.factories import CHINA_TZ

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("accepted", "due", "extended"),
    [
        # National Day 2025: Oct 1–8 off; Sun Sep 28 and Sat Oct 11 are working days.
        (dt.date(2025, 9, 26), dt.date(2025, 10, 16), dt.date(2025, 10, 23)),
        (dt.date(2025, 9, 30), dt.date(2025, 10, 21), dt.date(2025, 10, 28)),
        # Spring Festival 2026: Feb 15–23 off; Sat Feb 14 and Sat Feb 28 are working days.
        (dt.date(2026, 2, 12), dt.date(2026, 3, 4), dt.date(2026, 3, 11)),
        (dt.date(2026, 2, 6), dt.date(2026, 2, 27), dt.date(2026, 3, 5)),
    ],
)
def test_deadline_across_holidays(accepted, due, extended, submit, town_reviewer):
    now = at(accepted)
    claim = submit(now=now - dt.timedelta(days=1))
    task = services.accept(claim.tasks.get(), user=town_reviewer, now=now)
    assert task.due_on == due == add_workdays(accepted, 10, default_calendar())
    _, version = current_calendar()
    assert task.calendar_version == version
    entry = last_entry("claim.accepted")
    assert entry.data["due_on"] == due.isoformat()
    assert entry.data["calendar_version"] == version

    task = services.extend(task, user=town_reviewer, reason="records pending", now=now)
    assert task.due_on == extended == add_workdays(due, 5, default_calendar())
    entry = last_entry("claim.extended")
    assert entry.data["due_before"] == due.isoformat()
    assert entry.data["due_on"] == extended.isoformat()


def test_reacceptance_after_supplement_restarts_the_clock(submit, town_reviewer, resident_user):
    claim = submit(now=at(dt.date(2025, 9, 22)))
    task = claim.tasks.get()
    services.accept(task, user=town_reviewer, now=at(dt.date(2025, 9, 22)))
    services.request_materials(
        task, user=town_reviewer, items=["award"], now=at(dt.date(2025, 9, 23))
    )
    services.supplement(task, user=resident_user, note="sent", now=at(dt.date(2025, 9, 29)))
    task = services.accept(task, user=town_reviewer, now=at(dt.date(2025, 9, 30)))
    assert task.due_on == dt.date(2025, 10, 21)


def test_year_not_covered_is_a_configuration_problem(submit, town_reviewer):
    from jifen.calendars.models import CalendarProblem

    now = at(dt.date(2026, 12, 24))
    claim = submit(now=now)
    task = claim.tasks.get()
    with pytest.raises(DeadlineUnavailable) as caught:
        services.accept(task, user=town_reviewer, now=now)
    assert caught.value.field == "due_on"
    assert caught.value.code == "claims.deadline_unavailable"
    assert caught.value.year == 2027
    task = ReviewTask.objects.get(pk=task.pk)
    assert task.state == ReviewState.SUBMITTED and task.due_on is None
    assert "claim.accepted" not in actions(task)
    assert CalendarProblem.objects.filter(year=2027).exists()


def test_extension_into_an_uncovered_year_refused(submit, town_reviewer):
    now = at(dt.date(2026, 12, 16))
    claim = submit(now=now)
    task = services.accept(claim.tasks.get(), user=town_reviewer, now=now)
    assert task.due_on == dt.date(2026, 12, 30)
    with pytest.raises(DeadlineUnavailable):
        services.extend(task, user=town_reviewer, reason="records pending", now=now)
    task = ReviewTask.objects.get(pk=task.pk)
    assert not task.extended and task.due_on == dt.date(2026, 12, 30)
    assert "claim.extended" not in actions(task)
