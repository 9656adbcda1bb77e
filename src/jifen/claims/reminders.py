"""The ``claims.remind`` job: deadline reminders to the department's reviewers, and overdue
flags.

For every accepted task with a deadline, on the China date ``today`` of the run:

- 3 working days or fewer before the due date, once: ``review.due_soon`` to the department's
  reviewers (``reminded_on`` records the day);
- on the due date, once: ``review.due_soon`` ("due today");
- after the due date, once: ``overdue_flagged_at`` is set, audited ``review.overdue`` (system
  actor ``job:claims_remind``) and the reviewers get ``review.overdue``.

The job runs hourly; each step happens once, so runs may repeat or be missed without harm. A
year the calendar does not cover is skipped for that task (the calendar records the problem
for the center) and counted in the summary.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jifen.audit.actors import Actor
from jifen.claims.models import ReviewState, ReviewTask
from jifen.claims.services._common import audit, lock_task, notify_department
from jifen.scores.services import china_date

logger = logging.getLogger(__name__)

KIND = "claims.remind"
ACTOR = "job:claims_remind"
#: Reminders start this many working days before the due date.
DUE_SOON_WORKDAYS = 3


def run_reminders(now: dt.datetime) -> dict[str, Any]:
    from jifen.calendars.services import workdays_between
    from jifen.workdays.errors import CalendarError

    today = china_date(now)
    summary = {"due_soon": 0, "due_today": 0, "overdue": 0, "calendar_gaps": 0}
    candidates = (
        ReviewTask.objects.filter(state=ReviewState.ACCEPTED, due_on__isnull=False)
        .filter(overdue_flagged_at__isnull=True)
        .exclude(reminded_on=today)
        .order_by("due_on", "pk")
        .values_list("pk", "due_on", "reminded_on")
    )
    for pk, due_on, reminded_on in candidates:
        if due_on < today:
            summary["overdue"] += _flag_overdue(pk, now)
        elif due_on == today:
            summary["due_today"] += _remind(pk, now, due_today=True)
        elif reminded_on is None:
            try:
                left = workdays_between(today, due_on, now=now)
            except CalendarError:
                summary["calendar_gaps"] += 1
                continue
            if left <= DUE_SOON_WORKDAYS:
                summary["due_soon"] += _remind(pk, now, due_today=False)
    return summary


def _remind(pk: int, now: dt.datetime, *, due_today: bool) -> int:
    today = china_date(now)
    with transaction.atomic():
        task = lock_task(pk)
        if task.state != ReviewState.ACCEPTED or task.reminded_on == today:
            return 0
        task.reminded_on = today
        task.save(update_fields=["reminded_on"])
        if due_today:
            subject = _("Review of %(number)s is due today") % {"number": task.claim.number}
        else:
            subject = _("Review of %(number)s is due on %(due)s") % {
                "number": task.claim.number,
                "due": task.due_on.isoformat(),
            }
        notify_department(
            task,
            kind="review.due_soon",
            subject=subject,
            body=_("Application %(number)s must be decided by %(due)s.")
            % {"number": task.claim.number, "due": task.due_on.isoformat()},
            now=now,
        )
    return 1


def _flag_overdue(pk: int, now: dt.datetime) -> int:
    with transaction.atomic():
        task = lock_task(pk)
        if task.state != ReviewState.ACCEPTED or task.overdue_flagged_at is not None:
            return 0
        task.overdue_flagged_at = now
        task.save(update_fields=["overdue_flagged_at"])
        audit(
            "review.overdue",
            actor=Actor.system(ACTOR),
            obj=task,
            now=now,
            data={
                "claim": str(task.claim_id),
                "number": task.claim.number,
                "task": task.pk,
                "department": task.department.code,
                "due_on": task.due_on.isoformat(),
                "state": task.state,
            },
        )
        notify_department(
            task,
            kind="review.overdue",
            subject=_("Review of %(number)s is overdue") % {"number": task.claim.number},
            body=_("Application %(number)s was due on %(due)s and is not decided.")
            % {"number": task.claim.number, "due": task.due_on.isoformat()},
            now=now,
        )
    return 1
