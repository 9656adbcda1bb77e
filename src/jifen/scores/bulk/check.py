"""What :func:`jifen.engine.check_profile` refuses, checked over a whole population.

A fast pass computes one "fine" flag per fact from small tables; only when something is wrong
does the slow pass look for the first offending fact to name it exactly as the engine would
(``profiles[row].city[index].level``).
"""

from __future__ import annotations

import numpy as np

from jifen.engine.errors import ProfileError
from jifen.engine.policy import PolicySelection
from jifen.scores.bulk.population import NO_DATE, NONE, Population


def field_codes(selection: PolicySelection, field: str) -> set[str]:
    """Every level code a rule reading ``field`` knows, in either tier."""
    codes: set[str] = set()
    for policy in (selection.provincial, selection.city):
        for rule in policy.rules.values():
            if rule.field == field and rule.levels:
                codes.update(rule.levels)
    return codes


def _fail(kind: str, rows: np.ndarray, at: int, suffix: str, reason: str) -> ProfileError:
    row = int(rows[at])
    index = at - int(np.searchsorted(rows, row))
    return ProfileError(f"profiles[{row}].{kind}[{index}]{suffix}", reason)


def check_population(pop: Population, selection: PolicySelection) -> None:
    """Raise ``ProfileError`` for the first code, level, quantity or date the engine refuses."""
    _check_codes(pop, selection)
    _check_city(pop, selection)
    _check_deductions(pop, selection)


def _check_codes(pop: Population, selection: PolicySelection) -> None:
    for field, values, rows in (
        ("education", pop.education, None),
        ("skills", pop.skill_code, pop.skill_resident),
    ):
        known = field_codes(selection, field)
        bad = np.array([code not in known for code in pop.codes] + [False], bool)
        hits = np.flatnonzero(bad[values])
        if hits.size:
            code = pop.codes[int(values[hits[0]])]
            reason = f"unknown code {code!r} (one of: {', '.join(sorted(known))})"
            if rows is None:
                raise ProfileError(f"profiles[{int(hits[0])}].education", reason)
            raise _fail("skills", rows, int(hits[0]), "", reason)


def _check_city(pop: Population, selection: PolicySelection) -> None:
    city = selection.city
    n_levels = len(pop.levels)
    # Per population rule: usable at all, which levels are allowed (last column: no level),
    # whether it takes a quantity, whether it needs a date.
    usable = np.zeros(len(pop.rules), bool)
    level_ok = np.zeros((len(pop.rules), n_levels + 1), bool)
    quantity = np.zeros(len(pop.rules), bool)
    dated = np.zeros(len(pop.rules), bool)
    for r, code in enumerate(pop.rules):
        rule = city.rules.get(code)
        if rule is None or rule.field is not None:
            continue
        usable[r] = True
        if rule.levels is None:
            level_ok[r, n_levels] = True
        else:
            level_ok[r, :n_levels] = [level in rule.levels for level in pop.levels]
        quantity[r] = rule.kind == "per_unit"
        dated[r] = rule.window_years is not None
    r = pop.city_rule
    fine = (
        usable[r]
        & level_ok[r, pop.city_level]  # NONE (-1) reads the "no level" column
        & (quantity[r] == (pop.city_quantity != NONE))
        & (~dated[r] | (pop.city_date != NO_DATE))
    )
    if fine.all():
        return
    at = int(np.flatnonzero(~fine)[0])
    code = pop.rules[int(r[at])]
    rule = city.rules.get(code)
    rows = pop.city_resident

    def fail(suffix: str, reason: str) -> ProfileError:
        return _fail("city", rows, at, suffix, reason)

    if rule is None:
        raise fail(".rule", f"unknown rule {code!r} in policy {city.id}")
    if rule.field is not None:
        raise fail(
            ".rule",
            f"{code} is scored from the profile's {rule.field} field; it takes no city fact",
        )
    level = int(pop.city_level[at])
    if rule.levels is not None:
        if level == NONE:
            raise fail(".level", f"missing (one of: {', '.join(rule.levels)})")
        if pop.levels[level] not in rule.levels:
            raise fail(
                ".level",
                f"unknown level {pop.levels[level]!r} for {code} "
                f"(one of: {', '.join(rule.levels)})",
            )
    elif level != NONE:
        raise fail(".level", f"{code} has no levels")
    if rule.kind == "per_unit" and pop.city_quantity[at] == NONE:
        raise fail(".quantity", f"missing ({code} scores a quantity)")
    if rule.kind != "per_unit" and pop.city_quantity[at] != NONE:
        raise fail(".quantity", f"{code} takes no quantity")
    raise fail(".date", f"missing ({code} counts within the last {rule.window_years} years)")


def _check_deductions(pop: Population, selection: PolicySelection) -> None:
    by_code = selection.city.deductions_by_code
    usable = np.array([code in by_code for code in pop.deduction_codes], bool)
    listed = np.array(
        [code in by_code and by_code[code].while_listed for code in pop.deduction_codes], bool
    )
    d = pop.deduction_code
    fine = usable[d] & (listed[d] | (pop.deduction_until == NO_DATE))
    if fine.all():
        return
    at = int(np.flatnonzero(~fine)[0])
    code = pop.deduction_codes[int(d[at])]
    if code not in by_code:
        raise _fail(
            "deductions",
            pop.deduction_resident,
            at,
            ".rule",
            f"unknown deduction {code!r} in policy {selection.city.id}",
        )
    raise _fail(
        "deductions",
        pop.deduction_resident,
        at,
        ".until",
        f"{code} is not a 'while listed' deduction",
    )
