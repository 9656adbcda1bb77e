"""Stored scores: what a score stores, lapse and restore, other dates, verification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.engine import evaluate
from jifen.facts.models import Fact, FactSource
from jifen.facts.services import apply_fact
from jifen.jobs.models import Job
from jifen.org.models import Department
from jifen.residents.models import PermitStatus
from jifen.residents.services import change_permit_status
from jifen.scores.errors import InvalidFacts
from jifen.scores.models import Score, ScoreStatus
from jifen.scores.policies import current_policies
from jifen.scores.services import (
    INLINE_LIMIT,
    compute_score,
    recompute_batch,
    recompute_resident,
    request_recompute,
    verify_score,
)
from jifen.scores.standing import REASON_NO_PERMIT
from tests.factories import make_resident

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=CHINA)
ON = dt.date(2025, 6, 2)
ACTOR = Actor.system("test:scores")

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(give_facts, profile):
    person = make_resident(birth_date=dt.date(1990, 5, 1), now=NOW - dt.timedelta(days=400))
    give_facts(person, profile, now=NOW - dt.timedelta(days=1))
    return person


def expected(resident, on=ON):
    from jifen.facts.profile import build_profile

    profile, _ = build_profile(resident, Fact.objects.filter(resident=resident))
    return evaluate(profile, on, None, current_policies())


def test_a_stored_score_holds_totals_explanation_policies_dates_and_facts(resident):
    score = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    score.refresh_from_db()
    result = expected(resident)
    selection = current_policies().select(ON)
    assert score.is_current and score.status == ScoreStatus.VALID
    assert (score.evaluation_date, score.review_date, score.computed_at) == (ON, ON, NOW)
    assert score.total == result.total > 0
    assert score.provincial_total == result.provincial_total
    assert score.city_bonus_total == result.city_bonus_total
    assert score.deductions_total == result.deductions_total == Decimal("20.00")
    assert score.provincial_policy == selection.provincial.id == "zhejiang-2023-07-26"
    assert score.provincial_hash == selection.provincial.hash
    assert score.city_policy == selection.city.id
    assert score.city_hash == selection.city.hash
    assert score.reference_values is True  # the city table's values are reference values
    assert score.result["total"] == str(result.total)
    assert score.result["policy"]["hash"] == selection.hash
    assert len(score.result["explanation"]) == len(result.explanation) > 20
    current = Fact.objects.filter(resident=resident).current()
    assert score.fact_ids == sorted(current.values_list("id", flat=True))


def test_each_city_fact_is_quoted_with_its_fact_id_in_the_explanation(resident):
    score = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    text = str(score.result["explanation"])
    for fact in Fact.objects.filter(resident=resident, kind__in=["city", "deduction"]):
        assert f"fact:{fact.pk}" in text


def test_superseded_facts_are_not_scored(resident):
    first = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    old = Fact.objects.get(resident=resident, code="education")
    apply_fact(
        resident,
        kind="provincial",
        code="education",
        key="education",
        level="master",
        department=Department.objects.get(code="zj_education"),
        source=FactSource.FEED,
        now=NOW,
    )
    second = recompute_resident(resident, on=ON, now=NOW + dt.timedelta(minutes=1), actor=ACTOR)
    assert old.pk in first.fact_ids and old.pk not in second.fact_ids
    assert second.result["provincial"]["items"]["education"] == "10.00"
    assert second.result["city"]["items"]["education"] == "20.00"  # master: 20 in the city table
    assert second.total == first.total + 10


def test_compute_score_returns_an_unsaved_score(resident):
    score = compute_score(resident, on=ON, review_date=ON + dt.timedelta(days=10), now=NOW)
    assert score.pk is None and not score.is_current
    assert score.review_date == ON + dt.timedelta(days=10)
    assert Score.objects.count() == 0


def test_one_current_score_per_resident_and_the_old_ones_stay(resident):
    recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    recompute_resident(resident, on=ON + dt.timedelta(days=1), now=NOW, actor=ACTOR)
    recompute_resident(resident, on=ON + dt.timedelta(days=40), now=NOW, actor=ACTOR)
    scores = Score.objects.filter(resident=resident)
    assert scores.count() == 3
    assert scores.filter(is_current=True).get().evaluation_date == ON + dt.timedelta(days=40)


def test_recomputing_with_nothing_changed_stores_nothing_new(resident):
    first = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    again = recompute_resident(resident, on=ON, now=NOW + dt.timedelta(hours=1), actor=ACTOR)
    assert again.pk == first.pk
    assert Score.objects.filter(resident=resident).count() == 1


def test_a_score_for_another_evaluation_date_leaves_the_current_one(resident):
    current = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    opening = dt.date(2025, 9, 1)
    other = recompute_resident(resident, on=opening, now=NOW, actor=ACTOR, current=False)
    current.refresh_from_db()
    assert current.is_current and not other.is_current
    assert other.evaluation_date == opening and other.pk != current.pk
    # Residence months and social insurance months grow with the evaluation date.
    assert other.result["provincial"]["items"]["residence"] != "0.00"
    assert Score.objects.get(resident=resident, is_current=True).pk == current.pk
    # The same evaluation again is not stored twice.
    again = recompute_resident(resident, on=opening, now=NOW, actor=ACTOR, current=False)
    assert again.pk == other.pk


def test_verify_score_reproduces_the_stored_result(resident):
    score = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    stored = Score.objects.get(pk=score.pk)
    assert verify_score(stored)


def test_verify_score_holds_after_the_facts_are_superseded(resident):
    score = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    apply_fact(
        resident,
        kind="provincial",
        code="social_insurance_months",
        key="social_insurance_months",
        quantity=60,
        department=Department.objects.get(code="zj_hrss"),
        source=FactSource.FEED,
        now=NOW + dt.timedelta(days=3),
    )
    newer = recompute_resident(resident, on=ON, now=NOW + dt.timedelta(days=3), actor=ACTOR)
    assert newer.pk != score.pk
    assert verify_score(Score.objects.get(pk=score.pk))
    assert verify_score(Score.objects.get(pk=newer.pk))


def test_verify_score_detects_a_changed_result_or_hash(resident):
    score = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    tampered = Score.objects.get(pk=score.pk)
    tampered.result["explanation"][0]["points"] = "99.00"
    assert not verify_score(tampered)
    tampered = Score.objects.get(pk=score.pk)
    tampered.total += 1
    assert not verify_score(tampered)
    tampered = Score.objects.get(pk=score.pk)
    tampered.city_hash = "0" * 64
    assert not verify_score(tampered)
    tampered = Score.objects.get(pk=score.pk)
    tampered.fact_ids = tampered.fact_ids[:-1]  # a deduction left out
    assert not verify_score(tampered)


def test_facts_that_cannot_be_scored_name_the_field(resident):
    apply_fact(
        resident,
        kind="city",
        code="charity.no_such_rule",
        key="test:bad",
        department=Department.objects.get(code="red_cross"),
        source=FactSource.FEED,
        now=NOW,
    )
    with pytest.raises(InvalidFacts) as caught:
        recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    assert caught.value.code == "score.invalid_facts"
    assert "rule" in caught.value.detail and "no_such_rule" in caught.value.detail


def test_a_batch_stores_the_good_scores_and_reports_the_bad_ones(resident, give_facts, profile):
    other = make_resident(now=NOW - dt.timedelta(days=400))
    give_facts(other, profile, now=NOW)
    apply_fact(
        other,
        kind="deduction",
        code="public_order_penalty",
        key="test:undated",
        department=Department.objects.get(code="public_security_bureau"),
        source=FactSource.FEED,
        now=NOW,
    )
    outcome = recompute_batch([resident.pk, other.pk], on=ON, now=NOW, actor=ACTOR)
    assert outcome.created == 1 and list(outcome.failures) == [other.pk]
    assert "date" in outcome.failures[other.pk].detail
    assert Score.objects.filter(resident=resident, is_current=True).exists()
    assert not Score.objects.filter(resident=other).exists()


def test_a_batch_reads_with_a_fixed_number_of_queries(
    give_facts, profile, django_assert_max_num_queries
):
    people = [make_resident(now=NOW - dt.timedelta(days=400)) for _ in range(12)]
    for person in people:
        give_facts(person, profile, now=NOW)
    # lock, residents, facts, permits, permit history, current scores, retire, insert,
    # savepoints: the same for 12 residents as for 1000.
    with django_assert_max_num_queries(12):
        outcome = recompute_batch([p.pk for p in people], on=ON, now=NOW, actor=ACTOR)
    assert outcome.created == 12


# --- lapse and restore ----------------------------------------------------------------------


def lapse_entries(resident, action):
    return AuditEntry.objects.filter(action=action, data__resident=str(resident.pk))


def test_a_suspended_permit_lapses_the_score_and_restoring_recalculates_it(
    resident, django_capture_on_commit_callbacks
):
    valid = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    permit = resident.permits.get()
    later = NOW + dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        change_permit_status(
            permit,
            status=PermitStatus.SUSPENDED,
            effective_on=later.date(),
            source="feed",
            source_ref="ps-2025-1",
            reason="逾期未签注",
            now=later,
            actor=Actor.system("feed:public_security"),
        )
    lapsed = Score.objects.get(resident=resident, is_current=True)
    assert lapsed.pk != valid.pk
    assert lapsed.status == ScoreStatus.LAPSED
    assert lapsed.lapse_reason == "逾期未签注"
    assert lapsed.lapsed_since == later.date()
    assert lapsed.total == expected(resident, later.date()).total  # points kept, shown lapsed
    entry = lapse_entries(resident, "score.lapsed").get()
    assert entry.actor_id == "job:scores.recompute"
    assert entry.object_id == str(lapsed.pk)
    assert entry.data["previous_score"] == valid.pk

    # Recomputing while still suspended is not a new transition.
    recompute_resident(resident, on=later.date(), now=later, actor=ACTOR)
    recompute_resident(resident, on=later.date() + dt.timedelta(days=1), now=later, actor=ACTOR)
    assert lapse_entries(resident, "score.lapsed").count() == 1

    restored_on = later + dt.timedelta(days=20)
    apply_fact(  # something changed in the meantime: the restored score is recalculated
        resident,
        kind="city",
        code="charity.blood_donation",
        key="test:blood:2",
        date=restored_on.date() - dt.timedelta(days=2),
        department=Department.objects.get(code="health_commission"),
        source=FactSource.FEED,
        now=restored_on,
    )
    with django_capture_on_commit_callbacks(execute=True):
        change_permit_status(
            permit,
            status=PermitStatus.VALID,
            effective_on=restored_on.date(),
            source="staff",
            source_ref="window-7",
            reason="已补签注",
            now=restored_on,
            actor=Actor.system("feed:public_security"),
        )
    restored = Score.objects.get(resident=resident, is_current=True)
    assert restored.status == ScoreStatus.VALID
    assert restored.lapse_reason == "" and restored.lapsed_since is None
    assert restored.evaluation_date == restored_on.date()
    assert restored.total == expected(resident, restored_on.date()).total
    charity = [Decimal(s.result["city"]["items"]["charity"]) for s in (lapsed, restored)]
    assert charity[1] == charity[0] + 2  # the new blood donation counts
    assert lapse_entries(resident, "score.restored").count() == 1
    assert lapse_entries(resident, "score.lapsed").count() == 1


def test_a_cancelled_permit_without_a_reason_says_so(resident):
    permit = resident.permits.get()
    change_permit_status(
        permit,
        status=PermitStatus.CANCELLED,
        effective_on=ON,
        source="staff",
        source_ref="",
        reason="",
        now=NOW,
        actor=ACTOR,
    )
    score = recompute_resident(resident, on=ON, now=NOW, actor=ACTOR)
    assert score.status == ScoreStatus.LAPSED
    assert score.lapse_reason == "residence permit cancelled"
    assert score.lapsed_since == ON


def test_a_resident_without_a_permit_has_lapsed_points(give_facts, profile):
    person = make_resident(permit=False, now=NOW)
    give_facts(person, profile, now=NOW)
    score = recompute_resident(person, on=ON, now=NOW, actor=ACTOR)
    assert score.status == ScoreStatus.LAPSED
    assert score.lapse_reason == REASON_NO_PERMIT and score.lapsed_since is None
    assert lapse_entries(person, "score.lapsed").count() == 1


def test_the_standing_is_that_of_the_evaluation_date(resident):
    permit = resident.permits.get()
    change_permit_status(
        permit,
        status=PermitStatus.SUSPENDED,
        effective_on=ON,
        source="feed",
        source_ref="ps-1",
        reason="逾期未签注",
        now=NOW,
        actor=ACTOR,
    )
    before = recompute_resident(resident, on=ON - dt.timedelta(days=1), now=NOW, actor=ACTOR)
    assert before.status == ScoreStatus.VALID
    assert recompute_resident(resident, on=ON, now=NOW, actor=ACTOR).status == "lapsed"


# --- request_recompute ---------------------------------------------------------------------


def test_a_few_residents_are_recomputed_right_after_the_commit(
    resident, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request_recompute([resident.pk], reason="feed", now=NOW)
    assert not Score.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    score = Score.objects.get(resident=resident)
    assert score.is_current and score.evaluation_date == ON
    assert not Job.objects.exists()


def test_many_residents_go_to_a_job(resident):
    people = [resident.pk] + [make_resident(now=NOW).pk for _ in range(INLINE_LIMIT)]
    request_recompute(people, reason="feed", now=NOW)
    job = Job.objects.get()
    assert job.kind == "scores.recompute"
    assert sorted(job.args["resident_ids"]) == sorted(str(p) for p in people)
    assert job.args["on"] == ON.isoformat() and job.args["reason"] == "feed"


def test_a_rolled_back_request_leaves_no_job(resident):
    people = [resident.pk] + [make_resident(now=NOW).pk for _ in range(INLINE_LIMIT)]
    with pytest.raises(RuntimeError), transaction.atomic():
        request_recompute(people, reason="feed", now=NOW)
        assert Job.objects.count() == 1
        raise RuntimeError("the import failed")
    assert not Job.objects.exists()


def test_the_chinese_date_of_now_is_today():
    late = dt.datetime(2025, 6, 1, 20, 0, tzinfo=dt.UTC)  # 04:00 on 2 June in Tongxiang
    from jifen.scores.services import china_date

    assert china_date(late) == dt.date(2025, 6, 2)
