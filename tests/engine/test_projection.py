"""Score projection (jifen.engine.projection): accrual across the 30-point caps, age bands,
windows ending, the policy version of the projected date, opportunities, the reach date, and
the labelling — a projection is never a score."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
import yaml

from jifen import PROJECT_ROOT
from jifen.engine import PolicySet, ProfileError, ScoreResult, evaluate, load_policies
from jifen.engine.dates import shift_months
from jifen.engine.policy import _DecimalLoader, parse_policy
from jifen.engine.projection import (
    DISCLAIMER,
    Projection,
    ProjectionError,
    date_reaching,
    first_day_outside,
    opportunities,
    project,
    reach,
)
from jifen.engine.result import Status

D = dt.date
FROM = D(2025, 6, 1)


@pytest.fixture(scope="module")
def policies() -> PolicySet:
    return load_policies()


def item(projection: Projection, section: str, code: str) -> Decimal:
    result = projection.projected
    return (result.provincial_items if section == "provincial" else result.city_items)[code]


# --- accrual across the caps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "months", "points"),
    [
        (FROM, 50, "25"),
        (D(2025, 11, 1), 55, "27.5"),
        (D(2026, 3, 31), 59, "29.5"),
        (D(2026, 4, 1), 60, "30"),
        (D(2027, 6, 1), 74, "30"),  # 74 × 0.5 = 37, capped at the item cap 30
    ],
)
def test_social_insurance_months_accrue_up_to_the_30_point_cap(policies, on, months, points):
    p = project({"social_insurance_months": 50}, FROM, on, policies)
    assert item(p, "provincial", "social_insurance") == Decimal(points)
    accrual = next(a for a in p.accruals if a.field == "social_insurance_months")
    assert (accrual.before, accrual.after) == (50, months)
    if months > 60:
        capped = [
            line
            for line in p.projected.explanation
            if line.item == "social_insurance" and line.rule is None
        ]
        assert capped[0].status == Status.CAPPED and "capped at the item cap 30" in capped[0].reason


@pytest.mark.parametrize(
    ("on", "points"),
    [
        (FROM, "29.25"),  # 117 full months since 2015-08-10
        (D(2025, 8, 9), "29.75"),  # 119
        (D(2025, 8, 10), "30"),  # 120: the cap
        (D(2030, 1, 1), "30"),  # far beyond: still 30
    ],
)
def test_residence_from_the_registration_date_accrues_to_the_cap(policies, on, points):
    p = project({"residence_registered_on": "2015-08-10"}, FROM, on, policies)
    assert item(p, "provincial", "residence") == Decimal(points)
    assert any("continues without interruption" in a.en for a in p.assumptions)


def test_residence_months_from_the_feed_keep_accruing(policies):
    p = project({"residence_months": 100}, FROM, D(2026, 6, 1), policies)
    assert item(p, "provincial", "residence") == Decimal("28")  # 112 × 0.25
    p = project({"residence_months": 100}, FROM, D(2027, 6, 1), policies)
    assert item(p, "provincial", "residence") == Decimal("30")  # 124 months, capped


def test_no_insurance_data_does_not_accrue(policies):
    p = project({"birth_date": "1990-01-01"}, FROM, D(2030, 1, 1), policies)
    assert item(p, "provincial", "social_insurance") == 0
    assert item(p, "provincial", "residence") == 0
    assert p.accruals == ()


def test_city_months_and_years_accrue_and_the_item_caps_hold(policies):
    profile = {
        "city": [
            {"rule": "pension_insurance.months", "quantity": 100},
            {"rule": "residence.registered_years", "quantity": 8},
            {"rule": "charity.volunteer_hours", "quantity": 35, "date": "2025-01-01"},
        ]
    }
    p = project(profile, FROM, D(2026, 6, 1), policies)
    assert item(p, "city", "pension_insurance") == Decimal("28")  # 112 × 0.25
    assert item(p, "city", "residence") == Decimal("18")  # 9 years × 2
    assert item(p, "city", "charity") == Decimal("3")  # hours do not accrue by themselves
    later = project(profile, FROM, D(2028, 6, 1), policies)
    assert item(later, "city", "pension_insurance") == Decimal("30")  # 136 months: item cap
    assert item(later, "city", "residence") == Decimal("20")  # 11 years: rule cap 20
    # The accrued months are a fact of the projection, quoted by the engine's explanation.
    facts = [
        line.facts
        for line in p.projected.explanation
        if line.rule == "pension_insurance.months" and line.status == Status.COUNTED
    ]
    assert facts[0]["quantity"] == "112"
    assert any(f.get("source") == "projection:accrual" for f in facts[0]["facts"])


# --- age bands ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "points"),
    [
        ("1985-06-02", FROM, "20"),  # 39
        ("1985-06-02", D(2026, 6, 1), "20"),  # 40
        ("1985-06-02", D(2026, 6, 2), "19"),  # 41
        ("1985-06-02", D(2039, 6, 2), "6"),  # 54
        ("1985-06-02", D(2040, 6, 2), "5"),  # 55
        ("1965-07-01", D(2025, 7, 1), "5"),  # 60
        ("1965-07-01", D(2026, 7, 1), "0"),  # 61: over 60
    ],
)
def test_age_moves_through_the_bands(policies, birth, on, points):
    p = project({"birth_date": birth}, FROM, on, policies)
    assert item(p, "provincial", "age") == Decimal(points)


def test_a_band_change_is_listed_with_its_day(policies):
    p = project({"birth_date": "1985-06-02"}, FROM, D(2027, 6, 2), policies)
    ages = [c for c in p.changes if c.kind == "age"]
    assert [(c.date, c.text.en) for c in ages] == [
        (D(2026, 6, 2), "41 full years on 2026-06-02: age 20 → 19"),
        (D(2027, 6, 2), "42 full years on 2027-06-02: age 19 → 18"),
    ]
    assert "满41周岁" in ages[0].text.zh


# --- windows ------------------------------------------------------------------------------------


def test_a_blood_donation_stops_counting_after_three_years(policies):
    profile = {"city": [{"rule": "charity.blood_donation", "date": "2022-06-01"}]}
    assert first_day_outside(D(2022, 6, 1), 3) == D(2025, 6, 2)
    still = project(profile, FROM, FROM, policies)
    assert item(still, "city", "charity") == 2
    gone = project(profile, FROM, D(2025, 6, 2), policies)
    assert item(gone, "city", "charity") == 0
    assert gone.difference == -2
    lines = [ln for ln in gone.projected.explanation if ln.rule == "charity.blood_donation"]
    assert lines[0].status == Status.OUTSIDE_WINDOW
    change = next(c for c in gone.changes if c.kind == "window_ends")
    assert change.date == D(2025, 6, 2) and change.rule == "charity.blood_donation"


def test_29_february_leaves_its_window_on_1_march(policies):
    assert first_day_outside(D(2024, 2, 29), 3) == D(2027, 3, 1)


def test_a_deduction_window_ends_and_the_points_come_back(policies):
    profile = {
        "birth_date": "1990-01-01",
        "deductions": [{"rule": "administrative_detention", "act": "A1", "date": "2023-03-01"}],
    }
    p = project(profile, FROM, D(2026, 3, 1), policies)
    assert p.projected.deductions_total == 20
    p = project(profile, FROM, D(2026, 3, 2), policies)
    assert p.projected.deductions_total == 0
    assert p.current_total == 0 and p.total == 20
    assert [c.kind for c in p.changes] == ["deduction_ends"]


def test_a_listing_not_lifted_is_assumed_to_stay(policies):
    profile = {"deductions": [{"rule": "dishonest_debtor", "date": "2024-01-01"}]}
    p = project(profile, FROM, D(2030, 1, 1), policies)
    assert p.projected.deductions_total == 50
    assert any("stay listed" in a.en for a in p.assumptions)
    lifted = {"deductions": [{"rule": "dishonest_debtor", "date": "2024-01-01",
                              "until": "2026-01-01"}]}  # fmt: skip
    p = project(lifted, FROM, D(2030, 1, 1), policies)
    assert p.projected.deductions_total == 0
    assert [c.kind for c in p.changes] == ["listing_lifted"]


# --- policy version on the projected date ---------------------------------------------------


def two_city_versions() -> PolicySet:
    folder = PROJECT_ROOT / "policies"

    def read(name: str):
        return yaml.load((folder / name).read_text("utf-8"), Loader=_DecimalLoader)

    provincial = read("zhejiang-2023-07-26.yaml")
    city = read("tongxiang-2025-02-01.yaml")
    old = copy.deepcopy(city)
    old["effective_until"] = D(2025, 12, 31)
    new = copy.deepcopy(city)
    new["id"] = "tongxiang-2026-01-01"
    new["effective_from"] = D(2026, 1, 1)
    for it in new["items"]:
        for rule in it["rules"]:
            if rule["code"] == "home_owner":
                rule["points"] = 30
    return PolicySet(
        [
            parse_policy(provincial, "p.yaml"),
            parse_policy(old, "old.yaml"),
            parse_policy(new, "new.yaml"),
        ]
    )


def test_the_version_in_force_on_the_projected_date_applies():
    policies = two_city_versions()
    profile = {"city": [{"rule": "residence.home_owner"}]}
    before = project(profile, FROM, D(2025, 12, 31), policies)
    assert before.total == 20 and before.selection.city.id == "tongxiang-2025-02-01"
    after = project(profile, FROM, D(2026, 1, 1), policies)
    assert after.total == 30 and after.selection.city.id == "tongxiang-2026-01-01"
    assert after.current_total == 20
    assert any(c.kind == "policy_version" for c in after.changes)
    assert date_reaching(profile, FROM, 25, policies) == D(2026, 1, 1)


# --- labelled output --------------------------------------------------------------------------


def test_the_output_is_labelled_a_projection_never_a_score(policies):
    p = project({"social_insurance_months": 10}, FROM, D(2026, 6, 1), policies)
    assert not isinstance(p, ScoreResult)
    data = json.loads(json.dumps(p.as_dict(), ensure_ascii=False))
    assert data["kind"] == "projection"
    assert data["disclaimer"] == {"en": DISCLAIMER.en, "zh": DISCLAIMER.zh}
    assert "not a score" in data["disclaimer"]["en"] and "预测" in data["disclaimer"]["zh"]
    assert data["label"]["zh"].startswith("预测")
    assert "total" not in data  # only projected_total / current_total
    assert data["projected_total"] == "11.00" and data["current_total"] == "5.00"
    assert data["difference"] == "6.00"
    assert data["projected"]["kind"] == "projection"  # the engine's result, labelled again
    assert data["projected"]["evaluation_date"] == "2026-06-01"
    assert data["assumptions"] and all({"en", "zh"} <= set(a) for a in data["assumptions"])
    assert data["items"] == [
        {
            "section": "provincial",
            "item": "social_insurance",
            "name": {"en": "social insurance", "zh": "缴纳社保"},
            "current": "5.00",
            "projected": "11.00",
            "difference": "6.00",
        }
    ]


def test_the_explanation_is_the_engines(policies):
    profile = {"birth_date": "1985-06-02", "social_insurance_months": 37}
    p = project(profile, FROM, D(2026, 6, 1), policies)
    direct = evaluate(dict(profile, social_insurance_months=49), D(2026, 6, 1), None, policies)
    assert p.projected.as_dict() == direct.as_dict()


def test_a_projection_to_an_earlier_date_names_the_field(policies):
    with pytest.raises(ProjectionError) as exc:
        project({}, FROM, D(2025, 5, 31), policies)
    assert exc.value.field == "on"
    with pytest.raises(ProfileError) as exc2:
        project({"social_insurance_months": -1}, FROM, D(2026, 1, 1), policies)
    assert exc2.value.field == "social_insurance_months"


# --- when will I reach N points? ---------------------------------------------------------------


def test_the_reach_date_is_the_first_day_at_or_above_the_target(policies):
    profile = {"birth_date": "1990-01-01", "social_insurance_months": 0}  # 20 now
    day = date_reaching(profile, FROM, 30, policies)
    assert day == shift_months(FROM, 20)  # 20 months × 0.5 = 10 more points
    assert project(profile, FROM, day, policies).total == 30
    assert project(profile, FROM, day - dt.timedelta(days=1), policies).total < 30


def test_reach_already_reached_or_never(policies):
    profile = {"birth_date": "1990-01-01", "social_insurance_months": 0}
    assert date_reaching(profile, FROM, 20, policies) == FROM
    # 20 age + 30 insurance is the most accrual can give; 51 is never reached.
    assert date_reaching(profile, FROM, 51, policies, horizon_years=10) is None
    answer = reach(profile, FROM, "50", policies)
    data = answer.as_dict()
    assert data["kind"] == "projection" and data["question"] == "reach"
    assert data["reached_on"] == shift_months(FROM, 60).isoformat()
    assert data["projection"]["projected_total"] == "50.00"
    assert not answer.already


def test_reach_with_the_residence_anniversary_and_an_expiring_deduction(policies):
    profile = {
        "residence_registered_on": "2020-01-15",
        "deductions": [{"rule": "public_order_penalty", "date": "2023-03-01"}],
    }
    # Now: 64 months → 16 points, minus 5 → 11. The penalty ends 2026-03-02 (+5).
    assert project(profile, FROM, FROM, policies).total == 11
    assert date_reaching(profile, FROM, Decimal("11.25"), policies) == D(2025, 6, 15)
    # 2026-02-15: 73 months, 18.25 − 5; the penalty's window ends 2026-03-02: 18.25.
    assert date_reaching(profile, FROM, Decimal("18.25"), policies) == D(2026, 3, 2)
    assert date_reaching(profile, FROM, 20, policies) == D(2026, 9, 15)  # 80 months


@pytest.mark.parametrize("target", [-1, "many", True, float("nan")])
def test_a_bad_target_names_the_field(policies, target):
    with pytest.raises(ProjectionError) as exc:
        date_reaching({}, FROM, target, policies)
    assert exc.value.field == "target"


# --- opportunities ------------------------------------------------------------------------------


def test_opportunities_respect_rule_item_and_tier_caps(policies):
    profile = {
        "education": "bachelor",
        "social_insurance_months": 40,
        "city": [
            {"rule": "employment.labour_contract"},
            {"rule": "employment.frontline_post"},
            {"rule": "employment.shortage_occupation"},
            {"rule": "charity.blood_donation", "date": "2025-01-01"},
            {"rule": "charity.blood_donation", "date": "2025-03-01"},
            {"rule": "charity.blood_donation", "date": "2025-05-01"},
        ],
    }
    found = {o.rule: o for o in opportunities(profile, FROM, policies)}
    # employment: 25 of 30 → a middle-manager post would add 5, not 10.
    assert found["employment.middle_manager"].gain == 5
    assert "employment.labour_contract" not in found  # already counted
    # blood donation: 6 of the rule cap 10 → 4 more.
    assert found["charity.blood_donation"].gain == 4
    # education: bachelor gives the provincial maximum; the city degree could add 20.
    assert "education" not in found
    assert found["education.degree"].gain == 20
    assert found["talent.talent_code"].gain == 30
    # Insurance accrues by itself: 20 more months reach the cap.
    insurance = found["social_insurance"]
    assert insurance.kind == "accrual" and insurance.gain == 10 and insurance.months_to_cap == 20
    assert "age" not in found
    # What proof and who reviews it, from the policy.
    patent = found["innovation.patent"]
    assert patent.gain == 30 and patent.window_years == 5
    assert "市场监管局" in patent.proof.zh and "Market Regulation Bureau" in patent.proof.en
    assert "近5年" in patent.proof.zh
    assert patent.as_dict()["levels"][0] == {
        "level": "invention",
        "name": {"en": "invention patent", "zh": "发明专利"},
        "points": "10.00",
    }
    gains = [o.gain for o in opportunities(profile, FROM, policies) if o.kind == "claim"]
    assert gains == sorted(gains, reverse=True)


def test_no_opportunity_beyond_the_city_tier_cap(policies):
    full = {
        "education": "doctorate",
        "city": [
            {"rule": "talent.talent_code", "level": "A"},
            {"rule": "residence.registered_years", "quantity": 10},
            {"rule": "residence.home_owner"},
            {"rule": "pension_insurance.months", "quantity": 120},
            {"rule": "employment.labour_contract"},
            {"rule": "employment.middle_manager"},
            {"rule": "employment.frontline_post"},
            {"rule": "employment.deputy"},
            {"rule": "innovation.patent", "level": "invention", "date": "2025-01-01"},
            {"rule": "innovation.patent", "level": "invention", "date": "2025-02-01"},
            {"rule": "innovation.patent", "level": "invention", "date": "2025-03-01"},
            {"rule": "honours.commendation", "level": "nation", "date": "2025-01-01"},
        ],
    }
    result = evaluate(full, FROM, None, policies)
    assert result.city_bonus_total == 200
    assert [o for o in opportunities(full, FROM, policies) if o.section == "city"] == []
