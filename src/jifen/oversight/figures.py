"""THE query layer of the oversight dashboards and the monthly report: every figure of issue 7,
scoped by the viewer. Pages, charts, exports and reports call these functions only.

Scoping (:func:`scope_for`): the center (and a ``bureau`` role, if the Role exists) sees every
section; a reviewer sees the review and re-examination figures of their own department only; a
clerk sees the population figures of their own town only; anybody else nothing. A function of a
section the viewer may not see raises :class:`NotPermitted` (a ``PermissionDenied``: 403).
Check ``scope_for(user).allows(Section.X)`` before calling to show only the visible sections.

Sections and functions (all keyword arguments after ``viewer``; all return plain frozen
dataclasses, lists of them, or dicts — no querysets, no model instances):

- population (:data:`Section.POPULATION`)
  - :func:`population_by_town` ``(viewer) -> PopulationFigures``: current scores per town:
    valid, lapsed (and why: counts per lapse reason), cleared; from the last score snapshot.
  - :func:`permits_by_month` ``(viewer, first, last) -> list[MonthPermits]``: new permits,
    lapses and restorations per month, every month from ``first`` to ``last`` present.
- scores (:data:`Section.SCORES`)
  - :func:`score_histogram` ``(viewer, bin_width=10, day=None) -> Histogram``: valid totals.
  - :func:`scores_by_item` ``(viewer) -> list[ItemFigure]``: residents scoring on each item.
  - :func:`scores_by_town` ``(viewer) -> list[TownScores]``: count, mean, median, p90.
  - :func:`score_movement` ``(viewer, month) -> Movement``: the histogram at the end of
    ``month`` against the end of the month before, bin by bin, with mean/median change.
- feeds (:data:`Section.FEEDS`)
  - :func:`feeds_by_department` ``(viewer, now, since=None) -> list[FeedDepartment]``: last
    import, batches/rows/accepted/rejected since ``since``, cadence, late or not.
  - :func:`late_feeds` ``(viewer, now) -> list[FeedDepartment]``: those not arrived on schedule.
  - :func:`feed_rows_by_month` ``(viewer, first, last) -> list[FeedMonth]``.
  - :func:`feed_rejection_reasons` ``(viewer, since, until) -> list[ReasonCount]``.
- reviews (:data:`Section.REVIEWS`)
  - :func:`review_backlog` ``(viewer, today) -> Backlog``: open and overdue tasks by
    department and by town (the town of the claim's resident).
  - :func:`review_times` ``(viewer, since, until) -> ReviewTimes``: per department and in
    total: decided, median and p90 working days to decision, share within 10 working days,
    extensions used, materials notices sent.
- re-examinations (:data:`Section.REEXAMINATIONS`)
  - :func:`reexamination_figures` ``(viewer, since, until) -> ReexaminationFigures``: filed,
    upheld, dismissed, answered, answered within 7 working days (and the share).
- scenarios (:data:`Section.SCENARIOS`)
  - :func:`scenario_figures` ``(viewer) -> list[ScenarioFigure]``: applicants, eligible,
    admitted, cut-off points and tie-break, places and admitted per quota (town/school),
    outcomes recorded.
- everything for one month: :func:`monthly_figures` ``(viewer, month) -> dict[str, Any]``
  (keys = the section names the viewer may see; values = the results above for that month).

Definitions (tested against a hand-built population in tests/oversight/test_figures.py):

- Periods are half-open ``[since, until)`` dates in China time; a month is given as any
  ``date`` in it and shown as ``"YYYY-MM"``.
- Percentages are ``Decimal`` with one decimal place, rounded half up (:func:`percent`), or
  ``None`` when the whole is zero. Means are ``Decimal`` to two places, half up.
- Working days: :func:`jifen.calendars.services.workdays_between` (days after the start up to
  and including the end). Time to decision = from the China date of acceptance (a task
  refused without acceptance: of its submission) to the China date of the decision. Tasks
  whose dates the calendar does not cover are left out of the medians (``not_computable``).
- Median: the middle value, or the mean of the two middle values (a ``Decimal`` that may end
  in .5); p90: the nearest-rank 90th percentile (the ⌈0.9·n⌉-th smallest value).
- Score figures read the latest daily snapshot (:class:`~jifen.oversight.models.DailyScoreSummary`;
  ``as_of`` says when); score medians/p90 are to the whole point (totals rounded down to a
  whole point), means are exact. Valid scores only, except :func:`population_by_town`.
- Overdue: an accepted task whose ``due_on`` is before ``today`` (as the review dashboard,
  :mod:`jifen.claims.dashboard`). Open = submitted, accepted or materials requested.
- Answered within 7 working days: decided (upheld or dismissed) on or before its ``due_on``.
- Late feed: no applied batch received within ``every_days + grace_days`` days before ``now``
  (:class:`~jifen.oversight.models.FeedSchedule`, or the default cadence).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied


class Section(StrEnum):
    POPULATION = "population"
    SCORES = "scores"
    FEEDS = "feeds"
    REVIEWS = "reviews"
    REEXAMINATIONS = "reexaminations"
    SCENARIOS = "scenarios"


class NotPermitted(PermissionDenied):
    """The viewer may not see this section (or anything)."""

    code = "oversight.not_permitted"

    def __init__(self, section: str):
        self.section = section
        super().__init__(f"not permitted: {section}")


@dataclass(frozen=True)
class Scope:
    """What a viewer sees: the sections, and the one department or town they are limited to
    (None = every department/town)."""

    sections: frozenset[str] = frozenset()
    department_id: int | None = None
    town_id: int | None = None

    def allows(self, section: str) -> bool:
        return section in self.sections

    @property
    def everything(self) -> bool:
        return self.department_id is None and self.town_id is None and bool(self.sections)


# --- result types ------------------------------------------------------------------------


@dataclass(frozen=True)
class TownPopulation:
    town_code: str
    town_name: str
    residents: int = 0  # with a current score
    valid: int = 0
    lapsed: int = 0
    cleared: int = 0
    #: lapse reason → residents (lapsed scores only)
    lapsed_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PopulationFigures:
    as_of: dt.date | None  # the snapshot's day (None: no snapshot yet)
    rows: list[TownPopulation]  # one per town in scope, by town code
    total: TownPopulation  # town_code "" = all rows


@dataclass(frozen=True)
class MonthPermits:
    month: str  # "YYYY-MM"
    new_permits: int
    lapses: int
    restored: int


@dataclass(frozen=True)
class Bin:
    lower: int  # points, inclusive
    upper: int  # points, exclusive
    count: int


@dataclass(frozen=True)
class Histogram:
    as_of: dt.date | None
    bin_width: int
    bins: list[Bin]  # from 0 to the highest non-empty bin, empty bins included
    count: int
    mean: Decimal | None
    median: Decimal | None  # whole points


@dataclass(frozen=True)
class ItemFigure:
    section: str  # "provincial" | "city"
    item: str  # the policy's item code
    residents: int  # valid scores with points > 0 on this item
    share_percent: Decimal | None  # of all valid scores
    mean_points: Decimal | None  # over those residents


@dataclass(frozen=True)
class TownScores:
    town_code: str
    town_name: str
    residents: int  # valid scores
    mean: Decimal | None
    median: Decimal | None
    p90: int | None


@dataclass(frozen=True)
class MovementBin:
    lower: int
    upper: int
    previous: int
    current: int
    change: int


@dataclass(frozen=True)
class Movement:
    month: str
    current: Histogram  # last snapshot in ``month``
    previous: Histogram  # last snapshot in the month before
    bins: list[MovementBin]
    count_change: int
    mean_change: Decimal | None
    median_change: Decimal | None


@dataclass(frozen=True)
class FeedDepartment:
    department_code: str
    department_name: str
    last_import_at: dt.datetime | None  # last applied batch
    last_status: str  # status of the last batch received ("" if none)
    batches: int  # since ``since`` (all time when None)
    rows: int
    accepted: int
    rejected: int
    refused_batches: int
    every_days: int | None  # expected cadence (None: not expected)
    due_by: dt.datetime | None  # next data expected by
    late: bool


@dataclass(frozen=True)
class FeedMonth:
    department_code: str
    month: str
    batches: int
    accepted: int
    rejected: int


@dataclass(frozen=True)
class ReasonCount:
    department_code: str
    reason: str
    rows: int


@dataclass(frozen=True)
class BacklogRow:
    code: str  # department or town code ("" = total)
    name: str
    open: int
    overdue: int
    by_state: dict[str, int]  # open states only


@dataclass(frozen=True)
class Backlog:
    today: dt.date
    by_department: list[BacklogRow]
    by_town: list[BacklogRow]
    total: BacklogRow


@dataclass(frozen=True)
class ReviewTimesRow:
    code: str  # department code ("" = total)
    name: str
    decided: int  # approved, partly approved or rejected in the period
    median_workdays: Decimal | None
    p90_workdays: int | None
    within_10: int
    within_10_percent: Decimal | None
    not_computable: int  # decided, calendar gap
    extensions: int  # extensions granted in the period
    materials_notices: int  # notices issued in the period


@dataclass(frozen=True)
class ReviewTimes:
    since: dt.date
    until: dt.date
    rows: list[ReviewTimesRow]  # departments with any figure, by code
    total: ReviewTimesRow


@dataclass(frozen=True)
class ReexaminationRow:
    code: str
    name: str
    filed: int  # filed in the period
    upheld: int  # decided in the period
    dismissed: int
    withdrawn: int
    answered: int  # upheld + dismissed
    answered_within_7: int
    within_7_percent: Decimal | None  # of answered


@dataclass(frozen=True)
class ReexaminationFigures:
    since: dt.date
    until: dt.date
    rows: list[ReexaminationRow]
    total: ReexaminationRow


@dataclass(frozen=True)
class QuotaFigure:
    key: str
    label: str
    town_code: str
    places: int
    admitted: int


@dataclass(frozen=True)
class ScenarioFigure:
    code: str
    name: str
    version: int
    applicants: int  # enrollments not withdrawn
    eligible: int
    ranking_state: str  # "" when not ranked yet
    admitted: int
    cutoff_points: Decimal | None
    cutoff_tiebreak: Any  # the ranking's stored tie-break at the cut-off (JSON)
    places: list[QuotaFigure]
    outcomes: dict[str, int]  # outcome → entries


# --- helpers -----------------------------------------------------------------------------

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")


def percent(part: int, whole: int) -> Decimal | None:
    """``part / whole`` in percent, one decimal place, half up; None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def scope_for(viewer: Any) -> Scope:
    raise NotImplementedError


