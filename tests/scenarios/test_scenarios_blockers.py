"""Blockers: a lapsed score, an open claim or correction, an open re-examination keep an
enrollment from the ranking until resolved; the resident is told why; all audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.translation import gettext

from jifen.claims import services as claims
from jifen.claims.services import ClaimItemInput
from jifen.notifications.models import Notification
from jifen.scenarios import services
from jifen.scenarios.models import EnrollmentStatus
from jifen.scenarios.services import blockers
from tests.factories import make_resident, make_user
from tests.scenarios.conftest import AFTER, BEFORE, DURING, actions, last_entry

pytestmark = pytest.mark.django_db
COMMENDATION = ClaimItemInput(rule="honours.commendation", level="city", date=dt.date(2025, 5, 1))


def codes(enrollment) -> list[str]:
    return [r["code"] for r in enrollment.block_reasons]


def test_a_resident_whose_points_lapsed_is_blocked_and_told_why(enroll):
    resident = make_resident(permit=False)
    enrollment = enroll(resident)
    assert enrollment.status == EnrollmentStatus.BLOCKED
    assert codes(enrollment) == ["scenarios.blocked.score_lapsed"]
    why = gettext("no residence permit on record")
    assert why in enrollment.block_reasons[0]["message"]
    assert actions(enrollment) == ["enrollment.submitted", "enrollment.blocked"]
    assert last_entry("enrollment.blocked").data["reasons"] == ["scenarios.blocked.score_lapsed"]
    note = Notification.objects.get(kind="enrollment.blocked", resident=resident)
    assert enrollment.number in note.subject
    assert why in note.body


def test_an_open_claim_blocks_until_it_is_decided(resident, enroll):
    user = make_user("resident", resident=resident)
    claim = claims.submit_claim(resident=resident, user=user, items=[COMMENDATION], now=BEFORE)
    enrollment = enroll(resident, user=user)
    assert enrollment.status == EnrollmentStatus.BLOCKED
    assert codes(enrollment) == ["scenarios.blocked.open_claim"]
    assert claim.number in enrollment.block_reasons[0]["message"]
    # Refreshing while nothing changed writes no second entry.
    services.refresh_blockers(enrollment, now=DURING)
    assert actions(enrollment).count("enrollment.blocked") == 1

    reviewer = make_user("reviewer", department="town")
    task = claim.tasks.get()
    claims.accept(task, user=reviewer, now=DURING)
    claims.decide(
        task,
        user=reviewer,
        decisions=[claims.ItemDecision(task.items.get(), "approved")],
        now=DURING,
    )
    enrollment = services.refresh_blockers(enrollment, now=DURING)
    assert enrollment.status == EnrollmentStatus.SUBMITTED and enrollment.block_reasons == []
    assert actions(enrollment)[-1] == "enrollment.unblocked"
    assert Notification.objects.filter(kind="enrollment.unblocked", resident=resident).exists()


def test_an_open_correction_blocks(resident, enroll):
    from jifen.facts.models import Fact

    user = make_user("resident", resident=resident)
    fact = Fact.objects.current().get(resident=resident, code="education")
    claims.file_correction(
        resident=resident,
        user=user,
        fact=fact,
        statement="I have a master's degree now.",
        proposed=None,
        evidence=[],
        channel="portal",
        now=BEFORE,
    )
    enrollment = enroll(resident, user=user)
    assert codes(enrollment) == ["scenarios.blocked.open_correction"]


def test_an_open_reexamination_blocks(resident, enroll, monkeypatch):
    """Through ``jifen.reexaminations.services.has_open_reexamination`` (stubbed here: the
    real one is tested with the re-examinations)."""
    monkeypatch.setattr(blockers, "_reexamination_check", lambda: lambda r: r.pk == resident.pk)
    monkeypatch.setattr(blockers, "_bulk_reexamination_check", lambda: None)
    enrollment = enroll(resident)
    assert codes(enrollment) == ["scenarios.blocked.open_reexamination"]


def test_the_bulk_reexamination_check_is_used_when_offered(resident, enroll, monkeypatch):
    monkeypatch.setattr(blockers, "_reexamination_check", lambda: lambda r: False)
    monkeypatch.setattr(blockers, "_bulk_reexamination_check", lambda: lambda ids: set(ids))
    enrollment = enroll(resident)
    assert codes(enrollment) == ["scenarios.blocked.open_reexamination"]


def test_the_real_reexamination_check_finds_nothing_open(resident, enroll):
    assert enroll(resident).status == EnrollmentStatus.SUBMITTED


def test_without_the_reexaminations_service_the_check_is_skipped(resident, enroll, monkeypatch):
    monkeypatch.setattr(blockers, "_reexamination_check", lambda: None)
    assert enroll(resident).status == EnrollmentStatus.SUBMITTED


def test_a_blocked_enrollment_is_evaluated_but_not_rankable_until_unblocked(
    resident, enroll, version, center, monkeypatch
):
    open_reexam = {"open": True}
    monkeypatch.setattr(blockers, "_reexamination_check", lambda: lambda r: open_reexam["open"])
    monkeypatch.setattr(blockers, "_bulk_reexamination_check", lambda: None)
    enrollment = enroll(resident)
    services.evaluate_enrollments(version, now=AFTER, user=center)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.BLOCKED
    assert enrollment.points is not None and enrollment.eligibility_reasons == []
    assert list(services.rankable(version)) == []
    open_reexam["open"] = False
    enrollment = services.refresh_blockers(enrollment, now=AFTER)
    assert enrollment.status == EnrollmentStatus.ELIGIBLE
    assert list(services.rankable(version)) == [enrollment]
