"""The database calendar: the current version, deadlines, and changes by the center.

- :func:`current_calendar` — the latest version as a pure :class:`jifen.workdays.Calendar`
  and its number. One cheap query per call (the latest version's number and key); the
  calendar itself is built once per version and process, so a version saved by another
  process is seen at the next call.
- :func:`deadline` / :func:`workdays_between` — on the current version; a year it does not
  cover raises :class:`~jifen.calendars.errors.CalendarNotCovered` and is recorded as a
  :class:`~jifen.calendars.models.CalendarProblem` the center sees. The record survives the
  caller's rollback: it is written in the caller's transaction *and* kept in memory until it
  can be written outside it (end of the request, next calendar call outside a transaction).
- :func:`set_day` / :func:`import_notice` — a new version from the latest (audited
  ``calendar.changed``); versions never change once saved.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.calendars import seeding
from jifen.calendars.errors import CalendarChangeRefused, CalendarNotCovered
from jifen.calendars.models import CalendarDay, CalendarProblem, CalendarVersion, CalendarYear
from jifen.workdays import Calendar, Day, Notice, apply_notices, parse_notice
from jifen.workdays.errors import CalendarError

logger = logging.getLogger(__name__)

__all__ = [
    "Deadline",
    "calendar_of",
    "current_calendar",
    "current_version",
    "deadline",
    "import_notice",
    "is_workday",
    "open_problems",
    "record_problem",
    "set_day",
    "workdays_between",
]


@dataclass(frozen=True)
class Deadline:
    """A due date and the calendar version it was computed with."""

    due_on: dt.date
    calendar_version: int


# --- the current version and the per-process cache ------------------------------------------

_CACHE_SIZE = 4
_cache: OrderedDict[uuid.UUID, Calendar] = OrderedDict()
_cache_lock = threading.Lock()


def current_version() -> tuple[int, uuid.UUID]:
    """The number and key of the latest version (seeding version 1 into an empty table)."""
    row = CalendarVersion.objects.order_by("-number").values_list("number", "key").first()
    if row is None:
        row = _seed_empty_table()
    return row


def _seed_empty_table() -> tuple[int, uuid.UUID]:
    # The migration seeds version 1; an empty table means it was emptied (a flushed test
    # database, a restore without this table). The package calendar is what the migration
    # would write, so seed it again rather than refuse every deadline.
    logger.warning("calendar table is empty: seeding version 1 from the package calendar")
    try:
        with transaction.atomic():
            seeding.seed(CalendarVersion, CalendarYear, CalendarDay, now=timezone.now())
    except IntegrityError:  # another process seeded it at the same moment
        pass
    return CalendarVersion.objects.order_by("-number").values_list("number", "key").get(number=1)


def _build(number: int) -> Calendar:
    years = CalendarYear.objects.filter(version_id=number).values_list("year", flat=True)
    days = CalendarDay.objects.filter(version_id=number).values_list(
        "date", "is_workday", "name", "source"
    )
    return Calendar.from_days(list(years), [Day(*row) for row in days])


def _cached(number: int, key: uuid.UUID) -> Calendar:
    with _cache_lock:
        calendar = _cache.get(key)
        if calendar is not None:
            _cache.move_to_end(key)
            return calendar
    calendar = _build(number)
    with _cache_lock:
        _cache[key] = calendar
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return calendar


def current_calendar() -> tuple[Calendar, int]:
    """The current (latest) calendar version and its number."""
    _flush_pending_if_possible()
    number, key = current_version()
    return _cached(number, key), number


def calendar_of(number: int) -> Calendar:
    """A given version (``CalendarVersion.DoesNotExist`` if there is none)."""
    version = CalendarVersion.objects.values_list("number", "key").get(number=number)
    return _cached(*version)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# --- deadlines ------------------------------------------------------------------------------


def deadline(start: dt.date, workdays: int, *, now: dt.datetime | None = None) -> Deadline:
    """The ``workdays``-th working day after ``start`` on the current calendar.

    Raises ``CalendarNotCovered(year=...)`` (recorded for the center) when the walk touches
    a year the calendar does not cover.
    """
    calendar, number = current_calendar()
    try:
        due_on = calendar.add_workdays(start, workdays)
    except CalendarError as exc:
        raise _not_covered(exc, now) from None
    return Deadline(due_on=due_on, calendar_version=number)


def workdays_between(a: dt.date, b: dt.date, *, now: dt.datetime | None = None) -> int:
    """Working days after ``a`` up to and including ``b`` (negative when ``b < a``)."""
    calendar, _number = current_calendar()
    try:
        return calendar.workdays_between(a, b)
    except CalendarError as exc:
        raise _not_covered(exc, now) from None


def is_workday(day: dt.date, *, now: dt.datetime | None = None) -> bool:
    calendar, _number = current_calendar()
    try:
        return calendar.is_workday(day)
    except CalendarError as exc:
        raise _not_covered(exc, now) from None


def _not_covered(exc: CalendarError, now: dt.datetime | None) -> CalendarNotCovered:
    year = exc.year
    if year is not None:
        record_problem(year, now=now or timezone.now())
    return CalendarNotCovered(year=year)


# --- configuration problems -----------------------------------------------------------------

_pending = threading.local()


def _pending_set() -> dict[int, dt.datetime]:
    if not hasattr(_pending, "years"):
        _pending.years = {}
    return _pending.years


def record_problem(year: int, *, now: dt.datetime) -> None:
    """Note that ``year`` was needed and is not covered (never raises).

    Written now (in the caller's transaction, if any) and remembered until it can be written
    outside a transaction, so a caller that rolls back does not erase it.
    """
    if connection.in_atomic_block:
        pending = _pending_set()
        pending[year] = max(now, pending.get(year, now))
        if _write_problem(year, now):
            # Committed with the caller's transaction: nothing left to write.
            transaction.on_commit(lambda: _forget(year, now))
        return
    _write_problem(year, now)


def _forget(year: int, now: dt.datetime) -> None:
    pending = _pending_set()
    if pending.get(year) == now:
        del pending[year]


def forget_pending() -> None:
    """Drop the problems not yet written (tests: isolation between tests of one thread)."""
    _pending_set().clear()


def _write_problem(year: int, now: dt.datetime) -> bool:
    if connection.in_atomic_block and connection.needs_rollback:
        return False
    try:
        with transaction.atomic():
            if CalendarProblem.objects.filter(year=year, last_seen__gte=now).exists():
                return True  # this sighting is written already
            updated = CalendarProblem.objects.filter(year=year).update(
                last_seen=now,
                occurrences=F("occurrences") + 1,
                resolved_at=None,
                resolved_by_version=None,
            )
            if not updated:
                with transaction.atomic():
                    CalendarProblem.objects.create(year=year, first_seen=now, last_seen=now)
    except IntegrityError:
        return _write_problem(year, now)  # created concurrently: now it is an update
    except DatabaseError:
        logger.exception("could not record the calendar problem for %s", year)
        return False
    logger.warning("the working-day calendar does not cover %s", year)
    return True


def flush_pending() -> None:
    """Write the problems remembered while a transaction was open (request end, job end)."""
    pending = _pending_set()
    if not pending:
        return
    for year, seen in list(pending.items()):
        if _write_problem(year, seen):
            pending.pop(year, None)


def _flush_pending_if_possible() -> None:
    if _pending_set() and not connection.in_atomic_block:
        flush_pending()


def open_problems():
    """Years asked for and not covered, newest sighting first."""
    return CalendarProblem.objects.filter(resolved_at__isnull=True).order_by("year")


def _resolve_problems(version: CalendarVersion, calendar: Calendar, now: dt.datetime) -> list[int]:
    covered = sorted(
        CalendarProblem.objects.filter(
            resolved_at__isnull=True, year__in=list(calendar.years)
        ).values_list("year", flat=True)
    )
    if covered:
        CalendarProblem.objects.filter(year__in=covered).update(
            resolved_at=now, resolved_by_version=version.number
        )
        pending = _pending_set()
        for year in covered:
            pending.pop(year, None)
    return covered


# --- changes by the center ------------------------------------------------------------------


def _save_version(
    change: Callable[[Calendar], tuple[Calendar, dict[str, Any]]],
    *,
    user: Any,
    now: dt.datetime,
    note: str,
    source: str,
    sources: dict[int, str],
    request: Any = None,
    actor: Actor | None = None,
) -> CalendarVersion:
    """A new version = ``change(latest)``; serialised, audited ``calendar.changed``."""
    current_version()  # an empty table gets its version 1 first
    with transaction.atomic():
        # Lock version 1 as the mutex of all changes, then read the latest: a change that
        # waited sees the version the other one saved and builds on it.
        CalendarVersion.objects.select_for_update().order_by("number").first()
        latest = CalendarVersion.objects.order_by("-number").first()
        base = _cached(latest.number, latest.key)
        calendar, data = change(base)
        old_sources = dict(
            CalendarYear.objects.filter(version=latest).values_list("year", "source")
        )
        version = seeding.write_version(
            CalendarVersion,
            CalendarYear,
            CalendarDay,
            number=latest.number + 1,
            calendar=calendar,
            sources={**old_sources, **sources},
            created_at=now,
            created_by=user,
            note=note,
            source=source[:200],
        )
        resolved = _resolve_problems(version, calendar, now)
        record(
            "calendar.changed",
            actor=actor or Actor.for_user(user),
            occurred_at=now,
            obj=version,
            data={
                "from_version": latest.number,
                "to_version": version.number,
                "source": source[:200],
                "reason": note[:500],
                "resolved_years": resolved,
                **data,
            },
            request=request,
        )
    return version


def _day_data(day: Day | None) -> dict[str, Any] | None:
    if day is None:
        return None
    return {"is_workday": day.is_workday, "name": day.name}


def set_day(
    *,
    date: dt.date,
    is_workday: bool,
    name: str,
    reason: str,
    user: Any,
    now: dt.datetime,
    request: Any = None,
) -> CalendarVersion:
    """A new version where ``date`` is a working day or a day off (an emergency change).

    The year must be covered (load its notice first); ``reason`` is required. Raises
    ``CalendarChangeRefused`` naming the field.
    """
    reason = (reason or "").strip()
    name = (name or "").strip()
    if not reason:
        raise CalendarChangeRefused(_("Give the reason for the change."), field="reason")
    if len(name) > 100:
        raise CalendarChangeRefused(
            _("The name is too long (100 characters at most)."), field="name"
        )

    def change(calendar: Calendar) -> tuple[Calendar, dict[str, Any]]:
        if not calendar.covers(date):
            raise CalendarChangeRefused(
                _(
                    "The calendar does not cover %(year)s: import the holiday notice for "
                    "%(year)s first."
                )
                % {"year": date.year},
                field="date",
            )
        before = calendar.day(date)
        before_workday = calendar.is_workday(date)
        if before_workday == is_workday and (before is None or before.name == name):
            raise CalendarChangeRefused(
                _("%(date)s is already a %(kind)s.")
                % {"date": date, "kind": _("working day") if is_workday else _("day off")},
                field="is_workday",
            )
        after = Day(date, is_workday, name, _change_source(reason))
        rows = [d for d in calendar.days if d.date.year == date.year and d.date != date]
        rows.append(after)
        new = calendar.replace_years([date.year], rows)
        data = {
            "date": date.isoformat(),
            "before": {"is_workday": before_workday, **({"name": before.name} if before else {})},
            "after": {"is_workday": after.is_workday, "name": after.name},
        }
        return new, data

    return _save_version(
        change,
        user=user,
        now=now,
        note=reason,
        source=f"day {date.isoformat()}",
        sources={},
        request=request,
    )


def _change_source(reason: str) -> str:
    return f"center: {reason}"[:200]


def import_notice(
    text: str,
    *,
    file: str,
    user: Any,
    now: dt.datetime,
    note: str = "",
    request: Any = None,
    actor: Actor | None = None,
) -> CalendarVersion:
    """A new version with the notice's year replaced (or added) by a notice file's content.

    ``text`` has the format of ``policies/calendar/*.yaml``; a bad file raises
    ``jifen.workdays.CalendarFileError`` (file, path, reason) and nothing is written.
    """
    notice: Notice = parse_notice(text, file)
    origin = f"{notice.notice} ({Path(file).name})"

    def change(calendar: Calendar) -> tuple[Calendar, dict[str, Any]]:
        before = [d for d in calendar.days if d.date.year == notice.year]
        new = apply_notices(calendar, [notice])
        after = [d for d in new.days if d.date.year == notice.year]
        data = {
            "year": notice.year,
            "notice": notice.notice[:200],
            "before": {
                "covered": notice.year in calendar.years,
                "days_off": sum(not d.is_workday for d in before),
                "adjusted_workdays": sum(d.is_workday for d in before),
            },
            "after": {
                "covered": True,
                "days_off": sum(not d.is_workday for d in after),
                "adjusted_workdays": sum(d.is_workday for d in after),
            },
        }
        return new, data

    return _save_version(
        change,
        user=user,
        now=now,
        note=note or origin,
        source=f"notice {Path(file).name}",
        sources={notice.year: origin},
        request=request,
        actor=actor,
    )