def population_by_town(viewer: Any) -> PopulationFigures:
    raise NotImplementedError


def permits_by_month(viewer: Any, *, first: dt.date, last: dt.date) -> list[MonthPermits]:
    raise NotImplementedError


def score_histogram(viewer: Any, *, bin_width: int = 10, day: dt.date | None = None) -> Histogram:
    raise NotImplementedError


def scores_by_item(viewer: Any) -> list[ItemFigure]:
    raise NotImplementedError


def scores_by_town(viewer: Any) -> list[TownScores]:
    raise NotImplementedError


def score_movement(viewer: Any, *, month: dt.date, bin_width: int = 10) -> Movement:
    raise NotImplementedError


def feeds_by_department(
    viewer: Any, *, now: dt.datetime, since: dt.datetime | None = None
) -> list[FeedDepartment]:
    raise NotImplementedError


def late_feeds(viewer: Any, *, now: dt.datetime) -> list[FeedDepartment]:
    raise NotImplementedError


def feed_rows_by_month(viewer: Any, *, first: dt.date, last: dt.date) -> list[FeedMonth]:
    raise NotImplementedError


def feed_rejection_reasons(viewer: Any, *, since: dt.date, until: dt.date) -> list[ReasonCount]:
    raise NotImplementedError


def review_backlog(viewer: Any, *, today: dt.date) -> Backlog:
    raise NotImplementedError


def review_times(viewer: Any, *, since: dt.date, until: dt.date) -> ReviewTimes:
    raise NotImplementedError


def reexamination_figures(viewer: Any, *, since: dt.date, until: dt.date) -> ReexaminationFigures:
    raise NotImplementedError


def scenario_figures(viewer: Any) -> list[ScenarioFigure]:
    raise NotImplementedError


def monthly_figures(viewer: Any, *, month: dt.date) -> dict[str, Any]:
    raise NotImplementedError
