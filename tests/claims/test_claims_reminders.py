"""The claims.remind job: reminders 3 working days before and on the due date, overdue flag
with an audit entry by the named system actor."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.claims import services
from jifen.claims.models import ReviewTask
from jifen.claims.reminders import ACTOR, KIND, run_reminders
from jifen.jobs.registry import get_handler
from jifen.notifications.models import Notification
from tests.claims.conftest import last_entry
from tests.factories import CHINA_TZ

pytestmark = pytest.mark.django_db


def at(day, hour=9):
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ)


def test_reminders_and_overdue(submit, town_reviewer):
    accepted = dt.date(2025, 9, 26)
    claim = submit(now=at(accepted))
    task = services.accept(claim.tasks.get(), user=town_reviewer, now=at(accepted))
    assert task.due_on == dt.date(2025, 10, 16)

    def sent(kind):
        return Notification.objects.filter(user=town_reviewer, kind=kind).count()

    assert run_reminders(at(dt.date(2025, 10, 10)))["due_soon"] == 0  # 4 working days left
    summary = run_reminders(at(dt.date(2025, 10, 13)))  # 3 working days left
    assert summary["due_soon"] == 1 and sent("review.due_soon") == 1
    assert run_reminders(at(dt.date(2025, 10, 13), 15))["due_soon"] == 0  # once
    assert run_reminders(at(dt.date(2025, 10, 14)))["due_soon"] == 0
    assert run_reminders(at(dt.date(2025, 10, 16)))["due_today"] == 1
    assert sent("review.due_soon") == 2
    assert run_reminders(at(dt.date(2025, 10, 16), 16))["due_today"] == 0
    summary = run_reminders(at(dt.date(2025, 10, 17)))
    assert summary["overdue"] == 1 and sent("review.overdue") == 1
    task = ReviewTask.objects.get(pk=task.pk)
    assert task.overdue_flagged_at == at(dt.date(2025, 10, 17))
    entry = last_entry("review.overdue")
    assert entry.actor_id == ACTOR and entry.actor_kind == "system"
    assert entry.object_id == str(task.pk) and entry.data["due_on"] == "2025-10-16"
    assert run_reminders(at(dt.date(2025, 10, 20)))["overdue"] == 0


def test_decided_tasks_are_left_alone(task_in, town_reviewer):
    task = task_in("approved", now=at(dt.date(2025, 9, 26)))
    assert run_reminders(at(dt.date(2025, 11, 30))) == {
        "due_soon": 0,
        "due_today": 0,
        "overdue": 0,
        "calendar_gaps": 0,
    }
    assert ReviewTask.objects.get(pk=task.pk).overdue_flagged_at is None


def test_the_job_kind_is_registered():
    assert get_handler(KIND).__module__ == "jifen.claims.handlers"


def test_the_job_runs_hourly():
    from jifen.jobs.registry import periodic_kinds

    assert periodic_kinds()[KIND].every == dt.timedelta(hours=1)
