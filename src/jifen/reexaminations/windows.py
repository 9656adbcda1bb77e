"""The re-examination windows (三.5), in working days of the database calendar.

**Filing: "within 3 working days from the first day of publication" (公示首日起3个工作日内).**
The first day of publication counts: if it is a working day it is day 1, so the window is
that day and the next two working days; if publication starts on a day off, day 1 is the
first working day after it. The last day to file is therefore
``add_workdays(starts_on - 1 day, 3)``, and a request is accepted when its China date is in
``[starts_on, last day]`` (whole days: until 23:59:59 China time of the last day). Example:
publication from Tuesday 2025-09-30 → day 1 = 09-30, then the National Day holiday
(10-01 … 10-08) and day 2 = Thursday 10-09, day 3 = Friday 10-10: the last day is 2025-10-10
(the adjusted working Saturday 10-11 is the 4th working day: too late).

**Answer: "finished within 7 working days"** counted from the filing day the way the claims'
deadlines are: the filing day is day 0, the due date is the 7th working day after it
(``deadline(filed_on, 7)``), stored with the calendar version it was computed with.

The numbers 3 and 7 are the city policy's ``procedure`` (``reexamination_request_workdays``,
``reexamination_answer_workdays``) in force on the first day of publication / the filing day.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from jifen.calendars.services import Deadline, deadline
from jifen.reexaminations.errors import DeadlineUnavailable
from jifen.workdays.errors import CalendarError

REQUEST_KEY = "reexamination_request_workdays"
ANSWER_KEY = "reexamination_answer_workdays"


def procedure_days(key: str, on: dt.date) -> int:
    from jifen.claims.routing import city_policy

    return int(city_policy(on).procedure[key])


def _deadline(start: dt.date, workdays: int, now: dt.datetime | None) -> Deadline:
    try:
        return deadline(start, workdays, now=now)
    except CalendarError as exc:
        year = getattr(exc, "year", None)
        raise DeadlineUnavailable(
            _(
                "The deadline cannot be computed: the working-day calendar does not cover "
                "%(year)s. This is a configuration problem; the center has been told."
            )
            % {"year": year},
            field="due_on",
        ) from exc


def filing_deadline(starts_on: dt.date, *, now: dt.datetime | None = None) -> Deadline:
    """The last day a re-examination of a publication starting ``starts_on`` may be filed."""
    workdays = procedure_days(REQUEST_KEY, starts_on)
    return _deadline(starts_on - dt.timedelta(days=1), workdays, now)


def answer_deadline(filed_on: dt.date, *, now: dt.datetime | None = None) -> Deadline:
    """The date a re-examination filed on ``filed_on`` must be answered by."""
    workdays = procedure_days(ANSWER_KEY, filed_on)
    return _deadline(filed_on, workdays, now)
