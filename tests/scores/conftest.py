"""Fixtures of the stored-score tests: residents with facts, through the real services."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from jifen.facts.models import Fact, FactSource
from jifen.facts.profile import facts_from_profile
from jifen.facts.services import apply_fact
from jifen.org.models import Department
from jifen.residents.models import Resident
from jifen.scores.policies import current_policies

#: A profile with something in every section (format v1), for an evaluation on 2025-06-02.
PROFILE: dict[str, Any] = {
    "birth_date": "1990-05-01",
    "education": "bachelor",
    "skills": ["vocational_level_3", "title_junior"],
    "social_insurance_months": 37,
    "residence_registered_on": "2019-03-15",
    "city": [
        {"rule": "residence.registered_years", "quantity": 5},
        {"rule": "residence.home_owner"},
        {"rule": "pension_insurance.months", "quantity": 40},
        {"rule": "charity.blood_donation", "date": "2024-05-01"},
        {"rule": "honours.commendation", "level": "county", "date": "2021-09-01"},
        {"rule": "income_tax.tax_paid", "quantity": 4500, "date": "2025-03-31"},
        {"rule": "charity.volunteer_hours", "quantity": 12.5, "date": "2024-01-10"},
    ],
    "deductions": [
        {"rule": "administrative_detention", "act": "A1", "date": "2023-03-01"},
        {"rule": "public_order_penalty", "act": "A1", "date": "2023-03-01"},
    ],
}


def department_for(code: str) -> Department:
    """The first department the policy makes responsible for a rule or field."""
    selection = current_policies().select(dt.date(2025, 6, 2))
    for policy in (selection.provincial, selection.city):
        for rule in policy.rules.values():
            if code in (rule.ref, rule.field):
                return Department.objects.get(code=rule.departments[0])
        if code in policy.deductions_by_code:
            return Department.objects.get(code=policy.deductions_by_code[code].departments[0])
    raise LookupError(code)


@pytest.fixture
def profile() -> dict[str, Any]:
    """A copy of :data:`PROFILE`."""
    return copy.deepcopy(PROFILE)


@pytest.fixture
def give_facts() -> Callable[..., list[Fact]]:
    """``give_facts(resident, profile, now=...)``: record a profile's facts with apply_fact."""

    def give(resident: Resident, profile: dict[str, Any], *, now: dt.datetime) -> list[Fact]:
        for row in facts_from_profile(profile, key_prefix="test"):
            code = row["code"]
            department = department_for(
                {"residence_registered_on": "residence_months"}.get(code, code)
            )
            apply_fact(resident, department=department, source=FactSource.FEED, now=now, **row)
        return list(Fact.objects.filter(resident=resident).current())

    return give


@pytest.fixture
def reseeded(transactional_db) -> None:
    """The seeded towns and departments, back after an earlier transactional test's flush."""
    import importlib

    from django.apps import apps

    seeds = importlib.import_module("jifen.org.migrations.0002_seed_towns_and_departments")
    seeds.seed(apps, None)
