"""Scoring a :class:`Population`: the engine's rules, one numpy operation per rule and block.

The semantics mirror :mod:`jifen.engine.evaluate` step by step (rule points → rule cap →
item cap → tier cap; facts dated after the reference date or before the window never count;
``level`` rules count their highest fact, ``flag`` rules count once, ``each`` rules count
every fact, ``per_unit`` rules count whole units of the summed quantity; deductions count the
highest per act and accumulate across acts; the total is never below zero). Matrices are laid
out rule-major (one contiguous row per rule) so every per-rule step reads contiguous memory.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from jifen.engine.dates import years_before
from jifen.engine.policy import Policy, PolicySelection, Rule
from jifen.engine.profile import Profile
from jifen.scores.bulk.check import check_population
from jifen.scores.bulk.population import NO_DATE, NONE, Population, days, hundredths, money

#: Window start of a rule without a window: every date is on or after it.
_OPEN = NO_DATE + 1
#: Residents per block: big enough to amortise numpy's per-call cost, small enough for cache.
DEFAULT_BLOCK = 16_384


@dataclass(frozen=True, eq=False)
class BulkResult:
    """Totals and item subtotals per resident, in hundredths (``int64``).

    ``provincial_item_points[row, i]`` is the points of ``provincial_items[i]``.
    """

    provincial_items: tuple[str, ...]
    city_items: tuple[str, ...]
    provincial_item_points: np.ndarray
    city_item_points: np.ndarray
    provincial_total: np.ndarray
    city_bonus_total: np.ndarray
    deductions_total: np.ndarray
    total: np.ndarray

    def summary(self, row: int) -> dict[str, Any]:
        """One resident's amounts, in the shape of :func:`engine_summary`."""
        return {
            "provincial": {
                "total": money(self.provincial_total[row]),
                "items": {
                    code: money(self.provincial_item_points[row, i])
                    for i, code in enumerate(self.provincial_items)
                },
            },
            "city": {
                "bonus_total": money(self.city_bonus_total[row]),
                "items": {
                    code: money(self.city_item_points[row, i])
                    for i, code in enumerate(self.city_items)
                },
            },
            "deductions": {"total": money(self.deductions_total[row])},
            "total": money(self.total[row]),
        }


