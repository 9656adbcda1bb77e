"""Stored facts → score profile: build_profile is the inverse of facts_from_profile."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from jifen.engine import evaluate
from jifen.facts.profile import build_profile, facts_from_profile, profile_quantity
from jifen.scores.bulk import engine_summary
from jifen.scores.policies import current_policies
from jifen.synthetic.profiles import generate_profile

POLICIES = current_policies()
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def as_facts(rows: list[dict], *, start: int = 1, superseded: set[int] = frozenset()) -> list:
    return [
        SimpleNamespace(id=start + i, superseded_at=NOW if start + i in superseded else None, **r)
        for i, r in enumerate(rows)
    ]


@settings(max_examples=80, deadline=None, database=None)
@given(st.integers(0, 2**32 - 1), st.dates(dt.date(2025, 2, 1), dt.date(2029, 12, 31)))
def test_a_profile_survives_the_fact_store(seed, on):
    profile = generate_profile(random.Random(seed), on)
    resident = SimpleNamespace(birth_date=dt.date(1900, 1, 1))  # every profile has its own
    facts = as_facts(facts_from_profile(profile, key_prefix="t"))
    rebuilt, ids = build_profile(resident, reversed(facts))  # the order of facts never matters
    assert ids == sorted(f.id for f in facts)
    original = evaluate(profile, on, None, POLICIES).as_dict()
    again = evaluate(rebuilt, on, None, POLICIES).as_dict()
    assert engine_summary(again) == engine_summary(original)
    assert again["deductions"]["acts"] == original["deductions"]["acts"]
    # Every city fact and deduction is quoted by its id (summed quantities list their facts).
    quoted = set()
    for line in again["explanation"]:
        quoted.add(line["facts"].get("source"))
        quoted.update(f.get("source") for f in line["facts"].get("facts", []))
    assert {f"fact:{f.id}" for f in facts if f.kind != "provincial"} <= quoted


def test_superseded_facts_are_left_out_unless_asked_for():
    rows = facts_from_profile(
        {"education": "master", "city": [{"rule": "residence.home_owner"}]}, key_prefix="t"
    )
    facts = as_facts(rows, superseded={2})
    profile, ids = build_profile(SimpleNamespace(birth_date=dt.date(1990, 1, 1)), facts)
    assert profile["city"] == [] and ids == [1]
    profile, ids = build_profile(
        SimpleNamespace(birth_date=dt.date(1990, 1, 1)), facts, include_superseded=True
    )
    assert profile["city"] == [{"rule": "residence.home_owner", "source": "fact:2"}]
    assert ids == [1, 2]


def test_the_birth_date_falls_back_to_the_identity_number_and_the_latest_fact_wins():
    rows = facts_from_profile({"social_insurance_months": 10}, key_prefix="t")
    rows += facts_from_profile({"social_insurance_months": 12}, key_prefix="t")
    profile, ids = build_profile(SimpleNamespace(birth_date=dt.date(1990, 5, 1)), as_facts(rows))
    assert profile["birth_date"] == "1990-05-01"
    assert profile["social_insurance_months"] == 12 and ids == [2]


def test_quantities_keep_their_hundredths():
    assert profile_quantity(Decimal("36.00")) == 36
    assert isinstance(profile_quantity(Decimal("36.00")), int)
    assert str(profile_quantity(Decimal("12.50"))) == "12.5"
    assert str(profile_quantity(Decimal("100.00"))) == "100"
