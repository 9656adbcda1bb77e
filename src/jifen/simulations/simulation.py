"""The impact of a policy change: one population scored twice, before and after.

:func:`simulate` is plain Python over numpy (no Django, no database): it scores a
:class:`~jifen.scores.bulk.Population` with the bulk engine under the ``before`` selection (the
versions in force) and under the ``after`` selection (the draft in place of the version of its
tier), and returns the figures as JSON-ready data:

- ``histogram``: residents per band of totals (``bin_width`` points), before and after;
- ``summary``: how many gain, lose or are unchanged, and by how much (amounts in points with
  two decimals, summed exactly in hundredths);
- ``by_town`` / ``by_item``: the same counts per town and per item (``provincial.age``,
  ``city.residence`` …, ``deductions``); an item only one side has counts 0 on the other;
- ``threshold`` (with a scenario): the residents whose counted points cross the scenario's
  ``min_total`` in either direction, over the whole population;
- ``scenario`` (with a scenario): its live enrollments re-evaluated on its evaluation date
  under both selections, eligibility re-checked (``min_total``; the other conditions do not
  depend on the policy and are given), and ranked twice with the pure ranking engine
  (:func:`jifen.rankings.engine.rank`): who crosses the threshold, who enters or leaves the
  admitted places, the cut-off before and after.

A resident the engine refuses (a fact of a rule the draft removes, a level it no longer
knows …) is not scored: :func:`score_population` drops every resident with the same refused
code, counts them by reason, and the figures cover the others; ``not_scored`` says how many
and why, on each side.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from jifen.engine.errors import ProfileError
from jifen.engine.policy import PolicySelection
from jifen.rankings import engine as ranking_engine
from jifen.scores.bulk import BulkResult, Population, evaluate_bulk, money
from jifen.scores.bulk.population import NONE

#: Band width of the histogram, in points.
BIN_WIDTH = 10
#: Residents listed by name of number (threshold crossings, ranking changes) at most.
LIST_LIMIT = 500
#: Distinct refusal causes dropped before giving up (each costs one more check).
MAX_CAUSES = 200
DEDUCTIONS = "deductions"
_ROW = re.compile(r"^profiles\[(\d+)\]\.(\w+)(?:\[(\d+)\])?")


def selection_with(current: PolicySelection, draft: Any) -> PolicySelection:
    """``current`` with ``draft`` (a :class:`~jifen.engine.policy.Policy`) in place of the
    version of its tier: what the draft would change, all else equal."""
    tiers = {"provincial": current.provincial, "city": current.city}
    tiers[draft.tier] = draft
    return PolicySelection(**tiers)


# --- scoring with refusals ------------------------------------------------------------------


@dataclass
class Scored:
    """A population's bulk result, with the rows the engine refused (all zero in ``result``)."""

    result: BulkResult
    refused: np.ndarray  # bool per resident
    reasons: dict[str, int] = field(default_factory=dict)


def _cause_mask(pop: Population, error: ProfileError) -> np.ndarray | None:
    """Every resident with the fact (same rule and level, same code) the engine refused."""
    match = _ROW.match(error.field)
    if match is None:
        return None
    row, kind = int(match.group(1)), match.group(2)
    index = int(match.group(3)) if match.group(3) is not None else 0
    bad = np.zeros(pop.size, bool)
    if kind == "education":
        bad[pop.education == pop.education[row]] = True
    elif kind == "skills":
        at = int(np.searchsorted(pop.skill_resident, row)) + index
        bad[pop.skill_resident[pop.skill_code == pop.skill_code[at]]] = True
    elif kind == "city":
        at = int(np.searchsorted(pop.city_resident, row)) + index
        same = (pop.city_rule == pop.city_rule[at]) & (pop.city_level == pop.city_level[at])
        if error.field.endswith((".quantity", ".date")):
            # Only facts missing the same thing (or having it where none is taken).
            if error.field.endswith(".quantity"):
                same &= (pop.city_quantity == NONE) == (pop.city_quantity[at] == NONE)
            else:
                same &= pop.city_date == pop.city_date[at]
        bad[pop.city_resident[same]] = True
    elif kind == "deductions":
        at = int(np.searchsorted(pop.deduction_resident, row)) + index
        same = pop.deduction_code == pop.deduction_code[at]
        if error.field.endswith(".until"):
            same &= pop.deduction_until != np.iinfo(np.int64).min
        bad[pop.deduction_resident[same]] = True
    else:
        bad[row] = True
    bad[row] = True
    return bad


