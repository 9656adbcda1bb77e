"""Accepting and deciding re-examinations: the transition table, the department's scope,
dismissal and the upheld path (fact → score → corrected list), the report to the center."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.facts.models import Fact
from jifen.notifications.models import Notification
from jifen.rankings.models import Publication, RankingState
from jifen.reexaminations import errors
from jifen.reexaminations.access import reexaminations_for
from jifen.reexaminations.models import ReexaminationState
from jifen.reexaminations.services import FactChange, accept, decide, withdraw
from tests.factories import CHINA_TZ, make_user
from tests.reexaminations.test_reexaminations_filing import file
from tests.reexaminations.world import actions

DECIDED = dt.datetime(2025, 10, 13, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def hrss(db):
    return make_user("reviewer", department="zj_hrss")


@pytest.fixture
def education(db):
    return make_user("reviewer", department="education_bureau")


def test_transition_table(world, hrss):
    reexamination = file(world)
    with pytest.raises(errors.TransitionNotAllowed):
        decide(reexamination, user=hrss, outcome="dismissed", reason="no", now=DECIDED)
    accept(reexamination, user=hrss, now=DECIDED)
    with pytest.raises(errors.TransitionNotAllowed) as twice:
        accept(reexamination, user=hrss, now=DECIDED)
    assert twice.value.code == "reexaminations.transition_not_allowed"
    decide(reexamination, user=hrss, outcome="dismissed", reason="The feed is right.", now=DECIDED)
    for step in (
        lambda: accept(reexamination, user=hrss, now=DECIDED),
        lambda: decide(reexamination, user=hrss, outcome="dismissed", reason="x", now=DECIDED),
        lambda: withdraw(reexamination, user=world.users["c"], now=DECIDED),
    ):
        with pytest.raises(errors.TransitionNotAllowed):
            step()
    # Withdrawn from accepted; nothing after that.
    other = file(world, item="provincial.age")
    accept(other, user=world.center, now=DECIDED)  # the center may act on any
    withdraw(other, user=world.users["c"], now=DECIDED)
    with pytest.raises(errors.TransitionNotAllowed):
        accept(other, user=world.center, now=DECIDED)
    # The protected state field cannot be set by hand.
    with pytest.raises(AttributeError):
        other.state = ReexaminationState.UPHELD


def test_another_department_neither_sees_nor_decides(world, hrss, education):
    reexamination = file(world)
    with pytest.raises(errors.NotAllowed):
        accept(reexamination, user=education, now=DECIDED)
    accept(reexamination, user=hrss, now=DECIDED)
    with pytest.raises(errors.NotAllowed):
        decide(reexamination, user=education, outcome="dismissed", reason="x", now=DECIDED)
    with pytest.raises(errors.NotAllowed):
        decide(reexamination, user=world.users["c"], outcome="dismissed", reason="x", now=DECIDED)
    assert list(reexaminations_for(hrss)) == [reexamination]
    assert not reexaminations_for(education).exists()
    assert list(reexaminations_for(world.users["c"])) == [reexamination]
    assert not reexaminations_for(world.users["a"]).exists()
    assert list(reexaminations_for(world.center)) == [reexamination]
    assert list(reexaminations_for(make_user("clerk", town="wutong"))) == [reexamination]
    assert not reexaminations_for(make_user("clerk", town="puyuan")).exists()
    assert not reexaminations_for(make_user("auditor")).exists()
    assert not reexaminations_for(None).exists()


def test_dismissed_with_a_reason_told_to_the_applicant_and_reported(world, hrss):
    reexamination = file(world)
    accept(reexamination, user=hrss, now=DECIDED)
    with pytest.raises(errors.InvalidReexamination) as no_reason:
        decide(reexamination, user=hrss, outcome="dismissed", reason=" ", now=DECIDED)
    assert no_reason.value.field == "reason"
    with pytest.raises(errors.InvalidReexamination) as changes:
        decide(
            reexamination,
            user=hrss,
            outcome="dismissed",
            reason="x",
            changes=[FactChange(code="social_insurance_months", quantity=80)],
            now=DECIDED,
        )
    assert changes.value.field == "changes"
    decide(
        reexamination,
        user=hrss,
        outcome="dismissed",
        reason="The contributions before 2023 were paid in another province.",
        now=DECIDED,
    )
    reexamination.refresh_from_db()
    assert reexamination.state == ReexaminationState.DISMISSED
    assert reexamination.decided_by == hrss
    assert reexamination.reported_to_center_at == DECIDED
    assert reexamination.corrected_publication is None
    told = Notification.objects.get(resident=world.residents["c"], kind="reexamination.decided")
    assert "another province" in told.body
    assert (
        Notification.objects.filter(
            user__in=[world.center, world.center2], kind="reexamination.reported"
        ).count()
        == 2
    )
    assert actions(reexamination) == [
        "reexamination.filed",
        "reexamination.accepted",
        "reexamination.decided",
        "reexamination.reported",
    ]
    assert world.ranking.__class__.objects.get(pk=world.ranking.pk).state == "published"


def test_upheld_changes_the_fact_the_points_and_publishes_the_corrected_list(
    world, hrss, django_capture_on_commit_callbacks
):
    reexamination = file(world)  # c: 20 months → 10 points; places: a, b
    accept(reexamination, user=hrss, now=DECIDED)
    with pytest.raises(errors.InvalidReexamination) as outside:
        decide(
            reexamination,
            user=hrss,
            outcome="upheld",
            reason="x",
            changes=[FactChange(code="education", level="master")],
            now=DECIDED,
        )
    assert outside.value.field == "changes[0].code"
    with pytest.raises(errors.InvalidReexamination) as none:
        decide(reexamination, user=hrss, outcome="upheld", reason="x", now=DECIDED)
    assert none.value.field == "changes"
    with django_capture_on_commit_callbacks(execute=True):
        decide(
            reexamination,
            user=hrss,
            outcome="upheld",
            reason="Contributions 2019-2022 were missing from the feed.",
            changes=[FactChange(code="social_insurance_months", quantity=90)],
            now=DECIDED,
        )
    reexamination.refresh_from_db()
    assert reexamination.state == ReexaminationState.UPHELD
    # The fact: a staff correction by the routed department, referring to the number.
    fact = Fact.objects.current().get(resident=world.residents["c"], key="social_insurance_months")
    assert (fact.source, fact.source_ref, fact.department.code) == (
        "staff",
        reexamination.number,
        "zj_hrss",
    )
    assert fact.quantity == 90
    # The enrollment's points: social insurance 10 → 30, total 50 → 70.
    enrollment = world.enrollments["c"]
    enrollment.refresh_from_db()
    assert enrollment.points == 70
    assert enrollment.breakdown["provincial.social_insurance"] == "30.00"
    changes = reexamination.changes
    assert changes["points"] == ["50.00", "70.00"]
    assert changes["items"] == {"provincial.social_insurance": ["10.00", "30.00"]}
    assert changes["rank"][0] == 3 and changes["rank"][1] < 3
    assert changes["facts"][0]["outcome"] == "superseded"
    # The corrected list: a new publication correcting the old one, with what and why.
    corrected = reexamination.corrected_publication
    assert corrected is not None and corrected.corrected_from_id == world.publication.pk
    assert Publication.objects.get(pk=world.publication.pk).taken_down_at is not None
    assert world.ranking.__class__.objects.get(pk=world.ranking.pk).state == (
        RankingState.SUPERSEDED
    )
    noted = {c["number"]: c for c in corrected.change_note["changes"]}
    mine = noted[enrollment.number]
    assert mine["cause"] == "corrected"
    assert reexamination.number in mine["why"]
    assert mine["points"] == ["50.00", "70.00"]
    assert world.entry("c", corrected).quota_key == "school:wutong-1"
    # The resident's current score was recomputed after the commit.
    from jifen.scores.models import Score

    current = Score.objects.get(resident=world.residents["c"], is_current=True)
    assert current.provincial_total == 60
    # Told, reported, audited.
    told = Notification.objects.get(resident=world.residents["c"], kind="reexamination.decided")
    assert "70.00" in told.body
    assert reexamination.reported_to_center_at == DECIDED
    assert actions(reexamination) == [
        "reexamination.filed",
        "reexamination.accepted",
        "reexamination.decided",
        "reexamination.reported",
    ]
    assert "ranking.corrected" in actions(prefix="ranking.")
    # The replaced list takes no more requests; the corrected one does (its own window).
    with pytest.raises(errors.InvalidReexamination) as replaced:
        file(world, "b", now=DECIDED)
    assert replaced.value.field == "publication"
    from jifen.reexaminations.services import file_reexamination
    from tests.reexaminations.world import upload

    again = file_reexamination(
        publication=corrected,
        enrollment=world.enrollments["b"],
        user=world.users["b"],
        item="provincial.social_insurance",
        statement="Mine are missing too.",
        evidence=[upload(world.residents["b"], world.users["b"], now=DECIDED)],
        now=DECIDED,
    )
    assert again.filing_deadline == corrected.filing_until
