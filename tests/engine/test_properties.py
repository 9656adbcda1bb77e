"""Property tests of the engine over generated valid profiles.

The strategies are built from the loaded policy: every city rule gets facts with a valid
level / quantity / date as the rule needs, dates are spread so some fall inside and some
outside their windows, deductions share a few act ids so that same-act collisions happen.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from jifen import PROJECT_ROOT
from jifen.engine import ScoreResult, evaluate, load_policies

POLICIES = load_policies(PROJECT_ROOT / "policies")
_SELECTION = POLICIES.select(dt.date(2025, 6, 1))
PROVINCIAL = _SELECTION.provincial
CITY = _SELECTION.city

#: The deduction table read straight from the YAML file, to compute deductions independently.
RAW_DEDUCTIONS = {
    d["code"]: d
    for d in yaml.safe_load((PROJECT_ROOT / "policies" / CITY.file).read_text(encoding="utf-8"))[
        "deductions"
    ]
}

EDUCATION_CODES = sorted(PROVINCIAL.rules["education"].levels)
SKILL_CODES = sorted(PROVINCIAL.rules["skill"].levels)
CITY_RULES = sorted((r for r in CITY.rules.values() if r.field is None), key=lambda r: r.ref)
DEDUCTION_CODES = sorted(CITY.deductions_by_code)
ACTS = [None, "A1", "A2", "A3"]

EVALUATION_DATES = st.dates(dt.date(2025, 2, 1), dt.date(2028, 12, 31))
FACT_DATES = st.dates(dt.date(2017, 1, 1), dt.date(2029, 12, 31))
AMOUNT = re.compile(r"^\d+\.\d{2}$")
TWO_PLACES = Decimal("0.01")

#: No example database: the suite writes nothing into the checkout.
FAST = settings(max_examples=40, deadline=None, database=None)


def iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


# --- strategies ----------------------------------------------------------------------------


def _quantity(unit: Decimal) -> st.SearchStrategy[Any]:
    top = int(unit) * 150
    return st.one_of(
        st.integers(0, top),
        st.decimals(min_value=0, max_value=top, places=2, allow_nan=False, allow_infinity=False),
    )


@st.composite
def city_facts(draw: st.DrawFn, rule: Any = None) -> dict[str, Any]:
    rule = rule if rule is not None else draw(st.sampled_from(CITY_RULES))
    fact: dict[str, Any] = {"rule": rule.ref}
    if rule.levels:
        fact["level"] = draw(st.sampled_from(sorted(rule.levels)))
    if rule.kind == "per_unit":
        fact["quantity"] = draw(_quantity(rule.unit))
    if rule.window_years is not None:
        fact["date"] = iso(draw(FACT_DATES))
    else:
        date = draw(st.one_of(st.none(), FACT_DATES))
        if date is not None:
            fact["date"] = iso(date)
    if draw(st.booleans()):
        fact["source"] = draw(st.sampled_from(["feed", "claim", "window"]))
    return fact


@st.composite
def deduction_facts(draw: st.DrawFn) -> dict[str, Any]:
    code = draw(st.sampled_from(DEDUCTION_CODES))
    date = draw(FACT_DATES)
    fact: dict[str, Any] = {"rule": code, "date": iso(date)}
    act = draw(st.sampled_from(ACTS))
    if act is not None:
        fact["act"] = act
    if CITY.deductions_by_code[code].while_listed and draw(st.booleans()):
        fact["until"] = iso(date + dt.timedelta(days=draw(st.integers(0, 2500))))
    return fact


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "birth_date": iso(
            draw(st.one_of(st.none(), st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31))))
        ),
        "education": draw(st.one_of(st.none(), st.sampled_from(EDUCATION_CODES))),
        "skills": draw(st.lists(st.sampled_from(SKILL_CODES), max_size=3)),
        "social_insurance_months": draw(st.one_of(st.none(), st.integers(0, 150))),
        "residence_registered_on": iso(
            draw(st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2029, 12, 31))))
        ),
        "residence_months": draw(st.one_of(st.none(), st.integers(0, 200))),
        "city": draw(st.lists(city_facts(), max_size=14)),
        "deductions": draw(st.lists(deduction_facts(), max_size=6)),
    }
    if draw(st.booleans()):
        # A rich profile: one more fact for every city rule, so the caps are reached too.
        profile["city"] += [draw(city_facts(rule)) for rule in CITY_RULES]
    # Leave some keys out altogether (absent and null both mean "no data").
    for key in draw(st.sets(st.sampled_from(sorted(profile)), max_size=3)):
        del profile[key]
    return profile


@st.composite
def dates(draw: st.DrawFn) -> tuple[dt.date, dt.date]:
    """An evaluation date and a review date on or after it."""
    on = draw(EVALUATION_DATES)
    review = on + dt.timedelta(days=draw(st.integers(0, 900)))
    return on, review


def score(profile: dict[str, Any], on: dt.date, review: dt.date) -> ScoreResult:
    return evaluate(profile, on, review, POLICIES)


def summary(result: ScoreResult) -> dict[str, Any]:
    """Every total, subtotal and act of a result."""
    return {
        "provincial_items": result.provincial_items,
        "provincial_total": result.provincial_total,
        "city_items": result.city_items,
        "city_bonus_total": result.city_bonus_total,
        "acts": [(a.act, a.rule, a.points) for a in result.acts],
        "deductions_total": result.deductions_total,
        "total": result.total,
    }


# --- independent computation of the deductions ------------------------------------------------


def years_back(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier, 29 February -> 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def expected_deductions(profile: dict[str, Any], review: dt.date) -> Decimal:
    """Sum over acts of the highest in-window deduction, from the YAML table."""
    best: dict[tuple[str, Any], Decimal] = {}
    for index, fact in enumerate(profile.get("deductions") or ()):
        row = RAW_DEDUCTIONS[fact["rule"]]
        date = dt.date.fromisoformat(fact["date"])
        if date > review:
            continue
        if row.get("while_listed"):
            until = fact.get("until")
            if until is not None and dt.date.fromisoformat(until) <= review:
                continue
        elif date < years_back(review, row["window_years"]):
            continue
        key = ("act", fact["act"]) if fact.get("act") is not None else ("single", index)
        best[key] = max(best.get(key, Decimal(0)), Decimal(str(row["points"])))
    return sum(best.values(), Decimal(0))


# --- properties ----------------------------------------------------------------------------


def _amounts(out: dict[str, Any]) -> list[str]:
    values = [out["provincial"]["total"], out["city"]["bonus_total"], out["deductions"]["total"]]
    values += list(out["provincial"]["items"].values())
    values += list(out["city"]["items"].values())
    values += [a["points"] for a in out["deductions"]["acts"]]
    values += [line["points"] for line in out["explanation"]]
    values.append(out["total"])
    return values


@FAST
@given(profiles(), dates())
def test_totals_are_within_their_bounds_and_exact(
    profile: dict[str, Any], days: tuple[dt.date, dt.date]
) -> None:
    result = score(profile, *days)
    assert Decimal(0) <= result.total <= Decimal(300)
    assert Decimal(0) <= result.provincial_total <= Decimal(100)
    assert Decimal(0) <= result.city_bonus_total <= Decimal(200)
    assert result.deductions_total >= 0
    numbers = [
        result.total,
        result.provincial_total,
        result.city_bonus_total,
        result.deductions_total,
        *result.provincial_items.values(),
        *result.city_items.values(),
        *(a.points for a in result.acts),
        *(line.points for line in result.explanation),
    ]
    for number in numbers:
        assert isinstance(number, Decimal)
        assert number >= 0
        assert number == number.quantize(TWO_PLACES), number  # at most two decimal places
    for item in CITY.items:
        assert result.city_items[item.code] <= item.cap
    for item in PROVINCIAL.items:
        assert result.provincial_items[item.code] <= item.cap
    out = result.as_dict()
    for text in _amounts(out):
        assert AMOUNT.match(text), text
    # The strings are the exact values, not roundings of them.
    assert Decimal(out["total"]) == result.total
    assert Decimal(out["provincial"]["total"]) == result.provincial_total
    assert Decimal(out["city"]["bonus_total"]) == result.city_bonus_total
    assert Decimal(out["deductions"]["total"]) == result.deductions_total
    for code, value in result.city_items.items():
        assert Decimal(out["city"]["items"][code]) == value
    for code, value in result.provincial_items.items():
        assert Decimal(out["provincial"]["items"][code]) == value


@FAST
@given(profiles(), dates())
def test_total_is_provincial_plus_city_minus_deductions_never_below_zero(
    profile: dict[str, Any], days: tuple[dt.date, dt.date]
) -> None:
    result = score(profile, *days)
    expected = result.provincial_total + result.city_bonus_total - result.deductions_total
    assert result.total == max(Decimal(0), expected)
    assert result.provincial_total == min(sum(result.provincial_items.values()), Decimal(100))
    assert result.city_bonus_total == min(sum(result.city_items.values()), Decimal(200))
    assert result.deductions_total == sum((a.points for a in result.acts), Decimal(0))


@FAST
@given(profiles(), dates(), city_facts())
def test_adding_a_city_fact_never_lowers_the_total(
    profile: dict[str, Any], days: tuple[dt.date, dt.date], fact: dict[str, Any]
) -> None:
    before = score(profile, *days)
    after = score({**profile, "city": [*(profile.get("city") or []), fact]}, *days)
    assert after.total >= before.total
    assert after.city_bonus_total >= before.city_bonus_total
    for code, points in before.city_items.items():
        assert after.city_items[code] >= points
    assert after.provincial_total == before.provincial_total
    assert after.deductions_total == before.deductions_total


@FAST
@given(profiles(), dates(), st.sampled_from(SKILL_CODES), st.integers(0, 3))
def test_adding_a_skill_never_lowers_the_total(
    profile: dict[str, Any], days: tuple[dt.date, dt.date], skill: str, position: int
) -> None:
    before = score(profile, *days)
    skills = list(profile.get("skills") or [])
    skills.insert(min(position, len(skills)), skill)
    after = score({**profile, "skills": skills}, *days)
    assert after.total >= before.total
    assert after.provincial_items["skill"] >= before.provincial_items["skill"]
    assert after.provincial_items["skill"] >= PROVINCIAL.rules["skill"].levels[skill]


@FAST
@given(profiles(), dates(), deduction_facts())
def test_adding_a_deduction_never_raises_the_total(
    profile: dict[str, Any], days: tuple[dt.date, dt.date], fact: dict[str, Any]
) -> None:
    before = score(profile, *days)
    after = score({**profile, "deductions": [*(profile.get("deductions") or []), fact]}, *days)
    assert after.total <= before.total
    assert after.deductions_total >= before.deductions_total
    assert after.provincial_total == before.provincial_total
    assert after.city_bonus_total == before.city_bonus_total


@settings(max_examples=80, deadline=None, database=None)
@given(profiles(), dates())
def test_deductions_total_is_the_sum_over_acts_of_the_highest_in_window_deduction(
    profile: dict[str, Any], days: tuple[dt.date, dt.date]
) -> None:
    on, review = days
    result = score(profile, on, review)
    assert result.deductions_total == expected_deductions(profile, review)
    named = [a.act for a in result.acts if a.act is not None]
    assert len(named) == len(set(named)), "an act is counted once"


@FAST
@given(profiles(), dates(), deduction_facts(), st.sampled_from(ACTS[1:]), st.data())
def test_duplicating_a_deduction_of_the_same_act_changes_nothing(
    profile: dict[str, Any],
    days: tuple[dt.date, dt.date],
    fact: dict[str, Any],
    act: str,
    data: st.DataObject,
) -> None:
    base = [*(profile.get("deductions") or []), {**fact, "act": act}]
    before = score({**profile, "deductions": base}, *days)
    duplicate = data.draw(st.sampled_from([f for f in base if f.get("act") is not None]))
    deductions = list(base)
    deductions.insert(data.draw(st.integers(0, len(base))), dict(duplicate))
    after = score({**profile, "deductions": deductions}, *days)
    assert summary(after) == summary(before)


@FAST
@given(profiles(), dates(), st.sampled_from(DEDUCTION_CODES), st.sampled_from(DEDUCTION_CODES))
def test_same_act_deductions_never_sum(
    profile: dict[str, Any], days: tuple[dt.date, dt.date], first: str, second: str
) -> None:
    on, review = days
    # Two deductions of one act, both on the review date (inside every window).
    act = [
        {"rule": first, "act": "ONE", "date": iso(review)},
        {"rule": second, "act": "ONE", "date": iso(review)},
    ]
    base = score(profile, on, review)
    after = score({**profile, "deductions": [*(profile.get("deductions") or []), *act]}, on, review)
    highest = max(CITY.deductions_by_code[first].points, CITY.deductions_by_code[second].points)
    assert after.deductions_total - base.deductions_total == highest
    counted = [a for a in after.acts if a.act == "ONE"]
    assert len(counted) == 1
    assert counted[0].points == highest


@FAST
@given(profiles(), dates(), st.data())
def test_result_does_not_depend_on_the_order_of_facts(
    profile: dict[str, Any], days: tuple[dt.date, dt.date], data: st.DataObject
) -> None:
    shuffled = {
        **profile,
        "city": data.draw(st.permutations(profile.get("city") or [])),
        "deductions": data.draw(st.permutations(profile.get("deductions") or [])),
    }
    before = score(profile, *days)
    after = score(shuffled, *days)
    assert summary(after) == summary(before)

    def lines(result: ScoreResult) -> list[tuple[Any, ...]]:
        return sorted(
            (line.section, line.item, line.rule or "", line.points, line.status)
            for line in result.explanation
        )

    assert lines(after) == lines(before)
    # The totals do not depend on the order of the skills either.
    skills = data.draw(st.permutations(profile.get("skills") or []))
    assert summary(score({**shuffled, "skills": skills}, *days)) == summary(before)


@FAST
@given(profiles(), EVALUATION_DATES)
def test_review_date_defaults_to_the_evaluation_date(profile: dict[str, Any], on: dt.date) -> None:
    assert summary(evaluate(profile, on, None, POLICIES)) == summary(score(profile, on, on))


@FAST
@given(profiles(), dates())
def test_bonus_does_not_depend_on_the_review_date(
    profile: dict[str, Any], days: tuple[dt.date, dt.date]
) -> None:
    on, review = days
    at_review = score(profile, on, review)
    same_day = score(profile, on, on)
    assert at_review.provincial_items == same_day.provincial_items
    assert at_review.city_items == same_day.city_items


# --- examples the properties above do not reach ----------------------------------------------


def test_an_act_id_never_merges_with_a_fact_without_act() -> None:
    """Distinct acts accumulate, whatever the act identifiers look like.

    The second fact has no act (it is an act of its own); the first names its act "#1".
    They are two acts: 20 + 50.
    """
    profile = {
        "deductions": [
            {"rule": "administrative_detention", "act": "#1", "date": "2024-01-01"},
            {"rule": "crime_other", "date": "2024-01-01"},
        ]
    }
    on = dt.date(2025, 6, 1)
    result = score(profile, on, on)
    assert result.deductions_total == expected_deductions(profile, on) == Decimal(70)
    assert len(result.acts) == 2


def test_an_act_of_the_same_id_written_as_number_or_text_is_one_act() -> None:
    profile = {
        "deductions": [
            {"rule": "crime_other", "act": 7, "date": "2024-01-01"},
            {"rule": "usury", "act": "7", "date": "2024-01-01"},
        ]
    }
    on = dt.date(2025, 6, 1)
    assert score(profile, on, on).deductions_total == Decimal(50)


def test_a_skill_listed_twice_is_counted_once_in_the_explanation() -> None:
    """The explanation adds up: one counted line for the one skill that scores."""
    on = dt.date(2025, 6, 1)
    result = score({"skills": ["title_junior", "title_junior"]}, on, on)
    assert result.provincial_items["skill"] == Decimal(8)
    counted = [
        line
        for line in result.explanation
        if line.section == "provincial" and line.rule == "skill" and line.status == "counted"
    ]
    assert sum(line.points for line in counted) == Decimal(8), [
        (line.facts, line.points, line.status) for line in counted
    ]
