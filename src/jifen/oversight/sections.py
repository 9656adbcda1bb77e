"""The oversight sections as the pages and the monthly report show them: key figures and
charts, built from :mod:`jifen.oversight.figures` (the one query layer — nothing here counts,
sums or averages anything; it only picks figures and labels them).

:func:`panel` gives one :class:`Panel` for a section, a viewer and a month; the pages render
its charts as SVG (:mod:`jifen.oversight.charts`) with the numbers table next to each, the
chart export writes one chart to Excel, and the monthly report prints every panel. Labels are
translatable msgids: the pages show them in the request's language, the report builds them
under ``translation.override("zh-hans")``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from jifen.oversight import figures
from jifen.oversight.charts import Chart, chart, fmt
from jifen.oversight.figures import Section

#: Sections in page order.
SECTIONS: tuple[str, ...] = tuple(s.value for s in Section)
#: Months of history in the line charts.
HISTORY_MONTHS = 12


def section_title(section: str) -> str:
    return {
        Section.POPULATION: _("Population"),
        Section.SCORES: _("Scores"),
        Section.FEEDS: _("Department feeds"),
        Section.REVIEWS: _("Reviews"),
        Section.REEXAMINATIONS: _("Re-examinations"),
        Section.SCENARIOS: _("Application scenarios"),
    }[Section(section)]


@dataclass
class Table:
    """A plain table that is not a chart (the feeds' status), shown under the charts."""

    key: str
    title: str
    header: list[str]
    rows: list[list[str]]
    #: Row indexes to highlight (late feeds).
    marked: set[int] = field(default_factory=set)


@dataclass
class Panel:
    section: str
    title: str
    #: Key figures: (label, value as printed).
    lines: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def chart(self, key: str) -> Chart | None:
        return next((c for c in self.charts if c.key == key), None)


@dataclass(frozen=True)
class Period:
    """The month chosen on the page (or reported): ``[since, until)`` and the history."""

    month: dt.date  # first day
    today: dt.date
    now: dt.datetime
    #: The score snapshot's day (None: the latest snapshot).
    snapshot_day: dt.date | None = None

    @property
    def since(self) -> dt.date:
        return self.month

    @property
    def until(self) -> dt.date:
        return add_months(self.month, 1)

    @property
    def first(self) -> dt.date:
        return add_months(self.month, -(HISTORY_MONTHS - 1))

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def pct(value: Any) -> str:
    return "—" if value is None else f"{fmt(value)}%"


def panel(section: str, viewer: Any, period: Period) -> Panel:
    """The key figures and charts of ``section`` for ``viewer`` in ``period``."""
    builder = {
        Section.POPULATION: _population,
        Section.SCORES: _scores,
        Section.FEEDS: _feeds,
        Section.REVIEWS: _reviews,
        Section.REEXAMINATIONS: _reexaminations,
        Section.SCENARIOS: _scenarios,
    }[Section(section)]
    result = Panel(section=section, title=section_title(section))
    builder(result, viewer, period)
    return result


@dataclass(frozen=True)
class SliceViewer:
    """A department's or a town's slice as that unit's own staff see it (a reviewer of the
    department, a clerk of the town), for the center and the bureau to look at: the figures
    are scoped by :func:`jifen.oversight.figures.scope_for` exactly as for those staff."""

    role: str
    department: Any = None
    town: Any = None
    is_authenticated: bool = True
    is_active: bool = True
    pk: None = None

    @property
    def department_id(self) -> int | None:
        return getattr(self.department, "pk", None)

    @property
    def town_id(self) -> int | None:
        return getattr(self.town, "pk", None)

    @classmethod
    def of_department(cls, department: Any) -> SliceViewer:
        return cls(role="reviewer", department=department)

    @classmethod
    def of_town(cls, town: Any) -> SliceViewer:
        return cls(role="clerk", town=town)


def visible_sections(viewer: Any) -> list[str]:
    scope = figures.scope_for(viewer)
    return [s for s in SECTIONS if scope.allows(s)]


# --- population ------------------------------------------------------------------------------


def _population(p: Panel, viewer: Any, period: Period) -> None:
    pop = figures.population_by_town(viewer)
    total = pop.total
    as_of = pop.as_of.isoformat() if pop.as_of else "—"
    p.lines += [
        (_("Residents with a score"), fmt(total.residents)),
        (_("Valid scores"), fmt(total.valid)),
        (_("Lapsed scores"), fmt(total.lapsed)),
        (_("Cleared scores"), fmt(total.cleared)),
        (_("As of"), as_of),
    ]
    p.charts.append(
        chart(
            "population-by-town",
            _("Residents with a score by town"),
            "hbar",
            [(r.town_name, (r.valid, r.lapsed, r.cleared)) for r in pop.rows],
            series=(_("valid"), _("lapsed"), _("cleared")),
            category_label=_("Town"),
            unit=_("residents"),
            description=_("Valid, lapsed and cleared scores per town, as of %(day)s.")
            % {"day": as_of},
        )
    )
    reasons = sorted(total.lapsed_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    p.charts.append(
        chart(
            "lapse-reasons",
            _("Why scores lapsed"),
            "hbar",
            [(_(reason) if reason else _("no reason recorded"), n) for reason, n in reasons],
            series=(_("lapsed scores"),),
            category_label=_("Reason"),
            unit=_("residents"),
            description=_("Lapsed scores by the reason of the lapse."),
        )
    )
    months = figures.permits_by_month(viewer, first=period.first, last=period.month)
    p.charts.append(
        chart(
            "permits-by-month",
            _("New permits and lapses per month"),
            "line",
            [(m.month, (m.new_permits, m.lapses, m.restored)) for m in months],
            series=(_("new permits"), _("lapses"), _("restored")),
            category_label=_("Month"),
            unit=_("permits"),
            description=_("Residence permits issued, lapsed and restored per month."),
        )
    )


# --- scores ----------------------------------------------------------------------------------


def _bin_label(lower: int, upper: int) -> str:
    return f"{lower}–{upper}"


def _item_label(section: str, item: str, day: dt.date) -> str:
    from jifen.rankings.exports import item_labels

    code = f"{section}.{item}"
    try:
        label = item_labels(day).get(code)
    except Exception:  # no policy in force that day: show the code
        label = None
    return label or code


def _scores(p: Panel, viewer: Any, period: Period) -> None:
    histogram = figures.score_histogram(viewer, day=period.snapshot_day)
    as_of = histogram.as_of.isoformat() if histogram.as_of else "—"
    p.lines += [
        (_("Valid scores"), fmt(histogram.count)),
        (_("Mean total"), fmt(histogram.mean)),
        (_("Median total"), fmt(histogram.median)),
        (_("As of"), as_of),
    ]
    p.charts.append(
        chart(
            "score-histogram",
            _("Distribution of score totals"),
            "histogram",
            [(_bin_label(b.lower, b.upper), b.count) for b in histogram.bins],
            series=(_("residents"),),
            category_label=_("Points"),
            unit=_("residents"),
            description=_("Valid scores by total points, in bins of %(width)s points.")
            % {"width": histogram.bin_width},
        )
    )
    items = figures.scores_by_item(viewer)
    label_day = histogram.as_of or period.today
    p.charts.append(
        chart(
            "scores-by-item",
            _("Residents scoring on each item"),
            "hbar",
            [(_item_label(i.section, i.item, label_day), i.residents) for i in items],
            series=(_("residents"),),
            category_label=_("Item"),
            unit=_("residents"),
            description=_("Valid scores with points on the item."),
        )
    )
    towns = figures.scores_by_town(viewer)
    p.charts.append(
        chart(
            "scores-by-town",
            _("Score totals by town"),
            "hbar",
            [(t.town_name, (t.mean, t.median, t.p90)) for t in towns],
            series=(_("mean"), _("median"), _("90th percentile")),
            category_label=_("Town"),
            unit=_("points"),
            description=_("Mean, median and 90th percentile of the valid totals per town."),
        )
    )
    movement = figures.score_movement(viewer, month=period.month)
    p.lines += [
        (_("Change in valid scores since last month"), _signed(movement.count_change)),
        (_("Change in the mean total"), _signed(movement.mean_change)),
        (_("Change in the median total"), _signed(movement.median_change)),
    ]
    p.charts.append(
        chart(
            "score-movement",
            _("How the distribution moved since last month"),
            "bar",
            [(_bin_label(b.lower, b.upper), (b.previous, b.current)) for b in movement.bins],
            series=(_("end of last month"), _("end of %(month)s") % {"month": movement.month}),
            category_label=_("Points"),
            unit=_("residents"),
            description=_("Valid scores per bin at the end of %(month)s and the month before.")
            % {"month": movement.month},
        )
    )


def _signed(value: Any) -> str:
    if value is None:
        return "—"
    text = fmt(value)
    return text if text.startswith("-") or text == "0" else f"+{text}"


# --- feeds -----------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    from jifen.accounts.clock import CHINA

    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _feeds(p: Panel, viewer: Any, period: Period) -> None:
    departments = figures.feeds_by_department(viewer, now=period.now)
    names = {d.department_code: d.department_name for d in departments}
    late = [d for d in departments if d.late]
    p.lines += [
        (_("Departments with a feed"), fmt(len(departments))),
        (_("Departments whose data is late"), fmt(len(late))),
    ]
    if late:
        p.notes.append(
            _("Data not arrived on schedule: %(names)s.")
            % {"names": "、".join(d.department_name for d in late)}
        )
    p.tables.append(
        Table(
            key="feed-status",
            title=_("Feeds by department"),
            header=[
                _("Department"),
                _("Last import"),
                _("Last batch"),
                _("Expected every (days)"),
                _("Next data due by"),
                _("On schedule"),
            ],
            rows=[
                [
                    d.department_name,
                    _when(d.last_import_at),
                    d.last_status or "—",
                    "—" if d.every_days is None else str(d.every_days),
                    _when(d.due_by),
                    _("late") if d.late else _("yes"),
                ]
                for d in departments
            ],
            marked={i for i, d in enumerate(departments) if d.late},
        )
    )
    p.charts.append(
        chart(
            "feed-rows-by-department",
            _("Rows accepted and rejected by department"),
            "hbar",
            [(d.department_name, (d.accepted, d.rejected)) for d in departments],
            series=(_("accepted"), _("rejected")),
            category_label=_("Department"),
            unit=_("rows"),
            description=_("Feed rows accepted and rejected per department, all imports."),
        )
    )
    months = figures.feed_rows_by_month(viewer, first=period.first, last=period.month)
    totals = [m for m in months if m.department_code == ""]
    if totals:
        rows = [(m.month, (m.accepted, m.rejected)) for m in totals]
        series: tuple[str, ...] = (_("accepted"), _("rejected"))
    else:  # one series per department (accepted rows)
        codes = sorted({m.department_code for m in months})
        by = {(m.department_code, m.month): m.accepted for m in months}
        month_keys = sorted({m.month for m in months})
        rows = [(mk, tuple(by.get((c, mk), 0) for c in codes)) for mk in month_keys]
        series = tuple(names.get(c, c) for c in codes) or (_("accepted"),)
        if not codes:
            rows = []
    p.charts.append(
        chart(
            "feed-rows-by-month",
            _("Rows accepted and rejected per month"),
            "line",
            rows,
            series=series,
            category_label=_("Month"),
            unit=_("rows"),
            description=_("Feed rows per month."),
        )
    )
    reasons = figures.feed_rejection_reasons(viewer, since=period.first, until=period.until)
    p.charts.append(
        chart(
            "feed-rejection-reasons",
            _("Why rows were rejected"),
            "hbar",
            [
                (f"{names.get(r.department_code, r.department_code)}：{r.reason}", r.rows)
                for r in reasons
            ],
            series=(_("rejected rows"),),
            category_label=_("Department and reason"),
            unit=_("rows"),
            description=_("Rejected feed rows by department and reason, %(first)s to %(last)s.")
            % {"first": f"{period.first:%Y-%m}", "last": period.label},
        )
    )


# --- reviews ---------------------------------------------------------------------------------


def _reviews(p: Panel, viewer: Any, period: Period) -> None:
    backlog = figures.review_backlog(viewer, today=period.today)
    times = figures.review_times(viewer, since=period.since, until=period.until)
    t = times.total
    p.lines += [
        (_("Open review tasks"), fmt(backlog.total.open)),
        (_("Overdue review tasks"), fmt(backlog.total.overdue)),
        (_("Decided in %(month)s") % {"month": period.label}, fmt(t.decided)),
        (_("Median time to decision (working days)"), fmt(t.median_workdays)),
        (_("90th percentile time to decision (working days)"), fmt(t.p90_workdays)),
        (_("Decided within 10 working days"), pct(t.within_10_percent)),
        (_("Extensions used"), fmt(t.extensions)),
        (_("Materials notices sent"), fmt(t.materials_notices)),
    ]
    if t.not_computable:
        p.notes.append(
            _("%(n)s decisions are left out of the times: the calendar does not cover their dates.")
            % {"n": t.not_computable}
        )
    p.charts.append(
        chart(
            "backlog-by-department",
            _("Open and overdue tasks by department"),
            "hbar",
            [(r.name, (r.open, r.overdue)) for r in backlog.by_department],
            series=(_("open"), _("overdue")),
            category_label=_("Department"),
            unit=_("tasks"),
            description=_("Open and overdue review tasks per department on %(day)s.")
            % {"day": backlog.today.isoformat()},
        )
    )
    p.charts.append(
        chart(
            "backlog-by-town",
            _("Open and overdue tasks by town"),
            "hbar",
            [(r.name, (r.open, r.overdue)) for r in backlog.by_town],
            series=(_("open"), _("overdue")),
            category_label=_("Town"),
            unit=_("tasks"),
            description=_("Open and overdue review tasks by the applicant's town."),
        )
    )
    p.charts.append(
        chart(
            "review-times",
            _("Time to decision by department (working days)"),
            "hbar",
            [(r.name, (r.median_workdays, r.p90_workdays)) for r in times.rows],
            series=(_("median"), _("90th percentile")),
            category_label=_("Department"),
            unit=_("working days"),
            description=_("Working days from acceptance to decision, decisions in %(month)s.")
            % {"month": period.label},
        )
    )
    p.charts.append(
        chart(
            "review-within-10",
            _("Share decided within 10 working days"),
            "hbar",
            [(r.name, r.within_10_percent) for r in times.rows],
            series=(_("decided within 10 working days"),),
            category_label=_("Department"),
            unit="%",
            description=_("Share of the decisions in %(month)s taken within 10 working days.")
            % {"month": period.label},
        )
    )
    p.charts.append(
        chart(
            "review-steps",
            _("Decisions, extensions and materials notices by department"),
            "hbar",
            [(r.name, (r.decided, r.extensions, r.materials_notices)) for r in times.rows],
            series=(_("decided"), _("extensions"), _("materials notices")),
            category_label=_("Department"),
            unit=_("tasks"),
            description=_("In %(month)s.") % {"month": period.label},
        )
    )


def _reexaminations(p: Panel, viewer: Any, period: Period) -> None:
    figs = figures.reexamination_figures(viewer, since=period.since, until=period.until)
    t = figs.total
    p.lines += [
        (_("Re-examinations filed"), fmt(t.filed)),
        (_("Upheld"), fmt(t.upheld)),
        (_("Dismissed"), fmt(t.dismissed)),
        (_("Answered"), fmt(t.answered)),
        (
            _("Answered within 7 working days"),
            f"{fmt(t.answered_within_7)}（{pct(t.within_7_percent)}）",
        ),
    ]
    p.charts.append(
        chart(
            "reexaminations",
            _("Re-examinations by department"),
            "hbar",
            [(r.name, (r.filed, r.upheld, r.answered, r.answered_within_7)) for r in figs.rows],
            series=(_("filed"), _("upheld"), _("answered"), _("answered within 7 working days")),
            category_label=_("Department"),
            unit=_("re-examinations"),
            description=_("Filed and answered in %(month)s.") % {"month": period.label},
        )
    )


# --- scenarios -------------------------------------------------------------------------------


def _tiebreak(value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, dict):
        return "；".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "；".join(map(str, value))
    return str(value)


def _scenarios(p: Panel, viewer: Any, period: Period) -> None:
    scenarios = figures.scenario_figures(viewer)
    p.charts.append(
        chart(
            "scenario-applicants",
            _("Applicants, eligible and admitted per scenario"),
            "hbar",
            [(s.name, (s.applicants, s.eligible, s.admitted)) for s in scenarios],
            series=(_("applicants"), _("eligible"), _("admitted")),
            category_label=_("Scenario"),
            unit=_("applicants"),
            description=_("Enrollments per application scenario."),
        )
    )
    p.tables.append(
        Table(
            key="scenario-cutoffs",
            title=_("Cut-off and outcomes"),
            header=[
                _("Scenario"),
                _("Version"),
                _("Ranking"),
                _("Cut-off points"),
                _("Tie-break at the cut-off"),
                _("Outcomes recorded"),
            ],
            rows=[
                [
                    s.name,
                    str(s.version),
                    s.ranking_state or "—",
                    fmt(s.cutoff_points),
                    _tiebreak(s.cutoff_tiebreak),
                    "；".join(f"{k} {v}" for k, v in sorted(s.outcomes.items())) or "—",
                ]
                for s in scenarios
            ],
        )
    )
    for s in scenarios:
        p.lines.append((s.name, _("cut-off %(points)s") % {"points": fmt(s.cutoff_points)}))
        if s.places:
            p.charts.append(
                chart(
                    f"scenario-places-{_slug(s.code)}",
                    _("Places and admitted: %(name)s") % {"name": s.name},
                    "hbar",
                    [(q.label or q.key, (q.places, q.admitted)) for q in s.places],
                    series=(_("places"), _("admitted")),
                    category_label=_("Quota"),
                    unit=_("places"),
                    description=_("Places per town or school and those admitted."),
                )
            )


def _slug(code: str) -> str:
    import re

    return re.sub(r"[^a-z0-9_-]+", "-", code.lower()).strip("-") or "x"