def without(pop: Population, drop: np.ndarray) -> Population:
    """``pop`` with the residents of ``drop`` emptied (no facts, no fields): rows unchanged."""
    if not drop.any():
        return pop

    def keep(rows: np.ndarray) -> np.ndarray:
        return ~drop[rows] if rows.size else np.zeros(0, bool)

    skill, city, deduction = (
        keep(pop.skill_resident),
        keep(pop.city_resident),
        keep(pop.deduction_resident),
    )
    group_keep = keep(pop.group_resident)
    # Renumber the acts that stay so group_resident stays indexed by group.
    new_group = np.cumsum(group_keep) - 1
    education = pop.education.copy()
    education[drop] = NONE
    return replace(
        pop,
        education=education,
        skill_resident=pop.skill_resident[skill],
        skill_code=pop.skill_code[skill],
        city_resident=pop.city_resident[city],
        city_rule=pop.city_rule[city],
        city_level=pop.city_level[city],
        city_quantity=pop.city_quantity[city],
        city_date=pop.city_date[city],
        deduction_resident=pop.deduction_resident[deduction],
        deduction_code=pop.deduction_code[deduction],
        deduction_group=new_group[pop.deduction_group[deduction]],
        deduction_date=pop.deduction_date[deduction],
        deduction_until=pop.deduction_until[deduction],
        group_resident=pop.group_resident[group_keep],
    )


def score_population(
    pop: Population,
    selection: PolicySelection,
    on: dt.date,
    review: dt.date | None,
    *,
    refused: np.ndarray | None = None,
) -> Scored:
    """:func:`evaluate_bulk`, dropping the residents the engine refuses (by cause)."""
    drop = np.zeros(pop.size, bool) if refused is None else refused.copy()
    reasons: dict[str, int] = {}
    for _attempt in range(MAX_CAUSES):
        try:
            result = evaluate_bulk(without(pop, drop), on, review, selection)
        except ProfileError as error:
            mask = _cause_mask(pop, error)
            if mask is None or not (mask & ~drop).any():
                raise
            fresh = mask & ~drop
            reason = re.sub(r"^profiles\[\d+\]\.", "", error.field)
            reason = re.sub(r"\[\d+\]", "", reason)
            key = f"{reason}: {error.reason}"
            reasons[key] = reasons.get(key, 0) + int(fresh.sum())
            drop |= mask
            continue
        return Scored(result=result, refused=drop, reasons=reasons)
    raise ProfileError("profiles", f"more than {MAX_CAUSES} distinct causes refused")


# --- the figures ----------------------------------------------------------------------------


def _points(hundredths: int | np.integer) -> str:
    return money(int(hundredths))


def _counts(delta: np.ndarray) -> dict[str, Any]:
    gain, lose = delta > 0, delta < 0
    return {
        "residents": int(delta.size),
        "gain": int(gain.sum()),
        "lose": int(lose.sum()),
        "unchanged": int(delta.size - gain.sum() - lose.sum()),
        "gain_points": _points(delta[gain].sum()),
        "loss_points": _points(-delta[lose].sum()),
        "net_points": _points(delta.sum()),
        "max_gain": _points(delta.max()) if delta.size and delta.max() > 0 else "0.00",
        "max_loss": _points(-delta.min()) if delta.size and delta.min() < 0 else "0.00",
    }


