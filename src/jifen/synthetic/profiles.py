"""Random but plausible score profiles (format v1), seeded and reproducible.

The distributions are rough guesses at Tongxiang's migrant population (mostly working-age,
mostly senior-high or below, a minority with city bonus facts, a few deductions); they exist so
that benchmarks exercise every rule kind with realistic frequencies. Pure: no Django.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

EDUCATION = (
    (None, 3),
    ("below_senior_high", 33),
    ("senior_high", 30),
    ("junior_college", 18),
    ("bachelor", 13),
    ("master", 2.5),
    ("doctorate", 0.5),
)
SKILLS = (
    "vocational_level_5",
    "vocational_level_4",
    "vocational_level_3",
    "vocational_level_2",
    "vocational_level_1",
    "title_junior",
    "title_intermediate",
    "title_senior",
    "special_ability_ordinary",
    "special_ability_advanced",
)
FLAGS = (
    ("residence.home_owner", 0.10),
    ("employment.labour_contract", 0.60),
    ("employment.shortage_occupation", 0.05),
    ("employment.special_operations", 0.06),
    ("employment.middle_manager", 0.04),
    ("employment.frontline_post", 0.08),
    ("employment.sole_proprietor", 0.07),
    ("employment.deputy", 0.003),
    ("employment.cppcc_member", 0.001),
    ("charity.organ_donation_pledge", 0.01),
    ("party_member.organisational_life", 0.04),
)
MONTHS = (
    ("pension_insurance.months", 0.60, 150),
    ("housing_fund.months", 0.30, 100),
    ("medical_insurance.months", 0.50, 150),
)
EACH = (
    ("upskilling.degree_upgrade", 0.03, None, 3),
    ("upskilling.skill_upgrade", 0.06, None, 3),
    ("innovation.patent", 0.01, ("invention", "utility_model", "design"), 8),
    ("innovation.tech_award", 0.002, ("county", "city", "province", "nation"), 8),
    ("honours.commendation", 0.03, ("county", "city", "province", "nation"), 8),
    ("honours.bravery", 0.002, ("county", "city", "province", "nation"), 8),
    ("honours.operation_expert", 0.005, ("county", "city", "province"), 8),
    ("honours.skill_contest", 0.01, ("county", "city", "province"), 8),
    ("charity.blood_donation", 0.10, None, 4),
    ("charity.stem_cell_donation", 0.0005, None, 4),
    ("party_member.vanguard_award", 0.01, None, 4),
)
DEDUCTIONS = (
    ("crime_intentional", 0.002),
    ("crime_other", 0.002),
    ("usury", 0.0005),
    ("dishonest_debtor", 0.004),
    ("petition_disorder", 0.002),
    ("administrative_detention", 0.01),
    ("drug_compulsory", 0.0005),
    ("drug_community", 0.0005),
    ("public_order_penalty", 0.03),
    ("waste_sorting_penalty", 0.03),
)


def _date_back(rng: random.Random, on: dt.date, max_years: float) -> dt.date:
    return on - dt.timedelta(days=rng.randint(0, int(max_years * 365)))


def generate_profile(rng: random.Random, on: dt.date) -> dict[str, Any]:
    """One profile as JSON-ready data (dates as ISO strings, quantities as int)."""
    age_years = min(max(int(rng.gauss(36, 10)), 16), 66)
    birth = on - dt.timedelta(days=age_years * 365 + rng.randint(0, 364))
    education = rng.choices([e for e, _ in EDUCATION], [w for _, w in EDUCATION])[0]
    skills = rng.sample(SKILLS, k=rng.choices((0, 1, 2), (55, 35, 10))[0])
    registered = _date_back(rng, on, min(15, max(age_years - 16, 0)))
    profile: dict[str, Any] = {
        "birth_date": birth.isoformat(),
        "education": education,
        "skills": skills,
        "social_insurance_months": min(int(rng.expovariate(1 / 45)), 300),
        "residence_registered_on": registered.isoformat(),
        "residence_months": None,
        "city": [],
        "deductions": [],
    }
    if rng.random() < 0.3:
        profile["residence_months"] = (on - registered).days // 31
    city = profile["city"]
    if rng.random() < 0.7:
        city.append({"rule": "residence.registered_years", "quantity": rng.randint(0, 15)})
    for rule, share in FLAGS:
        if rng.random() < share:
            city.append({"rule": rule})
    for rule, share, most in MONTHS:
        if rng.random() < share:
            city.append({"rule": rule, "quantity": rng.randint(1, most)})
    if rng.random() < 0.05:
        city.append({"rule": "talent.talent_code", "level": rng.choice("ABC")})
    if rng.random() < 0.4:
        city.append(
            {
                "rule": "income_tax.tax_paid",
                "quantity": rng.randint(0, 30000),
                "date": _date_back(rng, on, 1.5).isoformat(),
            }
        )
    if rng.random() < 0.15:
        city.append(
            {
                "rule": "charity.volunteer_hours",
                "quantity": rng.randint(1, 150),
                "date": _date_back(rng, on, 4).isoformat(),
            }
        )
    if rng.random() < 0.05:
        city.append(
            {
                "rule": "charity.donation",
                "quantity": rng.randint(100, 20000),
                "date": _date_back(rng, on, 4).isoformat(),
            }
        )
    for rule, share, levels, years in EACH:
        if rng.random() < share:
            for _ in range(rng.randint(1, 4)):
                fact = {"rule": rule, "date": _date_back(rng, on, years).isoformat()}
                if levels:
                    fact["level"] = rng.choice(levels)
                city.append(fact)
    acts = 0
    for code, share in DEDUCTIONS:
        if rng.random() < share:
            acts += 1
            fact = {"rule": code, "act": f"A{acts}", "date": _date_back(rng, on, 6).isoformat()}
            if code == "dishonest_debtor" and rng.random() < 0.5:
                fact["until"] = (
                    dt.date.fromisoformat(fact["date"]) + dt.timedelta(days=400)
                ).isoformat()
            profile["deductions"].append(fact)
    if profile["deductions"] and rng.random() < 0.3:
        # The same act reported by a second department under a lesser heading.
        first = profile["deductions"][0]
        profile["deductions"].append(
            {"rule": "public_order_penalty", "act": first["act"], "date": first["date"]}
        )
    return profile


def generate_population(n: int, on: dt.date, seed: int = 20250201) -> list[dict[str, Any]]:
    """``n`` profiles for evaluation date ``on``; the same seed gives the same population."""
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    return [generate_profile(rng, on) for _ in range(n)]
