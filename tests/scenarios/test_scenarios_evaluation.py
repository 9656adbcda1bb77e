"""Evaluation on the opening date with deductions from the review date, the points per score
basis, eligibility with reasons, one audit entry per batch, the rankable set."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from jifen.scenarios import services
from jifen.scenarios.errors import NotAllowed
from jifen.scenarios.models import EnrollmentStatus
from jifen.scores.models import Score
from tests.factories import make_resident, make_user
from tests.scenarios.conftest import (
    AFTER,
    BEFORE,
    DURING,
    SCHOOL,
    actions,
    give,
    last_entry,
    scored_resident,
)

pytestmark = pytest.mark.django_db


def evaluated(enrollment, version, center, now=AFTER):
    services.evaluate_enrollments(version, now=now, user=center)
    enrollment.refresh_from_db()
    return enrollment


def test_scores_are_evaluated_on_the_opening_date_with_the_review_date(
    resident, enroll, version, center
):
    current = Score.objects.filter(resident=resident, is_current=True).first()
    enrollment = evaluated(enroll(resident), version, center)
    score = enrollment.score
    assert (score.evaluation_date, score.review_date) == (dt.date(2026, 7, 1), dt.date(2026, 7, 20))
    assert score.is_current is False
    # The resident's current score is left alone.
    assert Score.objects.filter(resident=resident, is_current=True).first() == current
    # age 20 + education 10 + social insurance 30 (capped) + city degree 10
    assert enrollment.points == Decimal("70.00")
    assert enrollment.breakdown["provincial.age"] == "20.00"
    assert enrollment.breakdown["provincial.social_insurance"] == "30.00"
    assert enrollment.breakdown["city.education"] == "10.00"
    assert enrollment.breakdown["deductions"] == "0.00"
    assert enrollment.tie_values == {
        "provincial_total": "60.00",
        "item:provincial.social_insurance": "30.00",
        "applied_at": "2026-07-02T10:00:00+08:00",
    }
    assert enrollment.status == EnrollmentStatus.ELIGIBLE
    assert enrollment.eligibility_reasons == []


def test_a_deduction_dated_between_the_evaluation_and_the_review_date_counts(
    resident, enroll, version, center
):
    give(
        resident,
        "deduction",
        "administrative_detention",
        "psb:A1",
        act="A1",
        date=dt.date(2026, 7, 10),
        department="public_security_bureau",
        now=DURING,
    )
    give(
        resident,
        "deduction",
        "administrative_detention",
        "psb:A2",
        act="A2",
        date=dt.date(2026, 7, 25),
        department="public_security_bureau",
        now=AFTER,
    )
    enrollment = evaluated(enroll(resident), version, center)
    assert enrollment.breakdown["deductions"] == "-20.00"
    assert enrollment.points == Decimal("50.00")
    assert enrollment.score.deductions_total == Decimal("20.00")


def test_a_bonus_fact_after_the_opening_date_does_not_count(resident, enroll, version, center):
    give(
        resident,
        "city",
        "charity.blood_donation",
        "blood:1",
        date=dt.date(2026, 6, 20),
        department="health_commission",
    )
    give(
        resident,
        "city",
        "charity.blood_donation",
        "blood:2",
        date=dt.date(2026, 7, 5),
        department="health_commission",
        now=DURING,
    )
    enrollment = evaluated(enroll(resident), version, center)
    assert enrollment.breakdown["city.charity"] == "2.00"  # only the June donation
    assert enrollment.points == Decimal("72.00")


def test_points_per_listed_items(center, education, resident):
    content = copy.deepcopy(SCHOOL)
    content["score_basis"] = {
        "kind": "items",
        "items": ["provincial.social_insurance", "provincial.education"],
    }
    content["eligibility"] = {
        "min_total": 0,
        "child_birth_from": "2019-09-01",
        "child_birth_to": "2020-08-31",
    }
    version = services.define_scenario(
        code="items",
        name="按项目",
        department=education,
        content=content,
        user=center,
        now=BEFORE,
        publish=True,
    )
    give(
        resident,
        "deduction",
        "administrative_detention",
        "psb:A1",
        act="A1",
        date=dt.date(2026, 7, 10),
        department="public_security_bureau",
        now=DURING,
    )
    user = make_user("resident", resident=resident)
    enrollment = services.enroll(
        scenario=version.scenario,
        resident=resident,
        user=user,
        details={"child_birth_date": "2019-12-01"},
        preferences=["school:wuzhen-1"],
        now=DURING,
    )
    enrollment = evaluated(enrollment, version, center)
    assert enrollment.breakdown == {
        "provincial.social_insurance": "30.00",
        "provincial.education": "10.00",
        "deductions": "-20.00",
    }
    assert enrollment.points == Decimal("20.00")


def test_eligibility_reasons(center, enroll, version):
    low = scored_resident(social_months=0)  # 20 + 10 + 0 + 10 = 40
    enrollment = evaluated(enroll(low), version, center)
    assert enrollment.status == EnrollmentStatus.INELIGIBLE
    assert [r["code"] for r in enrollment.eligibility_reasons] == ["scenarios.ineligible.min_total"]
    assert "40.00" in enrollment.eligibility_reasons[0]["message"]
    assert "60.00" in enrollment.eligibility_reasons[0]["message"]


def test_a_permit_not_valid_on_the_evaluation_date_is_a_reason_and_a_blocker(
    center, enroll, version
):
    resident = make_resident(permit=False, birth_date=dt.date(1990, 4, 1))
    enrollment = evaluated(enroll(resident), version, center)
    assert enrollment.status == EnrollmentStatus.BLOCKED
    assert "scenarios.ineligible.permit_not_valid" in [
        r["code"] for r in enrollment.eligibility_reasons
    ]
    assert enrollment.score.status == "lapsed"


def test_minimum_months_of_residence(center, education):
    content = copy.deepcopy(SCHOOL)
    content.update(
        eligibility={"min_total": 0, "min_residence_months": 26},
        preferences=None,
        quotas=[{"key": "flats", "label": "公租房", "places": 5, "town": None}],
    )
    version = services.define_scenario(
        code="housing",
        name="公租房",
        department=education,
        content=content,
        user=center,
        now=BEFORE,
        publish=True,
    )
    # Permits issued on 2024-06-02 (24 full months on 2026-07-01) and 2024-05-01 (26).
    short = scored_resident()
    long = scored_resident(permit_issued_on=dt.date(2024, 5, 1))
    rows = [
        services.enroll(
            scenario=version.scenario,
            resident=r,
            user=make_user("resident", resident=r),
            now=DURING,
        )
        for r in (short, long)
    ]
    services.evaluate_enrollments(version, now=AFTER, user=center)
    for row in rows:
        row.refresh_from_db()
    assert rows[0].status == EnrollmentStatus.INELIGIBLE
    assert rows[0].eligibility_reasons[0]["code"] == "scenarios.ineligible.residence_months"
    message = rows[0].eligibility_reasons[0]["message"]  # stored in the UI language
    assert "24" in message and "26" in message
    assert rows[1].status == EnrollmentStatus.ELIGIBLE


def test_one_audit_entry_per_batch_and_re_evaluation_reuses_the_scores(center, enroll, version):
    rows = [enroll(scored_resident(social_months=m)) for m in (0, 40, 60)]
    outcome = services.evaluate_enrollments(version, now=AFTER, user=center)
    assert outcome.counts() == {
        "evaluated": 3,
        "eligible": 2,
        "ineligible": 1,
        "blocked": 0,
        "not_scored": 0,
    }
    assert actions(version, "enrollment.") == ["enrollment.evaluated"]
    entry = last_entry("enrollment.evaluated")
    assert entry.data["evaluated"] == 3 and entry.data["evaluation_date"] == "2026-07-01"
    assert entry.data["content_hash"] == version.content_hash
    scores = {r.pk: r.score_id for r in (type(r).objects.get(pk=r.pk) for r in rows)}
    services.evaluate_enrollments(version, now=AFTER + dt.timedelta(hours=1), user=center)
    again = {r.pk: type(r).objects.get(pk=r.pk).score_id for r in rows}
    assert again == scores
    assert actions(version, "enrollment.") == ["enrollment.evaluated"] * 2


def test_evaluating_only_some_enrollments(center, enroll, version):
    first, second = enroll(scored_resident()), enroll(scored_resident())
    outcome = services.evaluate_enrollments(version, now=AFTER, enrollments=[second])
    assert outcome.evaluated == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.score is None and second.score is not None
    assert last_entry("enrollment.evaluated").actor_id == "job:scenarios.evaluate"


def test_withdrawn_enrollments_are_not_evaluated(center, enroll, version, resident):
    enrollment = enroll(resident)
    services.withdraw_enrollment(enrollment, user=enrollment.submitted_by, now=DURING)
    assert services.evaluate_enrollments(version, now=AFTER, user=center).evaluated == 0


def test_who_may_evaluate(enroll, version, resident):
    enroll(resident)
    with pytest.raises(NotAllowed):
        services.evaluate_enrollments(
            version, now=AFTER, user=make_user("reviewer", department="court")
        )
    outcome = services.evaluate_enrollments(
        version.scenario, now=AFTER, user=make_user("reviewer", department="education_bureau")
    )
    assert outcome.evaluated == 1 and outcome.versions == [1]


def test_rankable_holds_only_eligible_evaluated_enrollments(center, enroll, version):
    good = enroll(scored_resident())
    enroll(scored_resident(social_months=0))
    enroll(make_resident(permit=False))
    assert list(services.rankable(version)) == []  # nothing evaluated yet
    services.evaluate_enrollments(version, now=AFTER, user=center)
    assert [e.pk for e in services.rankable(version)] == [good.pk]
    assert [e.pk for e in services.rankable(version.scenario)] == [good.pk]
