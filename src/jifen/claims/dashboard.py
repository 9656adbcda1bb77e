"""Figures of the review dashboards: a department's tasks by state and by deadline, and the
center's backlog and overdue count per department.

The functions take a queryset of review tasks that is already scoped to the user
(``jifen.accounts.access.tasks_for``); they never decide who sees what. Deadlines count only
for tasks in state ``accepted`` (a submitted task has no deadline yet; a task waiting for
materials starts again at its next acceptance), as the ``claims.remind`` job does:

- *due today*: ``due_on`` is today (China date);
- *due soon*: due after today and no later than the 3rd working day after today (the
  database calendar, :func:`jifen.calendars.services.deadline`);
- *overdue*: ``due_on`` before today.

If the calendar does not cover the days ahead, "due soon" cannot be computed: the figure is
``None`` and ``calendar_gap`` names the year (the calendar has recorded the problem).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from jifen.claims.models import OPEN_STATES, ReviewState, ReviewTask
from jifen.org.models import Department

#: "Due soon" looks this many working days ahead (the reminder job's window).
DUE_SOON_WORKDAYS = 3
#: The deadline filters of the review queue.
DUE_FILTERS = ("today", "soon", "overdue")


@dataclass(frozen=True)
class DueWindow:
    """Today and the last day counted as "due soon" (None when the calendar has a gap)."""

    today: dt.date
    soon_until: dt.date | None
    calendar_gap: int | None = None


def due_window(today: dt.date, *, now: dt.datetime | None = None) -> DueWindow:
    from jifen.calendars.services import deadline
    from jifen.workdays.errors import CalendarError

    try:
        until = deadline(today, DUE_SOON_WORKDAYS, now=now).due_on
    except CalendarError as exc:
        return DueWindow(today=today, soon_until=None, calendar_gap=getattr(exc, "year", None))
    return DueWindow(today=today, soon_until=until)


def due_q(due: str, window: DueWindow) -> Q | None:
    """The condition of deadline filter ``due`` (one of :data:`DUE_FILTERS`); None if it
    cannot be computed (a calendar gap)."""
    accepted = Q(state=ReviewState.ACCEPTED, due_on__isnull=False)
    if due == "today":
        return accepted & Q(due_on=window.today)
    if due == "overdue":
        return accepted & Q(due_on__lt=window.today)
    if due == "soon":
        if window.soon_until is None:
            return None
        return accepted & Q(due_on__gt=window.today, due_on__lte=window.soon_until)
    raise ValueError(f"unknown deadline filter {due!r} (one of {', '.join(DUE_FILTERS)})")


def filter_due(tasks: QuerySet[ReviewTask], due: str, window: DueWindow) -> QuerySet[ReviewTask]:
    condition = due_q(due, window)
    return tasks.none() if condition is None else tasks.filter(condition)


def _counts(window: DueWindow) -> dict[str, Count]:
    counts = {f"state_{state}": Count("pk", filter=Q(state=state)) for state in ReviewState.values}
    counts["backlog"] = Count("pk", filter=Q(state__in=OPEN_STATES))
    for due in DUE_FILTERS:
        condition = due_q(due, window)
        if condition is not None:
            counts[f"due_{due}"] = Count("pk", filter=condition)
    return counts


@dataclass
class Figures:
    """The dashboard figures of one set of tasks (a department, or everything)."""

    by_state: dict[str, int] = field(default_factory=dict)
    backlog: int = 0
    due_today: int = 0
    due_soon: int | None = 0
    overdue: int = 0

    @property
    def states(self) -> list[tuple[str, str, int]]:
        """``(state, label, count)`` in the order of the transition table."""
        return [(s.value, s.label, self.by_state.get(s.value, 0)) for s in ReviewState]


def _figures(row: dict[str, int]) -> Figures:
    return Figures(
        by_state={state: row.get(f"state_{state}") or 0 for state in ReviewState.values},
        backlog=row.get("backlog") or 0,
        due_today=row.get("due_today") or 0,
        due_soon=(row.get("due_soon") or 0) if "due_soon" in row else None,
        overdue=row.get("due_overdue") or 0,
    )


def figures(tasks: QuerySet[ReviewTask], window: DueWindow) -> Figures:
    """Tasks by state, backlog (open tasks), due today, due soon, overdue — one query."""
    return _figures(tasks.order_by().aggregate(**_counts(window)))


@dataclass
class DepartmentRow:
    department: Department
    figures: Figures


def by_department(tasks: QuerySet[ReviewTask], window: DueWindow) -> list[DepartmentRow]:
    """The figures per department (one query), departments with tasks only, busiest first:
    most overdue, then largest backlog, then by code."""
    rows = tasks.order_by().values("department").annotate(**_counts(window))
    departments = Department.objects.in_bulk([row["department"] for row in rows])
    result = [DepartmentRow(departments[row["department"]], _figures(row)) for row in rows]
    result.sort(key=lambda r: (-r.figures.overdue, -r.figures.backlog, r.department.code))
    return result
