"""Enrolling: the open period to the second, one enrollment per resident, idempotent
re-submission, applicant details and preferences, who may apply, audit and notifications."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from jifen.notifications.models import Notification
from jifen.scenarios import services
from jifen.scenarios.errors import (
    AlreadyEnrolled,
    Closed,
    InvalidEnrollment,
    NotAllowed,
    NotOpenYet,
    NotPublished,
    TransitionNotAllowed,
)
from jifen.scenarios.models import Enrollment, EnrollmentStatus
from tests.factories import make_user
from tests.scenarios.conftest import (
    BEFORE,
    CHILD,
    DURING,
    OPEN,
    PREFS,
    SCHOOL,
    UNTIL,
    actions,
    last_entry,
    scored_resident,
)

pytestmark = pytest.mark.django_db
SECOND = dt.timedelta(seconds=1)


def test_the_second_before_the_opening_is_refused_with_the_dates(resident, enroll):
    with pytest.raises(NotOpenYet) as caught:
        enroll(resident, now=OPEN - SECOND)
    error = caught.value
    assert error.code == "scenarios.not_open_yet" and error.field == "scenario"
    assert "2026-07-01 09:00:00" in error.message and "2026-07-15 17:00:00" in error.message
    assert not Enrollment.objects.exists()


def test_the_first_second_is_accepted(resident, enroll):
    enrollment = enroll(resident, now=OPEN)
    assert enrollment.applied_at == OPEN and enrollment.status == EnrollmentStatus.SUBMITTED


def test_the_last_second_is_accepted(resident, enroll):
    assert enroll(resident, now=UNTIL - SECOND).applied_at == UNTIL - SECOND


def test_open_until_itself_is_closed_with_the_dates(resident, enroll):
    """The period is [open_from, open_until): at open_until exactly it is over."""
    with pytest.raises(Closed) as caught:
        enroll(resident, now=UNTIL)
    assert caught.value.code == "scenarios.closed"
    assert "2026-07-01 09:00:00" in caught.value.message
    assert "2026-07-15 17:00:00" in caught.value.message


def test_the_second_after_is_refused(resident, enroll):
    with pytest.raises(Closed):
        enroll(resident, now=UNTIL + SECOND)
    assert not Enrollment.objects.exists()


def test_the_period_is_compared_as_an_instant_whatever_the_time_zone(resident, enroll):
    utc_open = OPEN.astimezone(dt.UTC)
    with pytest.raises(NotOpenYet):
        enroll(resident, now=utc_open - SECOND)
    assert enroll(resident, now=utc_open).applied_at == OPEN


def test_enrollment_is_audited_numbered_and_told_to_the_resident(resident, enroll, version):
    enrollment = enroll(resident)
    assert enrollment.number == "YY2026000001"
    assert enrollment.version == version and enrollment.preferences == PREFS
    assert enrollment.details == CHILD and enrollment.channel == "portal"
    entry = last_entry("enrollment.submitted")
    assert entry.object_id == str(enrollment.pk)
    assert entry.data["content_hash"] == version.content_hash
    assert entry.data["number"] == enrollment.number
    assert "小明" not in str(entry.data)  # no personal data in the audit log
    note = Notification.objects.get(kind="enrollment.submitted")
    assert note.resident == resident and enrollment.number in note.subject
    assert "2026-07-01" in note.body  # the evaluation date


def test_a_second_enrollment_returns_the_existing_one(resident, enroll):
    first = enroll(resident)
    with pytest.raises(AlreadyEnrolled) as caught:
        enroll(resident, now=DURING + dt.timedelta(hours=1), preferences=["school:wuzhen-1"])
    error = caught.value
    assert error.code == "scenarios.already_enrolled" and error.enrollment == first
    assert first.number in error.message
    assert Enrollment.objects.count() == 1
    assert Enrollment.objects.get().preferences == PREFS  # the first submission stands
    assert actions(prefix="enrollment.submitted") == ["enrollment.submitted"]


def test_an_acknowledged_enrollment_retried_after_the_close_is_still_found(resident, enroll):
    first = enroll(resident, now=UNTIL - SECOND)
    with pytest.raises(AlreadyEnrolled) as caught:
        enroll(resident, now=UNTIL + SECOND)
    assert caught.value.enrollment == first


def test_the_database_refuses_a_second_row(resident, enroll, version):
    from django.db import IntegrityError, transaction

    first = enroll(resident)
    with (
        pytest.raises(IntegrityError, match=r"scenarios_one_enrollment_per_resident|UNIQUE"),
        transaction.atomic(),
    ):
        Enrollment.objects.create(
            number="YY2026999999",
            scenario=first.scenario,
            version=version,
            resident=resident,
            submitted_by=first.submitted_by,
            applied_at=DURING,
            updated_at=DURING,
        )


def test_a_clerk_of_the_residents_town_may_enroll_at_the_window(resident, enroll):
    clerk = make_user("clerk", town="wutong")
    enrollment = enroll(resident, user=clerk)
    assert enrollment.channel == "window" and enrollment.submitted_by == clerk


@pytest.mark.parametrize("who", ["clerk_elsewhere", "other_resident", "reviewer", "center"])
def test_nobody_else_may_enroll_a_resident(resident, enroll, who):
    user = {
        "clerk_elsewhere": lambda: make_user("clerk", town="puyuan"),
        "other_resident": lambda: make_user("resident"),
        "reviewer": lambda: make_user("reviewer", department="education_bureau"),
        "center": lambda: make_user("center"),
    }[who]()
    with pytest.raises(NotAllowed) as caught:
        enroll(resident, user=user)
    assert caught.value.code == "scenarios.not_allowed"


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({}, "details.child_birth_date"),
        ({"child_birth_date": "2019-08-31"}, "details.child_birth_date"),
        ({"child_birth_date": "2020-09-01"}, "details.child_birth_date"),
        ({"child_birth_date": "01/12/2019"}, "details.child_birth_date"),
        ({"child_birth_date": "2019-12-01", "child_name": "x" * 51}, "details.child_name"),
        ({"child_birth_date": "2019-12-01", "phone": "13800000000"}, "details.phone"),
        ({"child_birth_date": "2019-12-01", "household_size": 0}, "details.household_size"),
    ],
)
def test_applicant_details_are_checked_per_eligibility(resident, enroll, details, field):
    with pytest.raises(InvalidEnrollment) as caught:
        enroll(resident, details=details)
    assert caught.value.field == field


def test_the_birth_date_range_is_inclusive_and_named(resident, enroll):
    with pytest.raises(InvalidEnrollment) as caught:
        enroll(resident, details={"child_birth_date": "2020-09-01"})
    assert "2019-09-01" in caught.value.message and "2020-08-31" in caught.value.message
    assert enroll(resident, details={"child_birth_date": "2020-08-31"}).details == {
        "child_birth_date": "2020-08-31"
    }


@pytest.mark.parametrize(
    ("preferences", "field"),
    [
        ([], "preferences"),
        (["school:nowhere"], "preferences[0]"),
        (["school:wutong-1", "school:wutong-1"], "preferences[1]"),
        (["school:wutong-1", "school:puyuan-1", "school:wuzhen-1", "school:x"], "preferences[3]"),
    ],
)
def test_preferences_are_checked_against_the_quotas(resident, enroll, preferences, field):
    with pytest.raises(InvalidEnrollment) as caught:
        enroll(resident, preferences=preferences)
    assert caught.value.field == field


def test_a_scenario_without_preferences_refuses_them(center, education, resident):
    content = copy.deepcopy(SCHOOL)
    content.update(preferences=None, quotas=[{"key": "all", "label": "全部", "places": 3}])
    content["eligibility"] = {"min_total": 0}
    version = services.define_scenario(
        code="one-quota",
        name="单一名额",
        department=education,
        content=content,
        user=center,
        now=BEFORE,
        publish=True,
    )
    user = make_user("resident", resident=resident)
    with pytest.raises(InvalidEnrollment) as caught:
        services.enroll(
            scenario=version.scenario, resident=resident, user=user, preferences=["all"], now=DURING
        )
    assert caught.value.field == "preferences"
    with pytest.raises(InvalidEnrollment) as caught:
        services.enroll(
            scenario=version.scenario,
            resident=resident,
            user=user,
            details={"child_birth_date": "2019-12-01"},
            now=DURING,
        )
    assert caught.value.field == "details.child_birth_date"
    assert (
        services.enroll(
            scenario=version.scenario, resident=resident, user=user, now=DURING
        ).preferences
        == []
    )


def test_an_unpublished_scenario_takes_no_enrollment(center, education, resident):
    scenario = services.create_scenario(
        code="draft-only", name="草稿", department=education, user=center, now=BEFORE
    )
    services.draft_version(scenario=scenario, content=SCHOOL, user=center, now=BEFORE)
    with pytest.raises(NotPublished):
        services.enroll(
            scenario=scenario,
            resident=resident,
            user=make_user("resident", resident=resident),
            details=CHILD,
            preferences=PREFS,
            now=DURING,
        )


def test_an_enrollment_keeps_the_version_it_was_made_under(version, resident, enroll, center):
    first = enroll(resident)
    content = copy.deepcopy(SCHOOL)
    content["quotas"][0]["places"] = 10
    newer = services.draft_version(
        scenario=version.scenario, content=content, user=center, now=DURING
    )
    services.publish_version(newer, user=center, now=DURING)
    later = enroll(scored_resident(), now=DURING + dt.timedelta(hours=1))
    first.refresh_from_db()
    assert first.version == version and later.version == newer
    assert first.version.content["quotas"][0]["places"] == 2


def test_withdrawal_inside_the_period_and_a_new_submission(resident, enroll):
    enrollment = enroll(resident)
    user = enrollment.submitted_by
    services.withdraw_enrollment(enrollment, user=user, reason="moved", now=DURING)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.WITHDRAWN
    with pytest.raises(TransitionNotAllowed):
        services.withdraw_enrollment(enrollment, user=user, now=DURING)
    again = enroll(resident, now=DURING + dt.timedelta(days=1), preferences=["school:wuzhen-1"])
    assert again.pk == enrollment.pk and again.number == enrollment.number
    assert again.status == EnrollmentStatus.SUBMITTED
    assert again.applied_at == DURING + dt.timedelta(days=1)
    assert again.preferences == ["school:wuzhen-1"]
    assert actions(again, "enrollment.") == [
        "enrollment.submitted",
        "enrollment.withdrawn",
        "enrollment.resubmitted",
    ]


def test_no_withdrawal_after_the_period(resident, enroll):
    enrollment = enroll(resident)
    with pytest.raises(Closed):
        services.withdraw_enrollment(enrollment, user=enrollment.submitted_by, now=UNTIL)
