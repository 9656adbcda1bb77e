"""The bulk path gives exactly the single-resident engine's totals and item subtotals.

Random populations two ways: the synthetic generator (realistic frequencies) with random
seeds and dates, and a strategy built from the policy that aims at the edges (window
boundaries, leap days, caps, same-act deductions, listings lifted on the review date).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jifen.engine import ProfileError, evaluate
from jifen.engine.dates import full_months as engine_full_months
from jifen.engine.dates import years_before
from jifen.scores.bulk import NotExact, Population, engine_summary, evaluate_bulk, money
from jifen.scores.bulk.evaluate import full_months
from jifen.scores.bulk.population import days
from jifen.scores.policies import current_policies
from jifen.synthetic.profiles import generate_profile

POLICIES = current_policies()
CITY = POLICIES.select(dt.date(2025, 6, 1)).city
PROVINCIAL = POLICIES.select(dt.date(2025, 6, 1)).provincial
FACT_RULES = sorted((r for r in CITY.rules.values() if r.field is None), key=lambda r: r.ref)
EDUCATION = sorted(PROVINCIAL.rules["education"].levels)
SKILLS = sorted(PROVINCIAL.rules["skill"].levels)
DEDUCTIONS = sorted(CITY.deductions_by_code)
#: Evaluation dates in force for both tiers, with leap days and month ends.
EVALUATION_DATES = st.one_of(
    st.dates(dt.date(2025, 2, 1), dt.date(2030, 12, 31)),
    st.sampled_from([dt.date(2028, 2, 29), dt.date(2025, 2, 28), dt.date(2026, 3, 31)]),
)
FAST = settings(max_examples=60, deadline=None, database=None)
EDGES = settings(max_examples=120, deadline=None, database=None)


def iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def assert_same(profiles: list[dict[str, Any]], on: dt.date, review: dt.date, block: int) -> None:
    bulk = evaluate_bulk(Population.from_profiles(profiles), on, review, POLICIES, block=block)
    for row, profile in enumerate(profiles):
        single = engine_summary(evaluate(profile, on, review, POLICIES).as_dict())
        assert bulk.summary(row) == single, (row, profile)


# --- the synthetic generator, random seeds and dates ----------------------------------------


@FAST
@given(
    seed=st.integers(0, 2**32 - 1),
    on=EVALUATION_DATES,
    size=st.integers(0, 60),
    spread=st.integers(0, 900),
    review_after=st.integers(0, 400),
    block=st.integers(1, 64),
)
def test_bulk_equals_engine_on_generated_populations(seed, on, size, spread, review_after, block):
    rng = random.Random(seed)
    # Profiles generated for dates around the evaluation date: some facts lie in the future,
    # some just outside their windows.
    profiles = [
        generate_profile(rng, on + dt.timedelta(days=rng.randint(-spread, spread)))
        for _ in range(size)
    ]
    assert_same(profiles, on, on + dt.timedelta(days=review_after), block)


def test_bulk_equals_engine_on_a_large_generated_population():
    rng = random.Random(20250602)
    on = dt.date(2025, 6, 2)
    profiles = [
        generate_profile(rng, on + dt.timedelta(days=rng.randint(-500, 500))) for _ in range(5000)
    ]
    assert_same(profiles, on, on + dt.timedelta(days=19), block=1024)


# --- edge cases built from the policy --------------------------------------------------------


def edge_dates(on: dt.date, years: int | None) -> st.SearchStrategy[dt.date]:
    """Dates on and around the edges of a window ending on ``on``."""
    edges = [on, on + dt.timedelta(days=1), on - dt.timedelta(days=1)]
    if years is not None:
        start = years_before(on, years)
        edges += [start, start - dt.timedelta(days=1), start + dt.timedelta(days=1)]
    return st.one_of(
        st.sampled_from(edges),
        st.dates(on - dt.timedelta(days=9 * 366), on + dt.timedelta(days=60)),
    )


def quantities(rule: Any) -> st.SearchStrategy[Any]:
    top = int(rule.unit) * 40
    edges = [0, int(rule.unit), int(rule.unit) - 1, top]
    return st.one_of(
        st.sampled_from(edges),
        st.integers(0, top),
        st.decimals(min_value=0, max_value=top, places=2, allow_nan=False, allow_infinity=False),
    )


@st.composite
def city_fact(draw: st.DrawFn, on: dt.date, rule: Any = None) -> dict[str, Any]:
    rule = rule if rule is not None else draw(st.sampled_from(FACT_RULES))
    fact: dict[str, Any] = {"rule": rule.ref}
    if rule.levels:
        fact["level"] = draw(st.sampled_from(sorted(rule.levels)))
    if rule.kind == "per_unit":
        fact["quantity"] = draw(quantities(rule))
    if rule.window_years is not None or draw(st.booleans()):
        fact["date"] = iso(draw(edge_dates(on, rule.window_years)))
    return fact


@st.composite
def deduction_fact(draw: st.DrawFn, review: dt.date) -> dict[str, Any]:
    code = draw(st.sampled_from(DEDUCTIONS))
    deduction = CITY.deductions_by_code[code]
    date = draw(edge_dates(review, deduction.window_years))
    fact: dict[str, Any] = {"rule": code, "date": iso(date)}
    act = draw(st.sampled_from([None, "A1", "A2", 7]))
    if act is not None:
        fact["act"] = act
    if deduction.while_listed and draw(st.booleans()):
        until = draw(st.sampled_from([review, review + dt.timedelta(days=1), date]))
        fact["until"] = iso(max(until, date))
    return fact


@st.composite
def edge_profile(draw: st.DrawFn, on: dt.date, review: dt.date) -> dict[str, Any]:
    birth = draw(
        st.one_of(
            st.none(),
            st.sampled_from(
                [
                    years_before(on, 60),
                    years_before(on, 61) + dt.timedelta(days=1),
                    years_before(on, 55),
                    years_before(on, 18),
                    on + dt.timedelta(days=1),
                    dt.date(1964, 2, 29),
                ]
            ),
            st.dates(dt.date(1940, 1, 1), on + dt.timedelta(days=30)),
        )
    )
    registered = draw(
        st.one_of(
            st.none(),
            st.sampled_from([on, on + dt.timedelta(days=1), dt.date(2016, 1, 31)]),
            st.dates(dt.date(1990, 1, 1), on + dt.timedelta(days=60)),
        )
    )
    profile: dict[str, Any] = {
        "birth_date": iso(birth),
        "education": draw(st.one_of(st.none(), st.sampled_from(EDUCATION))),
        "skills": draw(st.lists(st.sampled_from(SKILLS), max_size=4)),
        "social_insurance_months": draw(st.one_of(st.none(), st.integers(0, 400))),
        "residence_registered_on": iso(registered),
        "residence_months": draw(st.one_of(st.none(), st.integers(0, 300))),
        "city": draw(st.lists(city_fact(on), max_size=12)),
        "deductions": draw(st.lists(deduction_fact(review), max_size=6)),
    }
    if draw(st.booleans()):  # a rich profile: every rule at least once, caps are reached
        profile["city"] += [draw(city_fact(on, rule)) for rule in FACT_RULES]
        profile["city"] += [draw(city_fact(on)) for _ in range(20)]
    return profile


@st.composite
def population(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dt.date, dt.date]:
    on = draw(EVALUATION_DATES)
    review = on + dt.timedelta(days=draw(st.sampled_from([0, 1, 19, 366])))
    profiles = draw(st.lists(edge_profile(on, review), min_size=1, max_size=8))
    return profiles, on, review


@EDGES
@given(population(), st.integers(1, 5))
def test_bulk_equals_engine_on_edge_cases(drawn, block):
    profiles, on, review = drawn
    assert_same(profiles, on, review, block)


def test_an_empty_population_and_empty_profiles():
    on = dt.date(2025, 6, 2)
    assert evaluate_bulk(Population.from_profiles([]), on, None, POLICIES).total.size == 0
    assert_same([{}, {"city": [], "deductions": []}, {}], on, on, block=2)


def test_negative_totals_are_zero_and_deductions_accumulate_across_acts():
    on = dt.date(2025, 6, 2)
    crimes = [{"rule": "crime_intentional", "act": f"A{i}", "date": "2024-01-01"} for i in range(3)]
    bulk = evaluate_bulk(Population.from_profiles([{"deductions": crimes}]), on, on, POLICIES)
    assert money(bulk.deductions_total[0]) == "300.00"
    assert money(bulk.total[0]) == "0.00"


# --- the vectorised date arithmetic -----------------------------------------------------------


@FAST
@given(st.lists(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), max_size=40), st.dates())
def test_full_months_equals_the_engine(starts, on):
    array = np.array([days(d) for d in starts], np.int64)
    assert full_months(array, on).tolist() == [engine_full_months(d, on) for d in starts]


def test_full_months_at_month_ends():
    starts = [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2023, 3, 31), dt.date(2025, 1, 1)]
    for on in (
        dt.date(2024, 2, 28),
        dt.date(2024, 2, 29),
        dt.date(2025, 2, 28),
        dt.date(2025, 4, 30),
    ):
        array = np.array([days(d) for d in starts], np.int64)
        assert full_months(array, on).tolist() == [engine_full_months(d, on) for d in starts]


# --- refusing what the engine refuses -------------------------------------------------------


@pytest.mark.parametrize(
    ("fact", "suffix"),
    [
        ({"rule": "charity.nothing"}, "rule"),
        ({"rule": "education.degree"}, "rule"),  # scored from the profile field
        ({"rule": "honours.commendation", "date": "2024-01-01"}, "level"),
        ({"rule": "honours.commendation", "level": "galaxy", "date": "2024-01-01"}, "level"),
        ({"rule": "residence.home_owner", "level": "A"}, "level"),
        ({"rule": "pension_insurance.months"}, "quantity"),
        ({"rule": "residence.home_owner", "quantity": 3}, "quantity"),
        ({"rule": "charity.blood_donation"}, "date"),
    ],
)
def test_invalid_city_facts_are_refused_naming_the_field(fact, suffix):
    good = {"city": [{"rule": "residence.home_owner"}]}
    bad = {"city": [{"rule": "residence.home_owner"}, fact]}
    on = dt.date(2025, 6, 2)
    with pytest.raises(ProfileError) as engine_error:
        evaluate(bad, on, None, POLICIES)
    with pytest.raises(ProfileError) as bulk_error:
        evaluate_bulk(Population.from_profiles([good, good, bad]), on, None, POLICIES)
    assert engine_error.value.field == f"city[1].{suffix}"
    assert bulk_error.value.field == f"profiles[2].city[1].{suffix}"
    assert bulk_error.value.reason == engine_error.value.reason


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"education": "kindergarten"}, "profiles[0].education"),
        ({"skills": ["title_junior", "astronaut"]}, "profiles[0].skills[1]"),
        (
            {"deductions": [{"rule": "jaywalking", "date": "2024-01-01"}]},
            "profiles[0].deductions[0].rule",
        ),
        (
            {"deductions": [{"rule": "usury", "date": "2024-01-01", "until": "2024-02-01"}]},
            "profiles[0].deductions[0].until",
        ),
    ],
)
def test_invalid_codes_and_deductions_are_refused(profile, field):
    with pytest.raises(ProfileError) as caught:
        evaluate_bulk(Population.from_profiles([profile]), dt.date(2025, 6, 2), None, POLICIES)
    assert caught.value.field == field


def test_a_quantity_finer_than_hundredths_is_refused_not_rounded():
    profile = {"city": [{"rule": "pension_insurance.months", "quantity": Decimal("4.005")}]}
    with pytest.raises(NotExact):
        Population.from_profiles([profile])
