"""Scoping: claims_for / tasks_for / items_for / evidence_for and the *_or_404 helpers; a
department sees only its own tasks, items and evidence; residents_for grows by routed tasks."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory

from jifen.accounts import access
from jifen.claims import services
from tests.claims.conftest import COMMENDATION, NOW, VOLUNTEER, actions
from tests.factories import make_resident, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(submit, upload, resident_user, town_reviewer):
    """A claim with a town item and a social-work item, each with its own file, a file for
    the whole claim, and a supplement file answering the town's materials notice."""
    town_file, social_file, shared_file, supplement_file = upload(), upload(), upload(), upload()
    claim = submit(
        services.ClaimItemInput(**{**COMMENDATION.__dict__, "evidence": [town_file]}),
        services.ClaimItemInput(**{**VOLUNTEER.__dict__, "evidence": [social_file]}),
        evidence=[shared_file],
    )
    town_task = claim.tasks.get(department__code="town")
    services.request_materials(town_task, user=town_reviewer, items=["certificate"], now=NOW)
    services.supplement(town_task, user=resident_user, evidence=[supplement_file], now=NOW)
    return claim, {
        "town": town_file,
        "social": social_file,
        "shared": shared_file,
        "supplement": supplement_file,
    }


def request_for(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_each_department_sees_only_its_own(filed, town_reviewer, social_reviewer):
    claim, files = filed
    for reviewer, own, other in (
        (town_reviewer, "town", "social_work_dept"),
        (social_reviewer, "social_work_dept", "town"),
    ):
        tasks = access.tasks_for(reviewer)
        assert [t.department.code for t in tasks] == [own]
        assert list(access.claims_for(reviewer)) == [claim]
        items = access.items_for(reviewer).filter(claim=claim)
        assert [i.department.code for i in items] == [own]
        other_task = claim.tasks.get(department__code=other)
        with pytest.raises(Http404):
            access.task_or_404(request_for(reviewer), other_task.pk)
        assert access.task_or_404(request_for(reviewer), tasks[0].pk) == tasks[0]
    town_files = set(access.evidence_for(town_reviewer))
    assert town_files == {files["town"], files["shared"], files["supplement"]}
    social_files = set(access.evidence_for(social_reviewer))
    assert social_files == {files["social"], files["shared"]}
    with pytest.raises(Http404):
        access.evidence_or_404(request_for(social_reviewer), files["supplement"].pk)
    assert "access.denied" in actions()


def test_a_department_without_tasks_sees_nothing(filed):
    court = make_user("reviewer", department="court")
    claim, _files = filed
    assert not access.tasks_for(court).exists()
    assert not access.claims_for(court).exists()
    assert not access.evidence_for(court).exists()
    with pytest.raises(Http404):
        access.claim_or_404(request_for(court), claim.pk)


def test_residents_clerks_center(filed, resident, resident_user, clerk, center):
    claim, files = filed
    assert list(access.claims_for(resident_user)) == [claim]
    assert access.tasks_for(resident_user).count() == 2
    assert set(access.evidence_for(resident_user)) == set(files.values())
    assert access.claim_or_404(request_for(resident_user), claim.pk) == claim
    stranger = make_user("resident", resident=make_resident())
    with pytest.raises(Http404):
        access.claim_or_404(request_for(stranger), claim.pk)
    assert not access.evidence_for(stranger).exists()
    assert list(access.claims_for(clerk)) == [claim]
    assert not access.claims_for(make_user("clerk", town="puyuan")).exists()
    assert access.tasks_for(center).count() == 2
    assert set(access.evidence_for(center)) >= set(files.values())
    for role in ("auditor", "system_admin", "security_admin"):
        user = make_user(role)
        assert not access.claims_for(user).exists()
        assert not access.evidence_for(user).exists()
    with pytest.raises(Http404):
        access.claim_or_404(request_for(center), "not-a-uuid")


def test_reviewer_finds_residents_with_a_routed_task(filed, resident, town_reviewer):
    assert list(access.residents_for(town_reviewer)) == [resident]
    court = make_user("reviewer", department="court")
    assert not access.residents_for(court).exists()
