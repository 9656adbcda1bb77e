"""Filing: validation against the policy in force, feed-supplied rules, duplicates, routing
to one task per department, drafts, numbers, withdrawal, the window channel."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.claims import services
from jifen.claims.errors import (
    DuplicateOpenClaim,
    InvalidClaim,
    NotAllowed,
    RuleSuppliedByFeed,
    TransitionNotAllowed,
)
from jifen.claims.models import Claim, ClaimItem, ClaimStatus, ReviewState
from jifen.claims.services import ClaimItemInput
from jifen.feeds.tokens import create_token
from jifen.org.models import Department
from tests.claims.conftest import COMMENDATION, NOW, VOLUNTEER, actions, last_entry
from tests.factories import FACTORY_ACTOR, make_resident, make_user

pytestmark = pytest.mark.django_db


def test_claim_with_two_departments_makes_two_tasks(submit, upload):
    files = [upload(), upload()]
    claim = submit(COMMENDATION, VOLUNTEER, evidence=files)
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.number == "SQ2026000001"
    tasks = {t.department.code: t for t in claim.tasks.all()}
    assert set(tasks) == {"town", "social_work_dept"}
    assert all(t.state == ReviewState.SUBMITTED for t in tasks.values())
    items = list(claim.items.order_by("position"))
    assert [i.task.department.code for i in items] == ["town", "social_work_dept"]
    assert items[1].quantity == 120
    assert claim.evidence.count() == 2
    entry = last_entry("claim.submitted")
    assert entry.object_id == str(claim.pk)
    assert entry.data["items"] == ["honours.commendation", "charity.volunteer_hours"]
    assert entry.data["before"] == "draft" and entry.data["after"] == "submitted"
    assert (
        submit(
            ClaimItemInput(rule="honours.bravery", level="city", date=dt.date(2025, 1, 1))
        ).number
        == "SQ2026000002"
    )


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (ClaimItemInput(rule="no.such_rule"), "items[0].rule"),
        (ClaimItemInput(rule="education"), "items[0].rule"),  # provincial field
        (ClaimItemInput(rule="education.degree", level="master"), "items[0].rule"),
        (ClaimItemInput(rule="honours.commendation", date=dt.date(2025, 1, 1)), "items[0].level"),
        (
            ClaimItemInput(rule="honours.commendation", level="galaxy", date=dt.date(2025, 1, 1)),
            "items[0].level",
        ),
        (ClaimItemInput(rule="honours.commendation", level="city"), "items[0].date"),
        (
            ClaimItemInput(rule="honours.commendation", level="city", date=dt.date(2026, 3, 3)),
            "items[0].date",
        ),
        (
            ClaimItemInput(rule="charity.volunteer_hours", quantity=-1, date=dt.date(2025, 1, 1)),
            "items[0].quantity",
        ),
        (
            ClaimItemInput(
                rule="charity.volunteer_hours", quantity="1.234", date=dt.date(2025, 1, 1)
            ),
            "items[0].quantity",
        ),
        (
            ClaimItemInput(rule="charity.volunteer_hours", date=dt.date(2025, 1, 1)),
            "items[0].quantity",
        ),
        (
            ClaimItemInput(
                rule="honours.commendation", level="city", quantity=2, date=dt.date(2025, 1, 1)
            ),
            "items[0].quantity",
        ),
        (ClaimItemInput(rule="employment.deputy", level="city"), "items[0].level"),
    ],
)
def test_invalid_items_name_the_field(submit, item, field):
    with pytest.raises(InvalidClaim) as caught:
        submit(item)
    assert caught.value.field == field
    assert not Claim.objects.exists()


def test_no_items_refused(resident, resident_user):
    with pytest.raises(InvalidClaim) as caught:
        services.submit_claim(resident=resident, user=resident_user, items=[], now=NOW)
    assert caught.value.field == "items"


def test_rule_supplied_by_a_connected_feed_is_refused(submit):
    submit(VOLUNTEER)  # the social work feed is not connected yet: reviewed on claims
    create_token(
        Department.objects.get(code="social_work_dept"),
        label="feed",
        now=NOW,
        actor=FACTORY_ACTOR,
    )
    with pytest.raises(RuleSuppliedByFeed) as caught:
        submit(COMMENDATION, VOLUNTEER)
    assert caught.value.code == "claims.rule_supplied_by_feed"
    assert caught.value.field == "items[1].rule"
    # In the language of the request (Simplified Chinese by default): file a correction.
    assert "异议/变更" in str(caught.value.message)


def test_second_open_claim_for_a_rule_is_refused(submit, resident_user, town_reviewer):
    first = submit(COMMENDATION)
    with pytest.raises(DuplicateOpenClaim) as caught:
        submit(VOLUNTEER, COMMENDATION)
    assert caught.value.code == "claims.duplicate_open_claim"
    assert caught.value.field == "items[1].rule"
    with pytest.raises(DuplicateOpenClaim):
        submit(COMMENDATION, COMMENDATION)
    # once decided, the rule can be claimed again (another award)
    task = first.tasks.get()
    services.refuse(task, user=town_reviewer, reason="no certificate", now=NOW)
    assert submit(COMMENDATION).status == ClaimStatus.SUBMITTED


def test_the_constraint_backs_the_check(submit, monkeypatch):
    """Without the pre-check (as in a race), the database constraint answers the same."""
    submit(COMMENDATION)
    monkeypatch.setattr(
        "jifen.claims.services.filing.ClaimItem.objects.filter",
        lambda **kw: ClaimItem.objects.none(),
    )
    with pytest.raises(DuplicateOpenClaim) as caught:
        submit(COMMENDATION)
    assert caught.value.code == "claims.duplicate_open_claim"
    assert Claim.objects.count() == 1


def test_shared_rule_routes_deterministically(submit):
    from jifen.claims.routing import responsible_department
    from jifen.scores.policies import current_policies

    rule = current_policies().select(dt.date(2026, 3, 2)).city.rules["employment.frontline_post"]
    assert responsible_department(rule, field="x").code == "transport_bureau"
    chosen = responsible_department(rule, preferred="transport_investment_group", field="x")
    assert chosen.code == "transport_investment_group"
    assert responsible_department(rule, preferred="court", field="x").code == "transport_bureau"


def test_drafts_are_saved_and_submitted(resident, resident_user):
    draft = services.save_draft(
        resident=resident, user=resident_user, data={"step": 1}, claim=None, now=NOW
    )
    assert draft.status == ClaimStatus.DRAFT and draft.number == ""
    draft = services.save_draft(
        resident=resident,
        user=resident_user,
        data={"step": 2, "rule": "x"},
        claim=draft,
        now=NOW,
    )
    assert Claim.objects.get(pk=draft.pk).draft == {"step": 2, "rule": "x"}
    claim = services.submit_claim(
        resident=resident, user=resident_user, items=[COMMENDATION], claim=draft, now=NOW
    )
    assert claim.pk == draft.pk and claim.status == ClaimStatus.SUBMITTED and claim.draft == {}
    with pytest.raises(TransitionNotAllowed):
        services.save_draft(resident=resident, user=resident_user, data={}, claim=claim, now=NOW)
    assert actions(claim) == ["claim.draft_created", "claim.submitted"]


def test_draft_data_checked(resident, resident_user):
    for data in ([1, 2], {"x": "y" * 70_000}):
        with pytest.raises(InvalidClaim) as caught:
            services.save_draft(
                resident=resident, user=resident_user, data=data, claim=None, now=NOW
            )
        assert caught.value.field == "draft"


def test_window_clerk_files_for_a_resident_of_their_town(resident, clerk):
    claim = services.submit_claim(
        resident=resident, user=clerk, items=[COMMENDATION], channel="window", now=NOW
    )
    assert claim.channel == "window" and claim.filed_at_town.code == "wutong"
    assert claim.filed_by == clerk
    other_town = make_user("clerk", town="puyuan")
    with pytest.raises(NotAllowed):
        services.submit_claim(resident=resident, user=other_town, items=[VOLUNTEER], now=NOW)
    stranger = make_user("resident", resident=make_resident())
    with pytest.raises(NotAllowed):
        services.submit_claim(resident=resident, user=stranger, items=[VOLUNTEER], now=NOW)


def test_foreign_evidence_refused(submit):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jifen.evidence.services import store_upload
    from tests.claims.conftest import PNG

    other = make_resident()
    other_user = make_user("resident", resident=other)
    foreign = store_upload(
        SimpleUploadedFile("a.png", PNG), resident=other, user=other_user, now=NOW
    )
    with pytest.raises(InvalidClaim) as caught:
        submit(COMMENDATION, evidence=[foreign])
    assert caught.value.field == "evidence"


def test_withdraw_closes_open_items(submit, resident_user, town_reviewer):
    claim = submit(COMMENDATION, VOLUNTEER)
    services.accept(claim.tasks.get(department__code="town"), user=town_reviewer, now=NOW)
    services.withdraw(claim, user=resident_user, reason="moved away", now=NOW)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN and claim.closed_at == NOW
    assert set(claim.tasks.values_list("state", flat=True)) == {ReviewState.WITHDRAWN}
    assert not claim.items.filter(is_open=True).exists()
    entry = last_entry("claim.withdrawn")
    assert entry.data["before"] == "submitted" and entry.data["after"] == "withdrawn"
    with pytest.raises(TransitionNotAllowed):
        services.withdraw(claim, user=resident_user, now=NOW)
    assert submit(COMMENDATION).status == ClaimStatus.SUBMITTED  # the rule is free again


def test_withdraw_after_one_department_decided(submit, resident_user, town_reviewer):
    claim = submit(COMMENDATION, VOLUNTEER)
    services.refuse(
        claim.tasks.get(department__code="town"), user=town_reviewer, reason="no", now=NOW
    )
    services.withdraw(claim, user=resident_user, now=NOW)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DECIDED
    states = dict(claim.tasks.values_list("department__code", "state"))
    assert states == {"town": ReviewState.REJECTED, "social_work_dept": ReviewState.WITHDRAWN}


def test_discarding_a_draft(resident, resident_user):
    draft = services.save_draft(
        resident=resident, user=resident_user, data={"step": 1}, claim=None, now=NOW
    )
    services.withdraw(draft, user=resident_user, now=NOW)
    draft.refresh_from_db()
    assert draft.status == ClaimStatus.WITHDRAWN and draft.number == ""
    assert last_entry("claim.withdrawn").data["before"] == "draft"
