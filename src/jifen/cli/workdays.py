"""``jifen workdays``: deadlines on the working-day calendar, from the command line.

jifen workdays add START N     # the N-th working day after START (ISO date)
jifen workdays between A B     # working days after A up to and including B
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import TypeVar

from jifen.cli import CommandError, iso_date
from jifen.workdays import Calendar, CalendarError, CalendarFileError, default_calendar

T = TypeVar("T")

# int() would also take "+3", " 3", "1_0" or "３"; a deadline count is plain ASCII digits.
_COUNT = re.compile(r"[0-9]+")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``workdays`` command and its ``add`` / ``between`` sub-commands."""
    parser = subparsers.add_parser(
        "workdays",
        help="working-day (工作日) arithmetic on the State Council holiday calendar",
        description="Working days exclude statutory holidays and bridged days off and include "
        "the adjusted working weekends (调休上班). A date in a year whose notice is not "
        "loaded is an error.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="print the N-th working day after START")
    add.add_argument("start", type=iso_date, metavar="START", help="date (YYYY-MM-DD)")
    add.add_argument("n", metavar="N", help="number of working days (integer ≥ 0)")
    add.set_defaults(handler=_add)

    between = actions.add_parser(
        "between", help="print the number of working days after A up to and including B"
    )
    between.add_argument("a", type=iso_date, metavar="A", help="date (YYYY-MM-DD)")
    between.add_argument("b", type=iso_date, metavar="B", help="date (YYYY-MM-DD)")
    between.set_defaults(handler=_between)


def _count(value: str) -> int:
    if not _COUNT.fullmatch(value):
        if re.fullmatch(r"-[0-9]+", value):
            raise CommandError(f"N must be 0 or more, got {value}")
        raise CommandError(f"N must be a whole number of working days (0 or more), got {value!r}")
    return int(value)


def _add(ns: argparse.Namespace) -> int:
    n = _count(ns.n)
    result = _calendar_call(lambda calendar: calendar.add_workdays(ns.start, n))
    print(result.isoformat())
    return 0


def _between(ns: argparse.Namespace) -> int:
    count = _calendar_call(lambda calendar: calendar.workdays_between(ns.a, ns.b))
    print(count)
    return 0


def _calendar_call(compute: Callable[[Calendar], T]) -> T:
    # Both a missing year and a broken override file are input problems: one line, status 2.
    try:
        return compute(default_calendar())
    except (CalendarError, CalendarFileError) as exc:
        raise CommandError(str(exc)) from None
