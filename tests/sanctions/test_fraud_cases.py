"""Fraud cases: the two-person rule, clearing the points, cancelling the places (the next
applicants move up), the credit record, notifications and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from jifen.audit.models import AuditEntry
from jifen.notifications.models import Notification
from jifen.rankings.models import Outcome
from jifen.sanctions import errors, services
from jifen.sanctions.models import CreditRecord, FraudCase, FraudState, PointsClearance
from jifen.scores.services import recompute_resident
from tests.factories import CHINA_TZ, FACTORY_ACTOR, make_user
from tests.reexaminations.world import actions

PROPOSED = dt.datetime(2025, 10, 13, 10, 0, tzinfo=CHINA_TZ)
CONFIRMED = dt.datetime(2025, 10, 14, 15, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def hrss(db):
    return make_user("reviewer", department="zj_hrss")


def propose(world, user, name="a", grounds="The social insurance certificate was forged."):
    return services.propose(
        resident=world.residents[name], user=user, grounds=grounds, now=PROPOSED
    )


def test_the_proposer_cannot_confirm_their_own_case(world):
    case = propose(world, world.center)
    assert case.number.startswith("WG2025") and case.state == FraudState.PROPOSED
    assert case.proposing_department is None
    with pytest.raises(errors.SamePerson) as own:
        services.confirm(case, user=world.center, now=CONFIRMED)
    assert own.value.code == "sanctions.same_person"
    with pytest.raises(errors.SamePerson):
        services.reject(case, user=world.center, reason="changed my mind", now=CONFIRMED)
    case.refresh_from_db()
    assert case.state == FraudState.PROPOSED
    assert not PointsClearance.objects.exists()
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        FraudCase.objects.filter(pk=case.pk).update(
            state="confirmed", confirmed_by=world.center, confirmed_at=CONFIRMED
        )


def test_who_may_propose_and_confirm(world, hrss):
    with pytest.raises(errors.NotAllowed):
        propose(world, world.users["b"])
    with pytest.raises(errors.NotAllowed):  # holds nothing about the resident
        propose(world, make_user("reviewer", department="court"))
    with pytest.raises(errors.NotAllowed):
        propose(world, make_user("clerk", town="wutong"))
    case = propose(world, hrss)
    assert case.proposing_department.code == "zj_hrss"
    with pytest.raises(errors.CaseAlreadyOpen) as again:
        propose(world, world.center)
    assert again.value.code == "sanctions.case_open"
    with pytest.raises(errors.NotAllowed):  # a reviewer never confirms
        services.confirm(case, user=make_user("reviewer", department="zj_hrss"), now=CONFIRMED)
    with pytest.raises(errors.InvalidSanction) as empty:
        propose(world, world.center, name="b", grounds="  ")
    assert empty.value.field == "grounds"
    assert Notification.objects.filter(kind="fraud.proposed").count() == 2  # both center users
    assert list(services.fraud_cases_for(hrss)) == [case]
    assert not services.fraud_cases_for(make_user("reviewer", department="court")).exists()
    assert list(services.fraud_cases_for(world.center)) == [case]
    assert not services.fraud_cases_for(world.users["a"]).exists()


def test_rejected_by_another_center_member(world, hrss):
    case = propose(world, hrss)
    with pytest.raises(errors.InvalidSanction) as no_reason:
        services.reject(case, user=world.center, reason="", now=CONFIRMED)
    assert no_reason.value.field == "reason"
    services.reject(case, user=world.center, reason="The certificate is genuine.", now=CONFIRMED)
    case.refresh_from_db()
    assert (case.state, case.rejected_by) == (FraudState.REJECTED, world.center)
    with pytest.raises(errors.TransitionNotAllowed):
        services.confirm(case, user=world.center2, now=CONFIRMED)
    assert not PointsClearance.objects.exists() and not CreditRecord.objects.exists()
    assert Notification.objects.filter(user=hrss, kind="fraud.rejected").exists()
    assert actions(case) == ["fraud.proposed", "fraud.rejected"]
    # A new case may be proposed once the first is closed.
    assert propose(world, world.center).state == FraudState.PROPOSED


def test_confirmation_clears_cancels_moves_up_records_and_notifies(
    world, hrss, django_capture_on_commit_callbacks
):
    a, c = world.residents["a"], world.residents["c"]
    score = recompute_resident(a, on=dt.date(2025, 10, 13), now=PROPOSED, actor=FACTORY_ACTOR)
    assert world.entry("a").quota_key == "school:wutong-1"
    assert world.entry("c").quota_key == ""
    case = propose(world, hrss)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm(case, user=world.center2, reason="Checked with HRSS.", now=CONFIRMED)
    case.refresh_from_db()
    assert (case.state, case.confirmed_by, case.confirmed_at) == (
        FraudState.CONFIRMED,
        world.center2,
        CONFIRMED,
    )
    # Points cleared from the day of confirmation, with what they were.
    clearance = case.clearance
    assert clearance.cleared_on == dt.date(2025, 10, 14)
    assert clearance.total_before == score.total and clearance.score_before == score
    assert services.clearance_of(a) == clearance
    assert services.clearance_of(a, on=dt.date(2025, 10, 13)) is None
    assert set(services.cleared_resident_ids([a.pk, c.pk], dt.date(2025, 10, 14))) == {a.pk}
    # The place is cancelled and the next applicant moved up.
    cancelled = world.entry("a")
    assert (cancelled.outcome, cancelled.quota_key) == (Outcome.CANCELLED, "")
    assert world.entry("c").quota_key == "school:wutong-1"
    assert world.entry("c").moved_up_at == CONFIRMED
    assert world.entry("b").quota_key == "school:wutong-1"
    assert case.cancelled_places == [
        {
            "ranking": world.ranking.pk,
            "entry": cancelled.pk,
            "enrollment": world.enrollments["a"].number,
            "quota": "school:wutong-1",
            "label": "梧桐街道第一小学",
            "moved_up": [
                {
                    "enrollment": world.enrollments["c"].number,
                    "quota": "school:wutong-1",
                    "label": "梧桐街道第一小学",
                }
            ],
        }
    ]
    # The credit record.
    credit = CreditRecord.objects.get(resident=a)
    assert (credit.kind, credit.fraud_case, credit.recorded_by) == (
        "points_fraud",
        case,
        world.center2,
    )
    assert case.number in credit.text
    assert list(services.credit_records_for(world.users["a"])) == [credit]
    assert not services.credit_records_for(world.users["c"]).exists()
    assert not services.credit_records_for(hrss).exists()
    # Everyone affected is told.
    kinds_a = set(Notification.objects.filter(resident=a).values_list("kind", flat=True))
    assert {"fraud.confirmed", "ranking.place_cancelled"} <= kinds_a
    assert Notification.objects.filter(resident=c, kind="ranking.moved_up").exists()
    assert Notification.objects.filter(user=hrss, kind="fraud.confirmed").exists()
    told = Notification.objects.get(resident=a, kind="fraud.confirmed")
    assert "2025-10-14" in told.body and "梧桐街道第一小学" in told.body
    # The full audit trail.
    assert actions(case) == ["fraud.proposed", "fraud.confirmed"]
    assert actions(clearance) == ["points.cleared"]
    assert actions(credit) == ["credit.recorded"]
    assert actions(cancelled) == ["ranking.place_cancelled"]
    # Confirmed once only.
    with pytest.raises(errors.TransitionNotAllowed):
        services.confirm(case, user=world.center, now=CONFIRMED)


def test_a_resident_without_places_is_cleared_and_recorded(world):
    case = propose(world, world.center, name="c")
    services.confirm(case, user=world.center2, now=CONFIRMED)
    case.refresh_from_db()
    assert case.cancelled_places == []
    assert case.clearance.total_before is None  # no current score yet
    assert CreditRecord.objects.filter(resident=world.residents["c"]).count() == 1
    assert world.entry("a").quota_key == "school:wutong-1"


def test_a_failure_while_confirming_changes_nothing(world, monkeypatch):
    from jifen.sanctions import places

    case = propose(world, world.center)

    def broken(*args, **kwargs):
        raise RuntimeError("rankings unavailable")

    monkeypatch.setattr(places, "cancel_all", broken)
    with pytest.raises(RuntimeError):
        services.confirm(case, user=world.center2, now=CONFIRMED)
    case.refresh_from_db()
    assert case.state == FraudState.PROPOSED
    assert not PointsClearance.objects.exists() and not CreditRecord.objects.exists()
    assert actions(case) == ["fraud.proposed"]


def test_a_confirmed_case_clears_the_stored_score_and_the_portal_says_so(world, client):
    resident = world.residents["a"]
    recompute_resident(resident, on=PROPOSED.date(), now=PROPOSED, actor=FACTORY_ACTOR)
    case = propose(world, world.center)
    services.confirm(case, user=world.center2, now=CONFIRMED)

    score = recompute_resident(resident, on=CONFIRMED.date(), now=CONFIRMED, actor=FACTORY_ACTOR)
    assert score.status == "cleared"
    assert score.lapsed_since == CONFIRMED.date()
    assert score.total > 0  # the facts still say what they say; the standing clears them
    flip = AuditEntry.objects.filter(action="score.cleared").latest("sequence")
    assert flip.object_id == str(score.pk)
    assert not AuditEntry.objects.filter(action="score.restored").exists()

    client.force_login(resident.account)
    page = client.get(reverse("web:portal")).content.decode()
    assert 'id="cleared"' in page
