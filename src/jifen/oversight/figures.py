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
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, Sum


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


CHINA = ZoneInfo("Asia/Shanghai")
#: Review states that carry a decision.
DECIDED_STATES = ("approved", "partly_approved", "rejected")
#: The share of decisions within this many working days is a dashboard figure.
DECISION_WORKDAYS = 10
#: Feeds expected every this many days unless a FeedSchedule row says otherwise.
DEFAULT_FEED_EVERY_DAYS = 31


def scope_for(viewer: Any) -> Scope:
    """The sections and slice ``viewer`` may see (see the module docstring)."""
    from jifen.accounts.access import role_of
    from jifen.accounts.models import Role

    role = role_of(viewer)
    if role is None:
        return Scope()
    if role == Role.CENTER or role == getattr(Role, "BUREAU", object()):
        return Scope(sections=frozenset(Section))
    if role == Role.REVIEWER and viewer.department_id:
        return Scope(
            sections=frozenset({Section.REVIEWS, Section.REEXAMINATIONS}),
            department_id=viewer.department_id,
        )
    if role == Role.CLERK and viewer.town_id:
        return Scope(sections=frozenset({Section.POPULATION}), town_id=viewer.town_id)
    return Scope()


def _require(viewer: Any, section: Section) -> Scope:
    scope = scope_for(viewer)
    if not scope.allows(section):
        raise NotPermitted(section)
    return scope


def _towns(scope: Scope) -> list[Any]:
    from jifen.org.models import Town

    towns = Town.objects.order_by("code")
    if scope.town_id is not None:
        return list(towns.filter(pk=scope.town_id))
    return list(towns)


def _departments(scope: Scope) -> list[Any]:
    from jifen.org.models import Department

    departments = Department.objects.order_by("code")
    if scope.department_id is not None:
        return list(departments.filter(pk=scope.department_id))
    return list(departments)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    day = month_start(day)
    return (day + dt.timedelta(days=32)).replace(day=1)


