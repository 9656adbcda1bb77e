"""Filing a re-examination: the window across the National Day holiday, complete materials,
one open request per enrollment and item, routing, deadlines, audit and notifications."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.notifications.models import Notification
from jifen.reexaminations import errors
from jifen.reexaminations.models import Reexamination, ReexaminationState
from jifen.reexaminations.services import file_reexamination, has_open_reexamination, withdraw
from tests.factories import CHINA_TZ, make_user
from tests.reexaminations.world import FIRST_DAY, LAST_DAY, actions, upload

ITEM = "provincial.social_insurance"


def file(world, name="c", *, item=ITEM, now=FIRST_DAY, user=None, statement="My contributions "
         "since 2019 are missing.", evidence=None):  # fmt: skip
    resident = world.residents[name]
    user = user or world.users[name]
    if evidence is None:
        evidence = [upload(resident, world.users[name], now=now)]
    return file_reexamination(
        publication=world.publication,
        enrollment=world.enrollments[name],
        user=user,
        item=item,
        statement=statement,
        evidence=evidence,
        now=now,
    )


def test_the_window_counts_the_first_day_and_spans_the_national_day_holiday(world):
    assert world.publication.filing_until == LAST_DAY
    # The day before publication: not open yet.
    with pytest.raises(errors.WindowNotOpen) as early:
        file(world, now=dt.datetime(2025, 9, 29, 23, 59, 59, tzinfo=CHINA_TZ))
    assert early.value.code == "reexaminations.window_not_open"
    # During the holiday (still inside the window: its working days are 09-30, 10-09, 10-10).
    holiday = file(world, item="provincial.age", now=dt.datetime(2025, 10, 5, 12, tzinfo=CHINA_TZ))
    assert holiday.state == ReexaminationState.SUBMITTED
    # The last second of the 3rd working day.
    last = file(world, now=dt.datetime(2025, 10, 10, 23, 59, 59, tzinfo=CHINA_TZ))
    assert last.filing_deadline == LAST_DAY
    # The adjusted working Saturday 10-11 is the 4th working day: too late, with the date.
    with pytest.raises(errors.WindowClosed) as late:
        file(world, "b", now=dt.datetime(2025, 10, 11, 0, 0, tzinfo=CHINA_TZ))
    assert late.value.code == "reexaminations.window_closed"
    assert late.value.field == "publication"
    assert late.value.deadline == LAST_DAY
    assert "2025-10-10" in str(late.value.message)
    assert Reexamination.objects.filter(enrollment=world.enrollments["b"]).count() == 0


def test_routed_to_the_department_behind_the_item_due_in_seven_working_days(world):
    hrss = make_user("reviewer", department="zj_hrss")
    other = make_user("reviewer", department="education_bureau")
    reexamination = file(world)
    assert reexamination.number.startswith("FH2025")
    assert reexamination.department.code == "zj_hrss"  # sent the social insurance fact
    assert reexamination.due_on == dt.date(2025, 10, 16)
    assert reexamination.calendar_version >= 1
    assert reexamination.resident == world.residents["c"]
    assert reexamination.evidence.count() == 1
    assert actions(reexamination) == ["reexamination.filed"]
    assert Notification.objects.filter(user=hrss, kind="reexamination.filed").count() == 1
    assert not Notification.objects.filter(user=other).exists()
    assert Notification.objects.filter(
        resident=world.residents["c"], kind="reexamination.filed"
    ).exists()
    # Education is behind the education item (its feed recorded the degree).
    education = file(world, item="provincial.education")
    assert education.department.code == "zj_education"
    # An item without any fact falls back to the routing table.
    skill = file(world, item="city.charity")
    assert skill.department.code not in ("", "town")


def test_complete_materials_are_required_with_the_field_named(world):
    with pytest.raises(errors.MaterialsIncomplete) as no_files:
        file(world, evidence=[])
    assert (no_files.value.code, no_files.value.field) == (
        "reexaminations.materials_incomplete",
        "evidence",
    )
    with pytest.raises(errors.MaterialsIncomplete) as no_statement:
        file(world, statement="   ")
    assert no_statement.value.field == "statement"
    with pytest.raises(errors.InvalidReexamination) as bad_item:
        file(world, item="provincial.nonsense")
    assert (bad_item.value.code, bad_item.value.field) == ("reexaminations.invalid", "item")
    foreign = upload(world.residents["a"], world.users["a"])
    with pytest.raises(errors.InvalidReexamination) as not_theirs:
        file(world, evidence=[foreign])
    assert not_theirs.value.field == "evidence"
    assert not Reexamination.objects.exists()


def test_one_open_request_per_enrollment_and_item(world):
    first = file(world)
    with pytest.raises(errors.DuplicateOpen) as again:
        file(world)
    assert again.value.code == "reexaminations.duplicate_open"
    assert again.value.existing == first
    assert has_open_reexamination(world.residents["c"])
    assert not has_open_reexamination(world.residents["a"])
    withdraw(first, user=world.users["c"], reason="filed by mistake", now=FIRST_DAY)
    assert not has_open_reexamination(world.residents["c"].pk)
    assert file(world).state == ReexaminationState.SUBMITTED
    assert actions(first) == ["reexamination.filed", "reexamination.withdrawn"]


def test_only_the_applicant_or_their_towns_clerk_files(world):
    with pytest.raises(errors.NotAllowed):
        file(world, "c", user=world.users["a"])
    with pytest.raises(errors.NotAllowed):
        file(world, "c", user=make_user("clerk", town="puyuan"))
    with pytest.raises(errors.NotAllowed):
        file(world, "c", user=world.center)
    at_window = file(world, "c", user=make_user("clerk", town="wutong"))
    assert at_window.channel == "window"


def test_the_database_refuses_a_second_open_request(world):
    from django.db import IntegrityError, transaction

    first = file(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reexamination.objects.create(
            number="FH2025999999",
            publication=first.publication,
            enrollment=first.enrollment,
            resident=first.resident,
            item=first.item,
            statement="again",
            department=first.department,
            filed_at=first.filed_at,
            filed_by=first.filed_by,
            filing_deadline=first.filing_deadline,
            due_on=first.due_on,
            calendar_version=first.calendar_version,
        )
