"""Fixtures of the simulation tests: a small population with synthetic facts (through the
real fact service), a city-policy draft through the policies services, and a scenario."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from jifen.policies.content import load_text
from jifen.policies.services import draft_from_in_force, save_draft
from jifen.scores.policies import current_policies
from jifen.synthetic.profiles import generate_profile
from tests.factories import CHINA_TZ, make_resident, make_user
from tests.rankings.conftest import _fast, define  # noqa: F401 - fixtures
from tests.scores.conftest import give_facts  # noqa: F401 - fixture

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=CHINA_TZ)
ON = NOW.date()
TOWNS = ("wutong", "puyuan", "wuzhen")


@pytest.fixture(autouse=True)
def _fresh_policies():
    current_policies.cache_clear()
    yield
    current_policies.cache_clear()


@pytest.fixture
def center(db):
    return make_user("center")


@pytest.fixture
def residents(db, give_facts):  # noqa: F811
    """30 residents in three towns with synthetic facts (some with deductions)."""
    rng = random.Random(6)
    people = []
    for i in range(30):
        profile = generate_profile(rng, ON)
        resident = make_resident(
            birth_date=dt.date.fromisoformat(profile["birth_date"]),
            town=TOWNS[i % 3],
            now=NOW,
        )
        give_facts(resident, profile, now=NOW)
        people.append(resident)
    return people


def change(data: dict) -> dict:
    """The draft's change: registered years count 3 points instead of 2 (cap 20 → 30, item
    cap 40 → 50), and a bachelor's degree is worth 5 city points instead of 10."""
    for item in data["items"]:
        if item["code"] == "education":
            item["rules"][0]["levels"]["bachelor"] = Decimal(5)
        if item["code"] == "residence":
            item["cap"] = Decimal(50)
            for rule in item["rules"]:
                if rule["code"] == "registered_years":
                    rule["points"] = Decimal(3)
                    rule["cap"] = Decimal(30)
    return data


@pytest.fixture
def draft(center):
    version = draft_from_in_force(scope="tongxiang", user=center, now=NOW)
    data = change(load_text(version.text, "draft.yaml"))
    return save_draft(version, data, user=center, now=NOW)