def histogram(before: np.ndarray, after: np.ndarray, width: int = BIN_WIDTH) -> dict[str, Any]:
    """Residents per band ``[low, low + width)`` of totals (hundredths in, points out)."""
    step = width * 100
    top = int(max(before.max(initial=0), after.max(initial=0)))
    bands = top // step + 1
    return {
        "width": width,
        "edges": [i * width for i in range(bands + 1)],
        "before": np.bincount(before // step, minlength=bands).tolist(),
        "after": np.bincount(after // step, minlength=bands).tolist(),
    }


def _item_columns(result: BulkResult) -> dict[str, np.ndarray]:
    columns = {
        f"provincial.{code}": result.provincial_item_points[:, i]
        for i, code in enumerate(result.provincial_items)
    }
    columns.update(
        {f"city.{code}": result.city_item_points[:, i] for i, code in enumerate(result.city_items)}
    )
    columns[DEDUCTIONS] = -result.deductions_total
    return columns


def counted(result: BulkResult, basis: Mapping[str, Any]) -> np.ndarray:
    """The points that count under a scenario's score basis (hundredths), as
    ``jifen.scenarios.services.evaluation.counted_points`` computes them from a score."""
    if basis.get("kind", "total") == "total":
        return result.total
    columns = _item_columns(result)
    zero = np.zeros(result.total.size, np.int64)
    points = sum((columns.get(ref, zero) for ref in basis.get("items", ())), zero.copy())
    if basis.get("deductions", True):
        points = points - result.deductions_total
    return np.maximum(points, 0)


def _sorted_items(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> list[str]:
    names = list(before)
    names += [n for n in after if n not in before]
    return names


# --- scenarios as plain data ----------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioEntry:
    """One live enrollment: ``row`` in the scenario's population; ``applied_at`` as the
    ranking's canonical text; ``other_reasons`` the eligibility codes besides ``min_total``
    (they do not depend on the policy); ``blocked`` ones are never ranked."""

    number: str
    enrollment: str
    row: int
    applied_at: str
    preferences: tuple[str, ...] = ()
    town: str | None = None
    other_reasons: tuple[str, ...] = ()
    blocked: bool = False


@dataclass(frozen=True)
class ScenarioSpec:
    """What the simulation needs of a scenario version, as plain data."""

    code: str
    name: str
    version: int
    version_hash: str
    evaluation_date: dt.date
    review_date: dt.date
    basis: Mapping[str, Any]
    tie_breaks: Sequence[str]
    quotas: Sequence[Mapping[str, Any]]
    preferences: Mapping[str, Any] | None
    min_total: str | None
    entries: Sequence[ScenarioEntry]
    population: Population
    #: Rows refused before scoring (facts the profile parser refuses), and why.
    refused: np.ndarray | None = None
    refused_reasons: Mapping[str, int] = field(default_factory=dict)


def _tie(result: BulkResult, row: int, tie: str, entry: ScenarioEntry) -> str:
    if tie == "applied_at" or ranking_engine.is_timestamp(tie):
        return entry.applied_at
    if tie == "provincial_total":
        return _points(result.provincial_total[row])
    if tie == "city_bonus_total":
        return _points(result.city_bonus_total[row])
    if tie == "deductions_total":
        return _points(result.deductions_total[row])
    if tie.startswith("item:"):
        column = _item_columns(result).get(tie.removeprefix("item:"))
        return _points(0 if column is None else column[row])
    raise ranking_engine.RankingInputError(f"unknown tie-break {tie!r}")


def _rank_side(
    spec: ScenarioSpec, scored: Scored, minimum: int | None
) -> tuple[dict[str, dict[str, Any]], ranking_engine.RankResult]:
    points = counted(scored.result, spec.basis)
    rows: dict[str, dict[str, Any]] = {}
    entries = []
    for entry in spec.entries:
        p = int(points[entry.row])
        refused = bool(scored.refused[entry.row])
        below = minimum is not None and p < minimum
        eligible = not (entry.blocked or refused or entry.other_reasons or below)
        rows[entry.number] = {
            "points": _points(p),
            "eligible": eligible,
            "below_min": below,
            "not_scored": refused,
        }
        if eligible:
            entries.append(
                {
                    "number": entry.number,
                    "enrollment": entry.enrollment,
                    "points": _points(p),
                    "ties": [_tie(scored.result, entry.row, t, entry) for t in spec.tie_breaks],
                    "preferences": list(entry.preferences),
                    "town": entry.town,
                }
            )
    inputs = ranking_engine.make_inputs(
        scenario=spec.code,
        version=spec.version,
        version_hash=spec.version_hash,
        tie_breaks=spec.tie_breaks,
        quotas=spec.quotas,
        preferences=spec.preferences,
        entries=entries,
    )
    ranked = ranking_engine.rank(inputs)
    for placed in ranked.entries:
        rows[placed.number].update(rank=placed.rank, status=placed.status, quota=placed.quota)
    return rows, ranked


def _scenario_figures(
    spec: ScenarioSpec, before: PolicySelection, after: PolicySelection
) -> dict[str, Any]:
    on, review = spec.evaluation_date, spec.review_date
    first = score_population(spec.population, before, on, review, refused=spec.refused)
    second = score_population(spec.population, after, on, review, refused=spec.refused)
    first.reasons = {**spec.refused_reasons, **first.reasons}
    minimum = None if spec.min_total is None else ranking_engine.hundredths(spec.min_total)
    rows_before, ranked_before = _rank_side(spec, first, minimum)
    rows_after, ranked_after = _rank_side(spec, second, minimum)
    crossed_up, crossed_down, entering, leaving, moved = [], [], [], [], 0
    for entry in spec.entries:
        b, a = rows_before[entry.number], rows_after[entry.number]
        line = {
            "number": entry.number,
            "points_before": b["points"],
            "points_after": a["points"],
            "rank_before": b.get("rank"),
            "rank_after": a.get("rank"),
            "status_before": b.get("status") or ("ineligible" if not b["eligible"] else None),
            "status_after": a.get("status") or ("ineligible" if not a["eligible"] else None),
        }
        if b["below_min"] and not a["below_min"]:
            crossed_up.append(line)
        elif a["below_min"] and not b["below_min"]:
            crossed_down.append(line)
        admitted_before = b.get("status") == ranking_engine.ADMITTED
        admitted_after = a.get("status") == ranking_engine.ADMITTED
        if admitted_after and not admitted_before:
            entering.append(line)
        elif admitted_before and not admitted_after:
            leaving.append(line)
        if b.get("rank") != a.get("rank"):
            moved += 1
    delta = counted(second.result, spec.basis) - counted(first.result, spec.basis)
    both = ~(first.refused | second.refused)
    rows = np.array([e.row for e in spec.entries], np.int64)
    scored_rows = rows[both[rows]] if rows.size else rows

    def by_rank(lines: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        return sorted(lines, key=lambda x: (x[key] is None, x[key] or 0, x["number"]))

    return {
        "code": spec.code,
        "name": spec.name,
        "version": spec.version,
        "evaluation_date": on.isoformat(),
        "review_date": review.isoformat(),
        "min_total": spec.min_total,
        "enrollments": len(spec.entries),
        "places": sum(int(q["places"]) for q in spec.quotas),
        "summary": _counts(delta[scored_rows]),
        "eligible_before": sum(1 for r in rows_before.values() if r["eligible"]),
        "eligible_after": sum(1 for r in rows_after.values() if r["eligible"]),
        "admitted_before": sum(ranked_before.filled.values()),
        "admitted_after": sum(ranked_after.filled.values()),
        "cutoff_before": ranked_before.cutoff_points,
        "cutoff_after": ranked_after.cutoff_points,
        "rank_changed": moved,
        "crossed_up": crossed_up[:LIST_LIMIT],
        "crossed_down": crossed_down[:LIST_LIMIT],
        "crossed_up_count": len(crossed_up),
        "crossed_down_count": len(crossed_down),
        "entering": by_rank(entering, "rank_after")[:LIST_LIMIT],
        "leaving": by_rank(leaving, "rank_before")[:LIST_LIMIT],
        "entering_count": len(entering),
        "leaving_count": len(leaving),
        "not_scored_before": first.reasons,
        "not_scored_after": {k: v for k, v in second.reasons.items() if k not in first.reasons},
    }


# --- the simulation -------------------------------------------------------------------------


def _policy_line(selection: PolicySelection) -> dict[str, str]:
    return {
        "provincial": selection.provincial.id,
        "provincial_hash": selection.provincial.hash,
        "city": selection.city.id,
        "city_hash": selection.city.hash,
    }


def simulate(
    before: PolicySelection,
    after: PolicySelection,
    population: Population,
    *,
    on: dt.date,
    review: dt.date | None = None,
    towns: np.ndarray | None = None,
    town_codes: Sequence[str] = (),
    town_names: Mapping[str, str] | None = None,
    scenario: ScenarioSpec | None = None,
    bin_width: int = BIN_WIDTH,
    refused: np.ndarray | None = None,
    refused_reasons: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The figures of the change from ``before`` to ``after`` over ``population`` on ``on``.

    ``towns`` gives each resident's index into ``town_codes`` (``-1``: none). ``scenario``
    adds the threshold crossings over the population and the scenario's own figures.
    ``refused`` marks rows refused before scoring (``refused_reasons`` says why).
    """
    first = score_population(population, before, on, review, refused=refused)
    first.reasons = {**(refused_reasons or {}), **first.reasons}
    second = score_population(population, after, on, review, refused=first.refused)
    scored = ~second.refused
    total_before = first.result.total[scored]
    total_after = second.result.total[scored]
    delta = total_after - total_before
    figures: dict[str, Any] = {
        "on": on.isoformat(),
        "review": (review or on).isoformat(),
        "before": _policy_line(before),
        "after": _policy_line(after),
        "residents": int(population.size),
        "scored": int(scored.sum()),
        "not_scored_before": first.reasons,
        "not_scored_after": second.reasons,
        "mean_before": _points(total_before.sum() // max(total_before.size, 1)),
        "mean_after": _points(total_after.sum() // max(total_after.size, 1)),
        "histogram": histogram(total_before, total_after, bin_width),
        "summary": _counts(delta),
    }
    # By town.
    by_town = []
    if towns is not None:
        town_of = towns[scored]
        names = town_names or {}
        for index in np.unique(town_of):
            mask = town_of == index
            code = town_codes[index] if 0 <= index < len(town_codes) else ""
            line = {"town": code, "name": names.get(code, code or "—"), **_counts(delta[mask])}
            line["mean_before"] = _points(total_before[mask].sum() // max(int(mask.sum()), 1))
            line["mean_after"] = _points(total_after[mask].sum() // max(int(mask.sum()), 1))
            by_town.append(line)
    figures["by_town"] = by_town
    # By item.
    items_before = _item_columns(first.result)
    items_after = _item_columns(second.result)
    zero = np.zeros(population.size, np.int64)
    by_item = []
    for name in _sorted_items(items_before, items_after):
        b = items_before.get(name, zero)[scored]
        a = items_after.get(name, zero)[scored]
        line = {"item": name, **_counts(a - b)}
        line["points_before"] = _points(b.sum())
        line["points_after"] = _points(a.sum())
        line["only"] = (
            "before" if name not in items_after else "after" if name not in items_before else ""
        )
        by_item.append(line)
    figures["by_item"] = by_item
    if scenario is not None:
        figures["threshold"] = _threshold(scenario, first, second, scored)
        figures["scenario"] = _scenario_figures(scenario, before, after)
    return figures


def _threshold(spec: ScenarioSpec, first: Scored, second: Scored, scored: np.ndarray) -> dict:
    """Residents of the whole population crossing the scenario's ``min_total``."""
    if spec.min_total is None:
        return {"min_total": None, "crossed_up": 0, "crossed_down": 0}
    minimum = ranking_engine.hundredths(spec.min_total)
    b = counted(first.result, spec.basis)[scored]
    a = counted(second.result, spec.basis)[scored]
    return {
        "min_total": spec.min_total,
        "basis": dict(spec.basis),
        "reaching_before": int((b >= minimum).sum()),
        "reaching_after": int((a >= minimum).sum()),
        "crossed_up": int(((b < minimum) & (a >= minimum)).sum()),
        "crossed_down": int(((b >= minimum) & (a < minimum)).sum()),
    }