def engine_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The amounts of an engine result (``ScoreResult.as_dict()``) that the bulk path gives."""
    return {
        "provincial": {
            "total": result["provincial"]["total"],
            "items": dict(result["provincial"]["items"]),
        },
        "city": {
            "bonus_total": result["city"]["bonus_total"],
            "items": dict(result["city"]["items"]),
        },
        "deductions": {"total": result["deductions"]["total"]},
        "total": result["total"],
    }


def _h(value: Decimal) -> int:
    return hundredths(value, "policy")


def full_months(start: np.ndarray, on: dt.date) -> np.ndarray:
    """:func:`jifen.engine.dates.full_months` over an array of days (no :data:`NO_DATE`)."""
    day = start.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64) + 1
    months = (on.year - 1970) * 12 + on.month - 1 - month.astype(np.int64)
    # The month is complete on day min(start's day, last day of on's month) of on's month.
    months -= np.minimum(day_of_month, calendar.monthrange(on.year, on.month)[1]) > on.day
    return np.where(start > days(on), 0, months)


class _Plan:
    """A policy selection compiled for one evaluation date, review date and population."""

    def __init__(
        self, selection: PolicySelection, on: dt.date, review: dt.date, pop: Population
    ) -> None:
        self.selection = selection
        self.on = on
        self.on_days = days(on)
        self.review_days = days(review)
        city = selection.city
        n_levels = len(pop.levels)

        # City rules scored from facts: one row each in the fact matrices.
        self.fact_rules: list[Rule] = [r for r in city.rules.values() if r.field is None]
        self.fact_row = {rule.ref: i for i, rule in enumerate(self.fact_rules)}
        self.rule_row = np.array([self.fact_row.get(c, NONE) for c in pop.rules], np.int64)
        self.window = np.array(
            [
                days(years_before(on, r.window_years)) if r.window_years is not None else _OPEN
                for r in self.fact_rules
            ],
            np.int64,
        )
        # What one eligible fact adds, by (rule row, level; last column: no level): the level's
        # or the rule's points for each/level rules, 1 for flags (a count), 0 for per_unit
        # rules (their quantity is added instead).
        self.value = np.zeros((len(self.fact_rules), n_levels + 1), np.int64)
        for i, rule in enumerate(self.fact_rules):
            if rule.kind == "flag":
                self.value[i, :] = 1
            elif rule.levels is not None:
                for j, level in enumerate(pop.levels):
                    if level in rule.levels:
                        self.value[i, j] = _h(rule.levels[level])
            elif rule.kind == "each":
                assert rule.points is not None
                self.value[i, :] = _h(rule.points)
        self.is_max = np.array([r.kind == "level" for r in self.fact_rules], bool)
        self.any_max = bool(self.is_max.any())

        deductions = list(city.deductions_by_code.values())
        codes = list(city.deductions_by_code)
        self.deduction_row = np.array(
            [codes.index(c) if c in codes else NONE for c in pop.deduction_codes], np.int64
        )
        self.deduction_points = np.array([_h(d.points) for d in deductions], np.int64)
        self.deduction_listed = np.array([d.while_listed for d in deductions], bool)
        self.deduction_window = np.array(
            [
                days(years_before(review, d.window_years)) if d.window_years is not None else _OPEN
                for d in deductions
            ],
            np.int64,
        )

        # Points of the code fields (education, skills) per level rule, by code index
        # (last entry: no code).
        self.code_points: dict[tuple[str, str], np.ndarray] = {}
        for policy in (selection.provincial, selection.city):
            for rule in policy.rules.values():
                if rule.field is not None and rule.levels is not None:
                    table = np.zeros(len(pop.codes) + 1, np.int64)
                    for j, code in enumerate(pop.codes):
                        if code in rule.levels:
                            table[j] = _h(rule.levels[code])
                    self.code_points[(policy.id, rule.ref)] = table


def evaluate_bulk(
    population: Population,
    evaluation_date: dt.date,
    review_date: dt.date | None,
    policies: Any,
    *,
    block: int = DEFAULT_BLOCK,
) -> BulkResult:
    """Totals and subtotals of every resident of ``population``.

    ``policies`` is a ``PolicySet`` (the versions in force on the evaluation date are used)
    or a ``PolicySelection``, as for :func:`jifen.engine.evaluate`; ``review_date`` defaults
    to the evaluation date. Raises ``ProfileError`` naming ``profiles[row].<field>`` for
    anything the engine refuses. Residents are scored in blocks of ``block`` rows.
    """
    review = review_date or evaluation_date
    selection = (
        policies if isinstance(policies, PolicySelection) else policies.select(evaluation_date)
    )
    check_population(population, selection)
    plan = _Plan(selection, evaluation_date, review, population)
    n = population.size
    provincial = [item.code for item in selection.provincial.items]
    city = [item.code for item in selection.city.items]
    # Item matrices are item-major internally; the result exposes (resident, item) views.
    provincial_items = np.zeros((len(provincial), n), np.int64)
    city_items = np.zeros((len(city), n), np.int64)
    out = BulkResult(
        provincial_items=tuple(provincial),
        city_items=tuple(city),
        provincial_item_points=provincial_items.T,
        city_item_points=city_items.T,
        provincial_total=np.zeros(n, np.int64),
        city_bonus_total=np.zeros(n, np.int64),
        deductions_total=np.zeros(n, np.int64),
        total=np.zeros(n, np.int64),
    )
    step = max(block, 1)
    for start in range(0, n, step):
        stop = min(start + step, n)
        _score_block(population, plan, out, provincial_items, city_items, start, stop)
    return out


def evaluate_profiles(
    profiles: Sequence[Profile | Mapping[str, Any]],
    evaluation_date: dt.date,
    review_date: dt.date | None,
    policies: Any,
) -> BulkResult:
    """:meth:`Population.from_profiles` then :func:`evaluate_bulk`."""
    return evaluate_bulk(Population.from_profiles(profiles), evaluation_date, review_date, policies)


def _slice(rows: np.ndarray, start: int, stop: int) -> slice:
    lo, hi = np.searchsorted(rows, (start, stop))
    return slice(int(lo), int(hi))


def _score_block(
    pop: Population,
    plan: _Plan,
    out: BulkResult,
    provincial_items: np.ndarray,
    city_items: np.ndarray,
    a: int,
    b: int,
) -> None:
    m = b - a
    fact_points = _fact_rule_points(pop, plan, a, b)
    totals = []
    for policy, items in (
        (plan.selection.provincial, provincial_items),
        (plan.selection.city, city_items),
    ):
        tier = np.zeros(m, np.int64)
        for i, item in enumerate(policy.items):
            raw = np.zeros(m, np.int64)
            for rule in item.rules:
                if rule.field is not None:
                    points = _field_rule_points(pop, plan, policy, item.cap, rule, a, b)
                else:
                    points = fact_points[plan.fact_row[rule.ref]]
                if rule.cap is not None:
                    points = np.minimum(points, _h(rule.cap))
                raw += points
            np.minimum(raw, _h(item.cap), out=items[i, a:b])
            tier += items[i, a:b]
        totals.append(np.minimum(tier, _h(policy.cap)))
    provincial, city = totals
    deductions = _deductions(pop, plan, a, b)
    out.provincial_total[a:b] = provincial
    out.city_bonus_total[a:b] = city
    out.deductions_total[a:b] = deductions
    out.total[a:b] = np.maximum(provincial + city - deductions, 0)


def _field_rule_points(
    pop: Population, plan: _Plan, policy: Policy, item_cap: Decimal, rule: Rule, a: int, b: int
) -> np.ndarray:
    """Points of a rule that reads a profile field (age, education, skills, months)."""
    m = b - a
    if rule.kind == "age":
        assert rule.base_points is not None and rule.points_per_year_younger is not None
        assert rule.base_from_age is not None and rule.max_age is not None
        birth = pop.birth_date[a:b]
        known = (birth != NO_DATE) & (birth <= plan.on_days)
        age = np.zeros(m, np.int64)
        age[known] = full_months(birth[known], plan.on) // 12
        base = _h(rule.base_points)
        younger = np.minimum(
            base + (rule.base_from_age - age) * _h(rule.points_per_year_younger), _h(item_cap)
        )
        points = np.where(age >= rule.base_from_age, base, younger)
        return np.where(known & (age <= rule.max_age), points, 0)
    if rule.kind == "level":
        table = plan.code_points[(policy.id, rule.ref)]
        if rule.field == "skills":
            best = np.zeros(m, np.int64)
            s = _slice(pop.skill_resident, a, b)
            np.maximum.at(best, pop.skill_resident[s] - a, table[pop.skill_code[s]])
            return best
        assert rule.field is not None
        return table[pop.field(rule.field)[a:b]]  # NONE (-1) reads the "no code" zero
    # per_unit: a quantity field, else full months since a date field.
    assert rule.points is not None and rule.field is not None
    quantity = pop.field(rule.field)[a:b]
    if rule.months_since_field is not None:
        since = pop.field(rule.months_since_field)[a:b]
        use = (quantity == NONE) & (since != NO_DATE)
        if use.any():
            quantity = quantity.copy()
            quantity[use] = full_months(since[use], plan.on)  # 0 when registered after on
    units = np.where(quantity == NONE, 0, quantity // int(rule.unit))
    return units * _h(rule.points)


def _fact_rule_points(pop: Population, plan: _Plan, a: int, b: int) -> np.ndarray:
    """Points (before caps) of every fact-scored city rule: a (rules × residents) matrix."""
    m = b - a
    width = len(plan.fact_rules)
    s = _slice(pop.city_resident, a, b)
    row = plan.rule_row[pop.city_rule[s]]
    date = pop.city_date[s]
    eligible = (date == NO_DATE) | ((date <= plan.on_days) & (date >= plan.window[row]))
    # Quantities are NONE (-1) exactly on facts of rules that take none (checked).
    value = (plan.value[row, pop.city_level[s]] + np.maximum(pop.city_quantity[s], 0)) * eligible
    cell = row * m + (pop.city_resident[s] - a)
    summed = np.zeros(width * m, np.int64)
    best = None
    if plan.any_max:
        is_max = plan.is_max[row]
        if is_max.any():
            best = np.zeros(width * m, np.int64)
            np.maximum.at(best, cell[is_max], value[is_max])
            value = np.where(is_max, 0, value)
    np.add.at(summed, cell, value)
    summed = summed.reshape(width, m)
    points = np.empty((width, m), np.int64)
    for i, rule in enumerate(plan.fact_rules):
        if rule.kind == "per_unit":
            assert rule.points is not None
            np.multiply(summed[i] // _h(rule.unit), _h(rule.points), out=points[i])
        elif rule.kind == "flag":
            assert rule.points is not None
            np.multiply(summed[i] > 0, _h(rule.points), out=points[i])
        elif rule.kind == "level":
            points[i] = 0 if best is None else best.reshape(width, m)[i]
        else:  # each
            points[i] = summed[i]
    return points


def _deductions(pop: Population, plan: _Plan, a: int, b: int) -> np.ndarray:
    """Deductions per resident: the highest eligible deduction of each act, summed."""
    total = np.zeros(b - a, np.int64)
    s = _slice(pop.deduction_resident, a, b)
    if s.start == s.stop:
        return total
    row = plan.deduction_row[pop.deduction_code[s]]
    date = pop.deduction_date[s]
    until = pop.deduction_until[s]
    review = plan.review_days
    eligible = (date <= review) & np.where(
        plan.deduction_listed[row],
        (until == NO_DATE) | (until > review),
        date >= plan.deduction_window[row],
    )
    # Acts of a block of residents are numbered consecutively (they are built in row order).
    groups = pop.deduction_group[s]
    first = int(groups.min())
    best = np.zeros(int(groups.max()) - first + 1, np.int64)
    np.maximum.at(best, groups[eligible] - first, plan.deduction_points[row[eligible]])
    np.add.at(total, pop.group_resident[first : first + best.size] - a, best)
    return total