def months(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of every month from ``first``'s to ``last``'s, inclusive."""
    result, month = [], month_start(first)
    while month <= last:
        result.append(month)
        month = next_month(month)
    return result


def _label(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def _start(day: dt.date) -> dt.datetime:
    """The aware start of a China date."""
    return dt.datetime.combine(day, dt.time(), tzinfo=CHINA)


def china_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def mean(total: Decimal | int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(TWO_DECIMALS, rounding=ROUND_HALF_UP)


def median(counts: dict[int, int]) -> Decimal | None:
    """The median of values given as value → how many (the mean of the two middle values when
    the number is even)."""
    n = sum(counts.values())
    if not n:
        return None
    low, high = _nth(counts, (n + 1) // 2), _nth(counts, n // 2 + 1)
    return Decimal(low + high) / 2  # exact: a whole number or one ending in .5


def p90(counts: dict[int, int]) -> int | None:
    """The nearest-rank 90th percentile: the ⌈0.9·n⌉-th smallest value."""
    n = sum(counts.values())
    if not n:
        return None
    return _nth(counts, -(-9 * n // 10))


def _nth(counts: dict[int, int], rank: int) -> int:
    """The ``rank``-th smallest value (1-based)."""
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    raise ValueError(rank)


# --- population --------------------------------------------------------------------------


def _snapshot_day(day: dt.date | None = None) -> dt.date | None:
    """The latest score snapshot day (on or before ``day`` if given)."""
    from jifen.oversight.models import DailyScoreSummary

    rows = DailyScoreSummary.objects.all()
    if day is not None:
        rows = rows.filter(day__lte=day)
    return rows.aggregate(day=Max("day"))["day"]


def _score_rows(scope: Scope, day: dt.date | None, **filters: Any) -> Any:
    from jifen.oversight.models import DailyScoreSummary

    rows = DailyScoreSummary.objects.filter(day=day, **filters).order_by()
    if scope.town_id is not None:
        rows = rows.filter(town_id=scope.town_id)
    return rows


def population_by_town(viewer: Any) -> PopulationFigures:
    """Current scores per town by status, with the lapse reasons (last snapshot)."""
    scope = _require(viewer, Section.POPULATION)
    day = _snapshot_day()
    counts: dict[int, dict[str, Any]] = {}
    for row in (
        _score_rows(scope, day)
        .values("town_id", "status", "lapse_reason")
        .annotate(n=Sum("residents"))
    ):
        town = counts.setdefault(row["town_id"], {"reasons": {}})
        town[row["status"]] = town.get(row["status"], 0) + row["n"]
        if row["status"] == "lapsed":
            reason = row["lapse_reason"]
            town["reasons"][reason] = town["reasons"].get(reason, 0) + row["n"]
    rows = []
    for town in _towns(scope):
        c = counts.get(town.pk, {"reasons": {}})
        valid, lapsed, cleared = c.get("valid", 0), c.get("lapsed", 0), c.get("cleared", 0)
        rows.append(
            TownPopulation(
                town_code=town.code,
                town_name=town.name,
                residents=valid + lapsed + cleared,
                valid=valid,
                lapsed=lapsed,
                cleared=cleared,
                lapsed_reasons=dict(sorted(c["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    reasons: dict[str, int] = {}
    for row in rows:
        for reason, n in row.lapsed_reasons.items():
            reasons[reason] = reasons.get(reason, 0) + n
    total = TownPopulation(
        town_code="",
        town_name="",
        residents=sum(r.residents for r in rows),
        valid=sum(r.valid for r in rows),
        lapsed=sum(r.lapsed for r in rows),
        cleared=sum(r.cleared for r in rows),
        lapsed_reasons=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
    )
    return PopulationFigures(as_of=day, rows=rows, total=total)


def permits_by_month(viewer: Any, *, first: dt.date, last: dt.date) -> list[MonthPermits]:
    """New permits (by issue date and issuing town), lapses (changes to suspended or cancelled,
    by effective date) and restorations per month, ``first``'s month to ``last``'s."""
    from jifen.oversight.models import PermitMonthSummary

    scope = _require(viewer, Section.POPULATION)
    wanted = months(first, last)
    rows = PermitMonthSummary.objects.filter(month__gte=wanted[0] if wanted else first).filter(
        month__lte=last
    )
    if scope.town_id is not None:
        rows = rows.filter(town_id=scope.town_id)
    sums = {
        row["month"]: row
        for row in rows.order_by()
        .values("month")
        .annotate(new=Sum("new_permits"), lapses=Sum("lapses"), restored=Sum("restored"))
    }
    result = []
    for month in wanted:
        row = sums.get(month, {})
        result.append(
            MonthPermits(
                month=_label(month),
                new_permits=row.get("new") or 0,
                lapses=row.get("lapses") or 0,
                restored=row.get("restored") or 0,
            )
        )
    return result


# --- scores ------------------------------------------------------------------------------


def _histogram(scope: Scope, day: dt.date | None, bin_width: int) -> Histogram:
    if bin_width < 1:
        raise ValueError("bin_width must be a whole number of points ≥ 1")
    points: dict[int, int] = {}
    hundredths = 0
    for row in (
        _score_rows(scope, day, status="valid")
        .values("points")
        .annotate(n=Sum("residents"), h=Sum("total_hundredths"))
    ):
        points[row["points"]] = points.get(row["points"], 0) + row["n"]
        hundredths += row["h"] or 0
    count = sum(points.values())
    bins: list[Bin] = []
    if points:
        top = max(points) // bin_width
        low = min(0, min(points) // bin_width)
        per_bin: dict[int, int] = {}
        for value, n in points.items():
            per_bin[value // bin_width] = per_bin.get(value // bin_width, 0) + n
        bins = [
            Bin(lower=i * bin_width, upper=(i + 1) * bin_width, count=per_bin.get(i, 0))
            for i in range(low, top + 1)
        ]
    return Histogram(
        as_of=day,
        bin_width=bin_width,
        bins=bins,
        count=count,
        mean=mean(Decimal(hundredths) / 100, count),
        median=median(points),
    )


def score_histogram(viewer: Any, *, bin_width: int = 10, day: dt.date | None = None) -> Histogram:
    """The distribution of valid current totals (last snapshot on or before ``day``), in bins
    of ``bin_width`` whole points ``[lower, upper)``."""
    scope = _require(viewer, Section.SCORES)
    return _histogram(scope, _snapshot_day(day), bin_width)


def scores_by_item(viewer: Any) -> list[ItemFigure]:
    """Per score item: valid residents with points on it, their share of all valid scores and
    their mean points on the item (last snapshot), most common first."""
    from jifen.oversight.models import DailyItemSummary

    scope = _require(viewer, Section.SCORES)
    day = _snapshot_day()
    valid = _score_rows(scope, day, status="valid").aggregate(n=Sum("residents"))["n"] or 0
    rows = DailyItemSummary.objects.filter(day=day).order_by()
    if scope.town_id is not None:
        rows = rows.filter(town_id=scope.town_id)
    result = [
        ItemFigure(
            section=row["section"],
            item=row["item"],
            residents=row["n"],
            share_percent=percent(row["n"], valid),
            mean_points=mean(Decimal(row["h"]) / 100, row["n"]),
        )
        for row in rows.values("section", "item").annotate(
            n=Sum("residents"), h=Sum("points_hundredths")
        )
    ]
    result.sort(key=lambda f: (-f.residents, f.section, f.item))
    return result


def scores_by_town(viewer: Any) -> list[TownScores]:
    """Valid current totals per town: count, mean (exact), median and p90 (whole points)."""
    scope = _require(viewer, Section.SCORES)
    day = _snapshot_day()
    per_town: dict[int, dict[int, int]] = {}
    sums: dict[int, int] = {}
    for row in (
        _score_rows(scope, day, status="valid")
        .values("town_id", "points")
        .annotate(n=Sum("residents"), h=Sum("total_hundredths"))
    ):
        per_town.setdefault(row["town_id"], {})[row["points"]] = row["n"]
        sums[row["town_id"]] = sums.get(row["town_id"], 0) + (row["h"] or 0)
    result = []
    for town in _towns(scope):
        counts = per_town.get(town.pk, {})
        n = sum(counts.values())
        result.append(
            TownScores(
                town_code=town.code,
                town_name=town.name,
                residents=n,
                mean=mean(Decimal(sums.get(town.pk, 0)) / 100, n),
                median=median(counts),
                p90=p90(counts),
            )
        )
    return result


def score_movement(viewer: Any, *, month: dt.date, bin_width: int = 10) -> Movement:
    """How the distribution moved: the last snapshot in ``month`` against the last snapshot
    before ``month`` began (the end of the month before)."""
    scope = _require(viewer, Section.SCORES)
    end = next_month(month) - dt.timedelta(days=1)
    before = month_start(month) - dt.timedelta(days=1)
    current = _histogram(scope, _snapshot_day(end), bin_width)
    previous_day = _snapshot_day(before)
    previous = _histogram(scope, previous_day, bin_width)
    lowers = sorted({b.lower for b in current.bins} | {b.lower for b in previous.bins})
    now_counts = {b.lower: b.count for b in current.bins}
    then_counts = {b.lower: b.count for b in previous.bins}
    bins = [
        MovementBin(
            lower=lower,
            upper=lower + bin_width,
            previous=then_counts.get(lower, 0),
            current=now_counts.get(lower, 0),
            change=now_counts.get(lower, 0) - then_counts.get(lower, 0),
        )
        for lower in lowers
    ]

    def change(a: Decimal | None, b: Decimal | None) -> Decimal | None:
        return None if a is None or b is None else a - b

    return Movement(
        month=_label(month_start(month)),
        current=current,
        previous=previous,
        bins=bins,
        count_change=current.count - previous.count,
        mean_change=change(current.mean, previous.mean),
        median_change=change(current.median, previous.median),
    )


# --- feeds -------------------------------------------------------------------------------


def _cadences(departments: list[Any]) -> dict[int, tuple[int, int] | None]:
    """department pk → (every_days, grace_days), or None when no data is expected."""
    from jifen.feeds.formats import feeds_of_department
    from jifen.oversight.models import FeedSchedule

    schedules = {s.department_id: s for s in FeedSchedule.objects.all()}
    default = getattr(settings, "JIFEN_FEED_EXPECTED_EVERY_DAYS", DEFAULT_FEED_EVERY_DAYS)
    result: dict[int, tuple[int, int] | None] = {}
    for department in departments:
        schedule = schedules.get(department.pk)
        if schedule is not None:
            result[department.pk] = (
                (schedule.every_days, schedule.grace_days) if schedule.expected else None
            )
        elif department.active and feeds_of_department(department.code):
            result[department.pk] = (default, 0)
        else:
            result[department.pk] = None
    return result


def feeds_by_department(
    viewer: Any, *, now: dt.datetime, since: dt.datetime | None = None
) -> list[FeedDepartment]:
    """Per department with a feed or any batch: the last applied import, counts of batches
    received since ``since`` (all time if None) and their rows, the expected cadence and
    whether the data is late at ``now``."""
    from jifen.feeds.models import BatchStatus, FeedBatch

    scope = _require(viewer, Section.FEEDS)
    departments = _departments(scope)
    cadences = _cadences(departments)
    batches = FeedBatch.objects.order_by()
    period = Q() if since is None else Q(received_at__gte=since)
    stats = {
        row["department_id"]: row
        for row in batches.values("department_id").annotate(
            last_applied=Max("received_at", filter=Q(status=BatchStatus.APPLIED)),
            last_received=Max("received_at"),
            batches=Count("pk", filter=period),
            rows=Sum("rows", filter=period),
            accepted=Sum("accepted", filter=period),
            rejected=Sum("rejected", filter=period),
            refused=Count("pk", filter=period & Q(status=BatchStatus.REFUSED)),
        )
    }
    last_status = {
        (row["department_id"], row["received_at"]): row["status"]
        for row in batches.filter(
            received_at__in=[s["last_received"] for s in stats.values()]
        ).values("department_id", "received_at", "status")
    }
    result = []
    for department in departments:
        row = stats.get(department.pk)
        cadence = cadences[department.pk]
        if row is None and cadence is None:
            continue
        row = row or {}
        last = row.get("last_applied")
        due_by = late = None
        if cadence is not None:
            every, grace = cadence
            due_by = last + dt.timedelta(days=every + grace) if last else None
            late = due_by is None or due_by < now
        result.append(
            FeedDepartment(
                department_code=department.code,
                department_name=department.name,
                last_import_at=last,
                last_status=last_status.get((department.pk, row.get("last_received")), ""),
                batches=row.get("batches") or 0,
                rows=row.get("rows") or 0,
                accepted=row.get("accepted") or 0,
                rejected=row.get("rejected") or 0,
                refused_batches=row.get("refused") or 0,
                every_days=cadence[0] if cadence else None,
                due_by=due_by,
                late=bool(late),
            )
        )
    return result


def late_feeds(viewer: Any, *, now: dt.datetime) -> list[FeedDepartment]:
    """Departments whose data has not arrived on schedule at ``now``."""
    return [row for row in feeds_by_department(viewer, now=now) if row.late]


def feed_rows_by_month(viewer: Any, *, first: dt.date, last: dt.date) -> list[FeedMonth]:
    """Batches and rows accepted/rejected per department and month (China time of receipt),
    every month from ``first``'s to ``last``'s for each department with a batch in them."""
    from jifen.feeds.models import FeedBatch

    scope = _require(viewer, Section.FEEDS)
    wanted = months(first, last)
    if not wanted:
        return []
    rows = FeedBatch.objects.filter(
        received_at__gte=_start(wanted[0]), received_at__lt=_start(next_month(wanted[-1]))
    )
    if scope.department_id is not None:
        rows = rows.filter(department_id=scope.department_id)
    sums: dict[tuple[str, dt.date], list[int]] = {}
    for code, received, accepted, rejected in rows.values_list(
        "department__code", "received_at", "accepted", "rejected"
    ):
        entry = sums.setdefault((code, month_start(china_date(received))), [0, 0, 0])
        entry[0] += 1
        entry[1] += accepted
        entry[2] += rejected
    codes = sorted({code for code, _ in sums})
    return [
        FeedMonth(code, _label(month), *sums.get((code, month), [0, 0, 0]))
        for code in codes
        for month in wanted
    ]


def report_reasons(report: list[dict[str, Any]]) -> dict[str, int]:
    """Rejected rows of a batch report counted by reason (the stable error code, else the
    text)."""
    counts: dict[str, int] = {}
    for entry in report or []:
        if entry.get("outcome") != "rejected":
            continue
        reason = (entry.get("code") or entry.get("reason") or "unknown")[:200]
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def feed_rejection_reasons(viewer: Any, *, since: dt.date, until: dt.date) -> list[ReasonCount]:
    """Rejected rows by department and reason for batches received in ``[since, until)``,
    most frequent first (summaries, plus batches not summarised yet read live)."""
    from jifen.feeds.models import FeedBatch
    from jifen.oversight.models import FeedReasonSummary

    scope = _require(viewer, Section.FEEDS)
    period = {"received_at__gte": _start(since), "received_at__lt": _start(until)}
    batches = FeedBatch.objects.filter(rejected__gt=0, **period)
    if scope.department_id is not None:
        batches = batches.filter(department_id=scope.department_id)
    counts: dict[tuple[str, str], int] = {}
    summarised = FeedReasonSummary.objects.filter(batch__in=batches.values("pk")).order_by()
    for row in summarised.values("batch__department__code", "reason").annotate(n=Sum("rows")):
        key = (row["batch__department__code"], row["reason"])
        counts[key] = counts.get(key, 0) + row["n"]
    for code, report in batches.exclude(
        pk__in=FeedReasonSummary.objects.values("batch_id")
    ).values_list("department__code", "report"):
        for reason, n in report_reasons(report).items():
            counts[(code, reason)] = counts.get((code, reason), 0) + n
    result = [ReasonCount(code, reason, n) for (code, reason), n in counts.items()]
    result.sort(key=lambda r: (-r.rows, r.department_code, r.reason))
    return result


# --- reviews -----------------------------------------------------------------------------

OPEN_REVIEW_STATES = ("submitted", "accepted", "materials_requested")


def _tasks(scope: Scope) -> Any:
    from jifen.claims.models import ReviewTask

    tasks = ReviewTask.objects.order_by()
    if scope.department_id is not None:
        tasks = tasks.filter(department_id=scope.department_id)
    return tasks


def review_backlog(viewer: Any, *, today: dt.date) -> Backlog:
    """Open tasks (submitted, accepted, materials requested) and overdue ones (accepted,
    ``due_on`` before ``today``) by department and by the town of the claim's resident."""
    scope = _require(viewer, Section.REVIEWS)
    open_tasks = _tasks(scope).filter(state__in=OPEN_REVIEW_STATES)
    overdue = Q(state="accepted", due_on__lt=today)

    def rows(key: str, code: str, name: str) -> list[BacklogRow]:
        grouped: dict[Any, dict[str, Any]] = {}
        for row in open_tasks.values(key, code, name, "state").annotate(
            n=Count("pk"), late=Count("pk", filter=overdue)
        ):
            entry = grouped.setdefault(
                row[key], {"code": row[code], "name": row[name], "by": {}, "late": 0}
            )
            entry["by"][row["state"]] = row["n"]
            entry["late"] += row["late"]
        result = [
            BacklogRow(
                code=e["code"],
                name=e["name"],
                open=sum(e["by"].values()),
                overdue=e["late"],
                by_state={s: e["by"].get(s, 0) for s in OPEN_REVIEW_STATES},
            )
            for e in grouped.values()
        ]
        result.sort(key=lambda r: (-r.overdue, -r.open, r.code))
        return result

    by_department = rows("department_id", "department__code", "department__name")
    by_town = rows(
        "claim__resident__town_id", "claim__resident__town__code", "claim__resident__town__name"
    )
    total = BacklogRow(
        code="",
        name="",
        open=sum(r.open for r in by_department),
        overdue=sum(r.overdue for r in by_department),
        by_state={s: sum(r.by_state[s] for r in by_department) for s in OPEN_REVIEW_STATES},
    )
    return Backlog(today=today, by_department=by_department, by_town=by_town, total=total)


def decision_workdays(
    *,
    created_at: dt.datetime,
    accepted_at: dt.datetime | None,
    decided_at: dt.datetime,
    calendar: Any = None,
) -> int | None:
    """Working days from acceptance (else submission) to the decision, China dates; None
    where the calendar does not cover them. ``calendar``: the current calendar, if at hand."""
    from jifen.calendars.services import current_calendar
    from jifen.workdays.errors import CalendarError

    if calendar is None:
        calendar, _version = current_calendar()
    start = china_date(accepted_at or created_at)
    try:
        return calendar.workdays_between(start, china_date(decided_at))
    except CalendarError:
        return None


def review_times(viewer: Any, *, since: dt.date, until: dt.date) -> ReviewTimes:
    """For tasks decided in ``[since, until)``: per department and in total the number,
    median and p90 working days to decision, the number and share within 10 working days;
    and the extensions granted and materials notices issued in the period."""
    from jifen.claims.models import MaterialsNotice
    from jifen.oversight.models import ReviewSummary

    scope = _require(viewer, Section.REVIEWS)
    start, end = _start(since), _start(until)
    # department pk → workdays (None = not computable) → count
    spread: dict[int, dict[int | None, int]] = {}
    summaries = ReviewSummary.objects.filter(
        closed_on__gte=since, closed_on__lt=until, state__in=DECIDED_STATES
    ).order_by()
    if scope.department_id is not None:
        summaries = summaries.filter(department_id=scope.department_id)
    for row in summaries.values("department_id", "workdays").annotate(n=Count("pk")):
        counts = spread.setdefault(row["department_id"], {})
        counts[row["workdays"]] = counts.get(row["workdays"], 0) + row["n"]
    # the live delta: tasks decided since the last refresh (not summarised yet)
    live = (
        _tasks(scope)
        .filter(state__in=DECIDED_STATES, decided_at__gte=start, decided_at__lt=end)
        .exclude(pk__in=ReviewSummary.objects.values("task_id"))
    )
    calendar = None
    for department_id, created, accepted, decided in live.values_list(
        "department_id", "created_at", "accepted_at", "decided_at"
    ):
        if calendar is None:
            from jifen.calendars.services import current_calendar

            calendar, _version = current_calendar()
        days = decision_workdays(
            created_at=created, accepted_at=accepted, decided_at=decided, calendar=calendar
        )
        counts = spread.setdefault(department_id, {})
        counts[days] = counts.get(days, 0) + 1
    extensions = dict(
        _tasks(scope)
        .filter(extended=True, extended_at__gte=start, extended_at__lt=end)
        .values_list("department_id")
        .annotate(n=Count("pk"))
    )
    notices = MaterialsNotice.objects.filter(issued_at__gte=start, issued_at__lt=end)
    if scope.department_id is not None:
        notices = notices.filter(task__department_id=scope.department_id)
    notices_by = dict(notices.order_by().values_list("task__department_id").annotate(n=Count("pk")))

    def row(code: str, name: str, counts: dict[int | None, int], ext: int, mat: int):
        known = {k: v for k, v in counts.items() if k is not None}
        decided = sum(counts.values())
        within = sum(v for k, v in known.items() if k <= DECISION_WORKDAYS)
        return ReviewTimesRow(
            code=code,
            name=name,
            decided=decided,
            median_workdays=median(known),
            p90_workdays=p90(known),
            within_10=within,
            within_10_percent=percent(within, sum(known.values())),
            not_computable=counts.get(None, 0),
            extensions=ext,
            materials_notices=mat,
        )

    rows = []
    everything: dict[int | None, int] = {}
    for department in _departments(scope):
        counts = spread.get(department.pk, {})
        ext, mat = extensions.get(department.pk, 0), notices_by.get(department.pk, 0)
        if not counts and not ext and not mat:
            continue
        for k, v in counts.items():
            everything[k] = everything.get(k, 0) + v
        rows.append(row(department.code, department.name, counts, ext, mat))
    total = row(
        "",
        "",
        everything,
        sum(r.extensions for r in rows),
        sum(r.materials_notices for r in rows),
    )
    return ReviewTimes(since=since, until=until, rows=rows, total=total)


# --- re-examinations ---------------------------------------------------------------------


def reexamination_figures(viewer: Any, *, since: dt.date, until: dt.date) -> ReexaminationFigures:
    """Per department: re-examinations filed in ``[since, until)``, upheld / dismissed /
    withdrawn in it, and of those answered (upheld or dismissed) how many on or before their
    due date (7 working days after filing)."""
    from jifen.reexaminations.models import Reexamination

    scope = _require(viewer, Section.REEXAMINATIONS)
    start, end = _start(since), _start(until)
    items = Reexamination.objects.order_by()
    if scope.department_id is not None:
        items = items.filter(department_id=scope.department_id)
    counts: dict[int, dict[str, int]] = {}

    def add(department_id: int, key: str, n: int = 1) -> None:
        entry = counts.setdefault(department_id, {})
        entry[key] = entry.get(key, 0) + n

    for row in (
        items.filter(filed_at__gte=start, filed_at__lt=end)
        .values("department_id")
        .annotate(n=Count("pk"))
    ):
        add(row["department_id"], "filed", row["n"])
    for row in (
        items.filter(withdrawn_at__gte=start, withdrawn_at__lt=end, state="withdrawn")
        .values("department_id")
        .annotate(n=Count("pk"))
    ):
        add(row["department_id"], "withdrawn", row["n"])
    for department_id, state, decided, due in items.filter(
        decided_at__gte=start, decided_at__lt=end, state__in=("upheld", "dismissed")
    ).values_list("department_id", "state", "decided_at", "due_on"):
        add(department_id, state)
        if china_date(decided) <= due:
            add(department_id, "within")

    def row(code: str, name: str, c: dict[str, int]) -> ReexaminationRow:
        answered = c.get("upheld", 0) + c.get("dismissed", 0)
        return ReexaminationRow(
            code=code,
            name=name,
            filed=c.get("filed", 0),
            upheld=c.get("upheld", 0),
            dismissed=c.get("dismissed", 0),
            withdrawn=c.get("withdrawn", 0),
            answered=answered,
            answered_within_7=c.get("within", 0),
            within_7_percent=percent(c.get("within", 0), answered),
        )

    rows = [row(d.code, d.name, counts[d.pk]) for d in _departments(scope) if d.pk in counts]
    total: dict[str, int] = {}
    for c in counts.values():
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    return ReexaminationFigures(since=since, until=until, rows=rows, total=row("", "", total))


# --- scenarios ---------------------------------------------------------------------------


def scenario_figures(viewer: Any) -> list[ScenarioFigure]:
    """Per scenario (its latest ranking that is not superseded, else its latest published
    version): applicants (enrollments not withdrawn), eligible, admitted, the cut-off, the
    places and admitted per quota, and the outcomes recorded."""
    from jifen.rankings.models import Ranking, RankingEntry
    from jifen.scenarios.models import Enrollment, Quota, Scenario, ScenarioVersion

    _require(viewer, Section.SCENARIOS)
    enrollments = {
        row["scenario_id"]: row
        for row in Enrollment.objects.order_by()
        .values("scenario_id")
        .annotate(
            applicants=Count("pk", filter=~Q(status="withdrawn")),
            eligible=Count("pk", filter=Q(status="eligible")),
        )
    }
    rankings: dict[int, Any] = {}
    for ranking in (
        Ranking.objects.exclude(state="superseded")
        .select_related("version")
        .order_by("frozen_at", "pk")
    ):
        rankings[ranking.version.scenario_id] = ranking  # the latest wins
    versions: dict[int, Any] = {}
    for version in ScenarioVersion.objects.exclude(published_at=None).order_by("number"):
        versions[version.scenario_id] = version
    result = []
    for scenario in Scenario.objects.order_by("code"):
        ranking = rankings.get(scenario.pk)
        version = ranking.version if ranking else versions.get(scenario.pk)
        if version is None:
            continue
        counts = enrollments.get(scenario.pk, {})
        places: list[QuotaFigure] = []
        outcomes: dict[str, int] = {}
        admitted = 0
        if ranking is not None:
            entries = RankingEntry.objects.filter(ranking=ranking).order_by()
            per_quota = dict(
                entries.exclude(quota_key="")
                .exclude(outcome="cancelled")
                .values_list("quota_key")
                .annotate(n=Count("pk"))
            )
            admitted = sum(per_quota.values())
            outcomes = dict(
                entries.exclude(outcome="").values_list("outcome").annotate(n=Count("pk"))
            )
        else:
            per_quota = {}
        for quota in Quota.objects.filter(version=version).select_related("town"):
            places.append(
                QuotaFigure(
                    key=quota.key,
                    label=quota.label,
                    town_code=quota.town.code if quota.town_id else "",
                    places=quota.places,
                    admitted=per_quota.get(quota.key, 0),
                )
            )
        result.append(
            ScenarioFigure(
                code=scenario.code,
                name=scenario.name,
                version=version.number,
                applicants=counts.get("applicants", 0),
                eligible=counts.get("eligible", 0),
                ranking_state=ranking.state if ranking else "",
                admitted=admitted,
                cutoff_points=ranking.cutoff_points if ranking else None,
                cutoff_tiebreak=ranking.cutoff_tiebreak if ranking else None,
                places=places,
                outcomes=dict(sorted(outcomes.items())),
            )
        )
    return result


# --- one month, every visible section ----------------------------------------------------


def monthly_figures(viewer: Any, *, month: dt.date) -> dict[str, Any]:
    """Every figure the viewer may see for ``month`` (the monthly report's content): a dict
    of section name → dict of figure name → result. Trends cover the 12 months to ``month``."""
    scope = scope_for(viewer)
    if not scope.sections:
        raise NotPermitted("oversight")
    first = month_start(month)
    until = next_month(first)
    year_ago = month_start(first - dt.timedelta(days=335))
    end = _start(until)
    last_day = until - dt.timedelta(days=1)
    figures: dict[str, Any] = {"month": _label(first)}
    if scope.allows(Section.POPULATION):
        figures[Section.POPULATION] = {
            "by_town": population_by_town(viewer),
            "permits_by_month": permits_by_month(viewer, first=year_ago, last=first),
        }
    if scope.allows(Section.SCORES):
        figures[Section.SCORES] = {
            "histogram": score_histogram(viewer, day=last_day),
            "by_item": scores_by_item(viewer),
            "by_town": scores_by_town(viewer),
            "movement": score_movement(viewer, month=first),
        }
    if scope.allows(Section.FEEDS):
        figures[Section.FEEDS] = {
            "by_department": feeds_by_department(viewer, now=end, since=_start(first)),
            "late": late_feeds(viewer, now=end),
            "rows_by_month": feed_rows_by_month(viewer, first=year_ago, last=first),
            "rejection_reasons": feed_rejection_reasons(viewer, since=first, until=until),
        }
    if scope.allows(Section.REVIEWS):
        figures[Section.REVIEWS] = {
            "backlog": review_backlog(viewer, today=min(last_day, dt.datetime.now(CHINA).date())),
            "times": review_times(viewer, since=first, until=until),
        }
    if scope.allows(Section.REEXAMINATIONS):
        figures[Section.REEXAMINATIONS] = reexamination_figures(viewer, since=first, until=until)
    if scope.allows(Section.SCENARIOS):
        figures[Section.SCENARIOS] = scenario_figures(viewer)
    return figures
