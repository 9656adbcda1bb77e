"""Every invalid score profile is refused with a ProfileError naming the offending field.

Format: shared/docs/score-profile.md ("Unknown keys, unknown codes, impossible dates, negative
quantities are errors that name the offending field; nothing is silently ignored").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from jifen.engine import ProfileError, Status, evaluate, load_policies, parse_profile

ON = dt.date(2025, 6, 1)
POLICIES = load_policies()


def refused(profile: Any) -> ProfileError:
    """The ProfileError raised while scoring ``profile`` on ``ON``."""
    with pytest.raises(ProfileError) as info:
        evaluate(profile, ON, None, POLICIES)
    err = info.value
    # The message starts with the field, so every front door can show it as is.
    assert str(err).startswith(f"{err.field}: ")
    assert err.reason
    return err


def city(*facts: dict[str, Any]) -> dict[str, Any]:
    return {"city": list(facts)}


def deductions(*facts: dict[str, Any]) -> dict[str, Any]:
    return {"deductions": list(facts)}


VALID_FACT = {"rule": "residence.home_owner"}
VALID_DEDUCTION = {"rule": "administrative_detention", "act": "A1", "date": "2024-03-01"}

CASES: list[tuple[str, Any, str]] = [
    # --- structure
    ("unknown top-level key", {"name": "Zhang San"}, "name"),
    ("unknown top-level key next to valid ones", {"birth_date": "1990-01-01", "sex": "m"}, "sex"),
    ("unknown key in a city fact", city(VALID_FACT, {**VALID_FACT, "points": 5}), "city[1].points"),
    (
        "unknown key in a deduction fact",
        deductions({**VALID_DEDUCTION, "points": 20}),
        "deductions[0].points",
    ),
    ("city is not a list", {"city": {"rule": "residence.home_owner"}}, "city"),
    ("city is a string", {"city": "residence.home_owner"}, "city"),
    ("deductions is not a list", {"deductions": VALID_DEDUCTION}, "deductions"),
    ("skills is not a list", {"skills": "vocational_level_3"}, "skills"),
    ("a city fact is not an object", city("residence.home_owner"), "city[0]"),
    ("a deduction fact is not an object", deductions(["usury"]), "deductions[0]"),
    ("city fact without rule", city({"level": "county", "date": "2024-01-01"}), "city[0].rule"),
    (
        "deduction without rule",
        deductions({"act": "A", "date": "2024-01-01"}),
        "deductions[0].rule",
    ),
    # --- codes
    ("unknown education code", {"education": "phd"}, "education"),
    ("education is not a string", {"education": 5}, "education"),
    ("unknown skill code", {"skills": ["vocational_level_3", "wizard"]}, "skills[1]"),
    ("skill is not a string", {"skills": ["title_junior", 3]}, "skills[1]"),
    ("unknown city rule", city(VALID_FACT, {"rule": "residence.tenant"}), "city[1].rule"),
    ("city rule without its item", city({"rule": "home_owner"}), "city[0].rule"),
    (
        "deduction code as a city rule",
        city({"rule": "usury", "date": "2024-01-01"}),
        "city[0].rule",
    ),
    (
        "unknown deduction code",
        deductions({"rule": "speeding", "date": "2024-01-01"}),
        "deductions[0].rule",
    ),
    (
        "a city rule as a deduction",
        deductions({"rule": "charity.blood_donation", "date": "2024-01-01"}),
        "deductions[0].rule",
    ),
    (
        "education.degree given as a city fact",
        city({"rule": "education.degree", "level": "bachelor"}),
        "city[0].rule",
    ),
    # --- levels
    (
        "missing level",
        city({"rule": "honours.commendation", "date": "2024-01-01"}),
        "city[0].level",
    ),
    (
        "null level",
        city({"rule": "talent.talent_code", "level": None}),
        "city[0].level",
    ),
    (
        "unknown level",
        city({"rule": "innovation.patent", "level": "software", "date": "2024-01-01"}),
        "city[0].level",
    ),
    (
        "a level of another rule",
        city({"rule": "talent.talent_code", "level": "county"}),
        "city[0].level",
    ),
    (
        "level on a rule without levels",
        city({"rule": "charity.blood_donation", "level": "county", "date": "2024-01-01"}),
        "city[0].level",
    ),
    ("level on a flag", city({"rule": "residence.home_owner", "level": "A"}), "city[0].level"),
    ("level is not a string", city({"rule": "talent.talent_code", "level": 1}), "city[0].level"),
    # --- quantities
    (
        "missing quantity for a per_unit rule",
        city({"rule": "pension_insurance.months"}),
        "city[0].quantity",
    ),
    (
        "missing quantity for a windowed per_unit rule",
        city({"rule": "income_tax.tax_paid", "date": "2025-03-31"}),
        "city[0].quantity",
    ),
    (
        "quantity on a flag",
        city({"rule": "residence.home_owner", "quantity": 1}),
        "city[0].quantity",
    ),
    (
        "quantity on an each rule",
        city({"rule": "charity.blood_donation", "quantity": 3, "date": "2024-01-01"}),
        "city[0].quantity",
    ),
    (
        "quantity on a level rule",
        city({"rule": "talent.talent_code", "level": "A", "quantity": 1}),
        "city[0].quantity",
    ),
    (
        "negative quantity",
        city({"rule": "pension_insurance.months", "quantity": -1}),
        "city[0].quantity",
    ),
    (
        "negative decimal quantity",
        city({"rule": "housing_fund.months", "quantity": Decimal("-0.5")}),
        "city[0].quantity",
    ),
    (
        "boolean as a quantity",
        city({"rule": "pension_insurance.months", "quantity": True}),
        "city[0].quantity",
    ),
    (
        "string as a quantity",
        city({"rule": "pension_insurance.months", "quantity": "40"}),
        "city[0].quantity",
    ),
    (
        "NaN as a quantity",
        city({"rule": "pension_insurance.months", "quantity": float("nan")}),
        "city[0].quantity",
    ),
    (
        "infinite quantity",
        city({"rule": "pension_insurance.months", "quantity": float("inf")}),
        "city[0].quantity",
    ),
    (
        "negative social insurance months",
        {"social_insurance_months": -1},
        "social_insurance_months",
    ),
    ("negative residence months", {"residence_months": -3}, "residence_months"),
    (
        "non-integer social insurance months",
        {"social_insurance_months": 37.5},
        "social_insurance_months",
    ),
    (
        "non-integer social insurance months (Decimal)",
        {"social_insurance_months": Decimal("37.5")},
        "social_insurance_months",
    ),
    ("non-integer residence months", {"residence_months": 0.25}, "residence_months"),
    (
        "boolean social insurance months",
        {"social_insurance_months": True},
        "social_insurance_months",
    ),
    (
        "string social insurance months",
        {"social_insurance_months": "37"},
        "social_insurance_months",
    ),
    # --- dates
    (
        "missing date for a windowed rule",
        city({"rule": "charity.blood_donation"}),
        "city[0].date",
    ),
    (
        "missing date for a windowed level rule",
        city({"rule": "innovation.patent", "level": "invention"}),
        "city[0].date",
    ),
    (
        "missing date for a windowed per_unit rule",
        city({"rule": "charity.volunteer_hours", "quantity": 35}),
        "city[0].date",
    ),
    (
        "missing date on a deduction",
        deductions({"rule": "usury", "act": "A"}),
        "deductions[0].date",
    ),
    ("null date on a deduction", deductions({"rule": "usury", "date": None}), "deductions[0].date"),
    (
        "until on a deduction that is not 'while listed'",
        deductions({"rule": "usury", "date": "2023-01-01", "until": "2024-01-01"}),
        "deductions[0].until",
    ),
    (
        "until before the listing date",
        deductions({"rule": "dishonest_debtor", "date": "2024-01-01", "until": "2023-12-31"}),
        "deductions[0].until",
    ),
    ("impossible birth date", {"birth_date": "2023-02-30"}, "birth_date"),
    (
        "impossible registration date",
        {"residence_registered_on": "2023-13-01"},
        "residence_registered_on",
    ),
    (
        "impossible fact date",
        city({"rule": "charity.blood_donation", "date": "2023-02-30"}),
        "city[0].date",
    ),
    (
        "impossible deduction date",
        deductions({"rule": "usury", "date": "2023-02-29"}),
        "deductions[0].date",
    ),
    (
        "impossible until",
        deductions({"rule": "dishonest_debtor", "date": "2023-01-01", "until": "2023-04-31"}),
        "deductions[0].until",
    ),
    ("date with slashes", {"birth_date": "2023/02/01"}, "birth_date"),
    ("date without separators", {"birth_date": "20230201"}, "birth_date"),
    ("date with one-digit month", {"birth_date": "2023-2-01"}, "birth_date"),
    ("day-month-year date", {"birth_date": "01-02-2023"}, "birth_date"),
    ("week date", {"birth_date": "2023-W05-3"}, "birth_date"),
    ("date as a number", {"birth_date": 20230201}, "birth_date"),
    ("empty date", {"birth_date": ""}, "birth_date"),
    (
        "badly written fact date",
        city({"rule": "charity.blood_donation", "date": "2023/02/01"}),
        "city[0].date",
    ),
    (
        "badly written deduction date",
        deductions({"rule": "usury", "date": "20230201"}),
        "deductions[0].date",
    ),
    ("date and time", {"birth_date": "2023-02-01T10:00:00"}, "birth_date"),
    ("date and time with a space", {"birth_date": "2023-02-01 00:00"}, "birth_date"),
    ("date with a zone", {"birth_date": "2023-02-01Z"}, "birth_date"),
    ("date and time with offset", {"birth_date": "2023-02-01T00:00:00+08:00"}, "birth_date"),
    ("a datetime object", {"birth_date": dt.datetime(2023, 2, 1, 10, 0)}, "birth_date"),
    (
        "date and time on a fact",
        city({"rule": "charity.blood_donation", "date": "2024-05-01T08:00:00"}),
        "city[0].date",
    ),
    (
        "date and time on a deduction until",
        deductions({"rule": "dishonest_debtor", "date": "2023-01-01", "until": "2024-01-01T00:00"}),
        "deductions[0].until",
    ),
    # --- other fields
    ("act is a boolean", deductions({**VALID_DEDUCTION, "act": True}), "deductions[0].act"),
    ("act is empty", deductions({**VALID_DEDUCTION, "act": ""}), "deductions[0].act"),
    ("source is not a string", city({**VALID_FACT, "source": 5}), "city[0].source"),
]


@pytest.mark.parametrize(
    ("profile", "field"),
    [pytest.param(profile, field, id=name) for name, profile, field in CASES],
)
def test_invalid_profile_names_the_field(profile: Any, field: str) -> None:
    assert refused(profile).field == field


@pytest.mark.parametrize("profile", [[], "profile", 42, None, [{"birth_date": "1990-01-01"}]])
def test_a_profile_that_is_not_an_object_is_refused(profile: Any) -> None:
    err = refused(profile)
    assert err.field == "profile"
    with pytest.raises(ProfileError):
        parse_profile(profile)


def test_the_first_bad_fact_is_named_by_its_index() -> None:
    good = {"rule": "charity.blood_donation", "date": "2024-05-01"}
    bad = {"rule": "charity.blood_donation", "date": "2024-05-32"}
    assert refused(city(good, good, good, bad)).field == "city[3].date"


def test_structural_errors_are_raised_by_parse_profile_alone() -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile({"deductions": [{"rule": "usury"}]})
    assert info.value.field == "deductions[0].date"


def test_unknown_codes_are_checked_against_the_policy_in_force() -> None:
    # Parsing alone accepts any code; the policy in force decides which codes exist.
    profile = parse_profile({"skills": ["title_junior", "astronaut"]})
    assert profile.skills == ("title_junior", "astronaut")
    with pytest.raises(ProfileError) as info:
        evaluate(profile, ON, None, POLICIES)
    assert info.value.field == "skills[1]"
    assert "astronaut" in info.value.reason


def test_reason_lists_the_allowed_levels() -> None:
    err = refused(city({"rule": "talent.talent_code", "level": "D"}))
    assert "'D'" in err.reason
    for level in ("A", "B", "C"):
        assert level in err.reason


def test_empty_profile_is_valid_and_scores_zero() -> None:
    result = evaluate({}, ON, None, POLICIES)
    assert result.total == 0


def test_null_fields_score_zero_with_no_data_lines() -> None:
    profile = {
        "birth_date": None,
        "education": None,
        "skills": None,
        "social_insurance_months": None,
        "residence_registered_on": None,
        "residence_months": None,
        "city": None,
        "deductions": None,
    }
    result = evaluate(profile, ON, None, POLICIES)
    assert result.total == 0
    assert result.provincial_total == 0
    assert result.city_bonus_total == 0
    assert result.deductions_total == 0
    assert result.acts == ()
    assert set(result.provincial_items.values()) == {Decimal(0)}
    assert set(result.city_items.values()) == {Decimal(0)}
    no_data = {
        (line.section, line.item) for line in result.explanation if line.status == Status.NO_DATA
    }
    for item in ("age", "education", "skill", "social_insurance", "residence"):
        assert ("provincial", item) in no_data
    # The city education item reads the same (missing) education fact.
    assert ("city", "education") in no_data
    for line in result.explanation:
        if line.status == Status.NO_DATA:
            assert line.points == 0
            assert line.reason


def test_valid_profile_of_the_format_document_scores() -> None:
    profile = {
        "birth_date": "1990-05-01",
        "education": "bachelor",
        "skills": ["vocational_level_3", "title_junior"],
        "social_insurance_months": 37,
        "residence_registered_on": "2019-03-15",
        "residence_months": None,
        "city": [
            {"rule": "residence.registered_years", "quantity": 5},
            {"rule": "residence.home_owner"},
            {"rule": "pension_insurance.months", "quantity": 40},
            {"rule": "employment.frontline_post"},
            {"rule": "charity.blood_donation", "date": "2024-05-01"},
            {"rule": "honours.commendation", "level": "county", "date": "2021-09-01"},
            {"rule": "innovation.patent", "level": "invention", "date": "2023-02-01"},
            {"rule": "income_tax.tax_paid", "quantity": 4500, "date": "2025-03-31"},
        ],
        "deductions": [
            {"rule": "administrative_detention", "act": "A1", "date": "2023-03-01"},
            {"rule": "public_order_penalty", "act": "A1", "date": "2023-03-01"},
        ],
    }
    result = evaluate(profile, ON, None, POLICIES)
    assert result.deductions_total == Decimal(20)
    assert result.total > 0


def test_whole_decimal_months_are_accepted() -> None:
    result = evaluate({"social_insurance_months": Decimal("40.0")}, ON, None, POLICIES)
    assert result.provincial_items["social_insurance"] == Decimal(20)


def test_leap_day_is_a_possible_date() -> None:
    result = evaluate({"birth_date": "2000-02-29"}, ON, None, POLICIES)
    assert result.provincial_items["age"] == Decimal(20)
