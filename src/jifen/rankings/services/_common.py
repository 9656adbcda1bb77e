"""Shared steps of the rankings services: who may act, locking, the calendar, audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import Role, User
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.rankings.errors import CalendarUnavailable, NotAllowed
from jifen.rankings.models import Ranking
from jifen.scores.services import china_date

__all__ = ["audit", "china_date", "lock_ranking", "procedure", "require_center"]


def _active(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def require_center(user: User | None) -> None:
    if not (_active(user) and user.role == Role.CENTER):
        raise NotAllowed(_("Only the center may do this."))


def require_center_or_reviewer(user: User | None) -> None:
    """The center, or a department reviewer (an upheld re-examination corrects the list)."""
    if not (_active(user) and user.role in (Role.CENTER, Role.REVIEWER)):
        raise NotAllowed(_("Only the center or a reviewing department may do this."))


def require_provider(user: User | None, ranking: Ranking) -> None:
    """The center, or a reviewer of the scenario's providing department."""
    ok = _active(user) and (
        user.role == Role.CENTER
        or (
            user.role == Role.REVIEWER
            and user.department_id == ranking.version.scenario.department_id
        )
    )
    if not ok:
        raise NotAllowed(_("Only the providing department or the center may do this."))


def lock_ranking(ranking: Ranking | int) -> Ranking:
    pk = ranking.pk if isinstance(ranking, Ranking) else ranking
    return (
        Ranking.objects.select_for_update(of=("self",))
        .select_related("version", "version__scenario")
        .defer("inputs")  # read only when needed (megabytes for a large list)
        .get(pk=pk)
    )


def procedure(on: dt.date) -> dict[str, int]:
    """The city policy's procedure windows in force on ``on``."""
    from jifen.claims.routing import city_policy

    return dict(city_policy(on).procedure)


def workday_deadline(start: dt.date, workdays: int, now: dt.datetime):
    """``Deadline(due_on, calendar_version)``: the ``workdays``-th working day after ``start``."""
    from jifen.calendars.services import deadline
    from jifen.workdays.errors import CalendarError

    try:
        return deadline(start, workdays, now=now)
    except CalendarError as exc:
        raise _calendar_unavailable(exc) from exc


def count_workdays(a: dt.date, b: dt.date, now: dt.datetime) -> int:
    from jifen.calendars.services import workdays_between
    from jifen.workdays.errors import CalendarError

    try:
        return workdays_between(a, b, now=now)
    except CalendarError as exc:
        raise _calendar_unavailable(exc) from exc


def _calendar_unavailable(exc: Exception) -> CalendarUnavailable:
    year = getattr(exc, "year", None)
    return CalendarUnavailable(
        _(
            "The dates cannot be computed: the working-day calendar does not cover %(year)s. "
            "This is a configuration problem; the center has been told."
        )
        % {"year": year},
        field="ends_on",
    )


def audit(
    action: str,
    *,
    user: User | None = None,
    actor: Actor | None = None,
    obj: Any,
    now: dt.datetime,
    data: dict[str, Any],
) -> None:
    record(action, actor=actor or Actor.for_user(user), occurred_at=now, obj=obj, data=data)


def notify_applicant(
    enrollment: Any, *, kind: str, subject: Any, body: Any, link: str, now: dt.datetime
) -> None:
    from jifen.notifications.services import notify

    notify(
        resident=enrollment.resident,
        kind=kind,
        subject=str(subject),
        body=str(body),
        link=link,
        now=now,
    )
