"""Errors of the database calendar."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jifen.workdays.errors import CalendarError


class CalendarNotCovered(CalendarError):
    """A deadline or a count touches a year the current calendar version does not cover.

    ``code`` is stable, ``year`` names the year; the service has recorded a
    :class:`~jifen.calendars.models.CalendarProblem` so the center sees it.
    """

    code = "calendar.not_covered"
    field = None

    def __init__(self, message: str | None = None, *, year: int | None = None) -> None:
        if message is None:
            message = _(
                "The working-day calendar does not cover %(year)s: the center must load the "
                "State Council holiday notice for %(year)s."
            ) % {"year": year}
        super().__init__(message, year=year)

    def __reduce__(self):
        return (_rebuild, (str(self), self.year))


def _rebuild(message: str, year: int | None) -> CalendarNotCovered:
    return CalendarNotCovered(message, year=year)


class CalendarChangeRefused(ValueError):
    """A change to the calendar is refused; ``field`` names the form field at fault."""

    code = "calendar.change_refused"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)
