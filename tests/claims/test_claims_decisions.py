"""Decisions: facts with source ``claim``, the stored score rises, adjustments and rejections
with reasons the resident sees, notifications; corrections supersede the disputed fact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jifen.audit.actors import Actor
from jifen.claims import services
from jifen.claims.errors import DuplicateOpenClaim, InvalidClaim
from jifen.claims.models import ClaimStatus, Outcome, ReviewState
from jifen.claims.services import ClaimItemInput, ItemDecision
from jifen.facts.models import Fact, FactSource
from jifen.facts.services import apply_fact
from jifen.notifications.models import Notification
from jifen.org.models import Department
from jifen.scores.models import Score
from jifen.scores.services import recompute_resident
from tests.claims.conftest import COMMENDATION, NOW, VOLUNTEER, last_entry

pytestmark = pytest.mark.django_db


def current_total(resident) -> Decimal:
    return Score.objects.get(resident=resident, is_current=True).total


def test_approval_creates_facts_and_the_score_rises(
    submit, resident, town_reviewer, django_capture_on_commit_callbacks
):
    recompute_resident(resident, on=NOW.date(), now=NOW, actor=Actor.system("test:setup"))
    before = current_total(resident)
    claim = submit(COMMENDATION)
    task = services.accept(claim.tasks.get(), user=town_reviewer, now=NOW)
    item = task.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        task = services.decide(
            task, user=town_reviewer, decisions=[ItemDecision(item, "approved")], now=NOW
        )
    assert task.state == ReviewState.APPROVED
    item.refresh_from_db()
    fact = item.fact
    assert (fact.code, fact.level, fact.date) == (
        "honours.commendation",
        "city",
        dt.date(2025, 5, 1),
    )
    assert fact.source == FactSource.CLAIM and fact.source_ref == claim.number
    assert fact.department.code == "town" and fact.superseded_at is None
    assert current_total(resident) == before + Decimal(10)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DECIDED and not item.is_open
    entry = last_entry("claim.decided")
    assert entry.data["before"] == "accepted" and entry.data["after"] == "approved"
    assert entry.data["items"][0]["fact"] == fact.pk
    notice = Notification.objects.filter(resident=resident, kind="claim.decided").get()
    assert claim.number in notice.body
    kinds = set(Notification.objects.filter(resident=resident).values_list("kind", flat=True))
    assert kinds == {"claim.accepted", "claim.decided"}


def test_adjust_and_reject_with_reasons(
    submit, resident, town_reviewer, social_reviewer, django_capture_on_commit_callbacks
):
    claim = submit(COMMENDATION, VOLUNTEER)
    town = services.accept(claim.tasks.get(department__code="town"), user=town_reviewer, now=NOW)
    item = town.items.get()
    with pytest.raises(InvalidClaim) as caught:
        services.decide(
            town,
            user=town_reviewer,
            decisions=[ItemDecision(item, "adjusted", level="county")],
            now=NOW,
        )
    assert caught.value.field == "decisions[0].reason"
    with pytest.raises(InvalidClaim) as caught:
        services.decide(
            town,
            user=town_reviewer,
            decisions=[ItemDecision(item, "adjusted", level="moon", reason="x")],
            now=NOW,
        )
    assert caught.value.field == "decisions[0].level"
    with django_capture_on_commit_callbacks(execute=True):
        services.decide(
            town,
            user=town_reviewer,
            decisions=[ItemDecision(item, "adjusted", level="county", reason="county award")],
            now=NOW,
        )
    item.refresh_from_db()
    assert item.outcome == Outcome.ADJUSTED and item.approved_level == "county"
    assert item.fact.level == "county"
    town.refresh_from_db()
    assert town.state == ReviewState.PARTLY_APPROVED

    social = services.accept(
        claim.tasks.get(department__code="social_work_dept"), user=social_reviewer, now=NOW
    )
    volunteer = social.items.get()
    with pytest.raises(InvalidClaim) as caught:
        services.decide(
            social, user=social_reviewer, decisions=[ItemDecision(volunteer, "rejected")], now=NOW
        )
    assert caught.value.field == "decisions[0].reason"
    services.decide(
        social,
        user=social_reviewer,
        decisions=[ItemDecision(volunteer, "rejected", reason="hours not certified")],
        now=NOW,
    )
    social.refresh_from_db()
    assert social.state == ReviewState.REJECTED
    assert social.decision_reason == "hours not certified"
    volunteer.refresh_from_db()
    assert volunteer.fact is None and volunteer.decision_reason == "hours not certified"
    message = (
        Notification.objects.filter(resident=resident, kind="claim.decided").order_by("pk").last()
    )
    assert "hours not certified" in message.body
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DECIDED


def test_decide_needs_every_item(submit, town_reviewer):
    claim = submit(COMMENDATION)
    task = services.accept(claim.tasks.get(), user=town_reviewer, now=NOW)
    with pytest.raises(InvalidClaim) as caught:
        services.decide(task, user=town_reviewer, decisions=[], now=NOW)
    assert caught.value.field == "decisions"
    with pytest.raises(InvalidClaim) as caught:
        services.decide(
            task, user=town_reviewer, decisions=[ItemDecision(999999, "approved")], now=NOW
        )
    assert caught.value.field == "decisions[0].item"


def test_notifications_for_materials_and_extension(task_in, resident, town_reviewer):
    task = task_in(ReviewState.ACCEPTED)
    services.extend(task, user=town_reviewer, reason="records pending", now=NOW)
    services.request_materials(
        task, user=town_reviewer, items=["award certificate", "ID card copy"], now=NOW
    )
    by_kind = {n.kind: n for n in Notification.objects.filter(resident=resident)}
    assert "records pending" in by_kind["claim.extended"].body
    body = by_kind["claim.materials_requested"].body
    assert "award certificate" in body and "ID card copy" in body


@pytest.fixture
def feed_fact(resident):
    apply_fact(
        resident,
        kind="city",
        code="charity.volunteer_hours",
        key="sw:VOL-1",
        quantity=50,
        date=dt.date(2025, 6, 1),
        department=Department.objects.get(code="social_work_dept"),
        source=FactSource.FEED,
        now=NOW,
    )
    return Fact.objects.current().get(resident=resident, key="sw:VOL-1")


def test_correction_supersedes_the_fact(
    feed_fact,
    resident,
    resident_user,
    social_reviewer,
    upload,
    django_capture_on_commit_callbacks,
):
    recompute_resident(resident, on=NOW.date(), now=NOW, actor=Actor.system("test:setup"))
    before = current_total(resident)
    claim = services.file_correction(
        resident=resident,
        user=resident_user,
        fact=feed_fact,
        statement="I served 150 hours, not 50",
        proposed=ClaimItemInput(
            rule="charity.volunteer_hours", quantity=150, date=dt.date(2025, 6, 1)
        ),
        evidence=[upload()],
        channel="portal",
        now=NOW,
    )
    assert claim.kind == "correction" and claim.number.startswith("GZ2026")
    task = claim.tasks.get()
    assert task.department.code == "social_work_dept"
    entry = last_entry("correction.filed")
    assert entry.object_id == str(claim.pk) and entry.data["fact"] == feed_fact.pk
    with pytest.raises(DuplicateOpenClaim):
        services.file_correction(
            resident=resident, user=resident_user, fact=feed_fact, statement="again", now=NOW
        )
    services.accept(task, user=social_reviewer, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide(
            task,
            user=social_reviewer,
            decisions=[ItemDecision(task.items.get(), "approved")],
            now=NOW,
        )
    feed_fact.refresh_from_db()
    assert feed_fact.superseded_at == NOW
    new = feed_fact.superseded_by
    assert new.quantity == 150 and new.key == "sw:VOL-1"
    assert new.source == FactSource.CLAIM and new.source_ref == claim.number
    assert current_total(resident) > before


def test_correction_without_a_value_needs_an_adjustment(
    feed_fact, resident, resident_user, social_reviewer
):
    claim = services.file_correction(
        resident=resident,
        user=resident_user,
        fact=feed_fact,
        statement="the date is wrong",
        now=NOW,
    )
    task = services.accept(claim.tasks.get(), user=social_reviewer, now=NOW)
    item = task.items.get()
    with pytest.raises(InvalidClaim):
        services.decide(
            task, user=social_reviewer, decisions=[ItemDecision(item, "approved")], now=NOW
        )
    services.decide(
        task,
        user=social_reviewer,
        decisions=[ItemDecision(item, "adjusted", date=dt.date(2025, 7, 1), reason="checked")],
        now=NOW,
    )
    feed_fact.refresh_from_db()
    assert feed_fact.superseded_by.date == dt.date(2025, 7, 1)
    assert feed_fact.superseded_by.quantity == 50


def test_correction_needs_a_statement_and_own_current_fact(feed_fact, resident, resident_user):
    with pytest.raises(InvalidClaim) as caught:
        services.file_correction(
            resident=resident, user=resident_user, fact=feed_fact, statement=" ", now=NOW
        )
    assert caught.value.field == "statement"
    from tests.factories import make_resident, make_user

    other = make_resident()
    with pytest.raises(InvalidClaim) as caught:
        services.file_correction(
            resident=other,
            user=make_user("resident", resident=other),
            fact=feed_fact,
            statement="x",
            now=NOW,
        )
    assert caught.value.field == "fact"
