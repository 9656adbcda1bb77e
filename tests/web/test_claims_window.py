"""The window clerk files a claim for a resident of their town (recorded as the window channel)
from the workbench, follows it, supplements and withdraws it; the center reads it; clerks of
other towns and other roles cannot."""

from __future__ import annotations

import pytest

from jifen.claims import services
from jifen.claims.models import Claim, ClaimStatus, ReviewState
from tests.factories import NOW
from tests.web import test_claims_support as support
from tests.web.test_claims_support import bravery, file_claim, last, pdf_upload, task_of

at, cw, evidence_root = support.at, support.cw, support.evidence_root

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client, cw):
    client.force_login(cw.clerk_wutong)
    return client


def test_the_clerk_files_a_claim_at_the_window(clerk, cw):
    page = clerk.get(f"/workbench/residents/{cw.alice.pk}/claims/").content.decode()
    assert 'id="window-new"' in page
    response = clerk.post(
        f"/workbench/residents/{cw.alice.pk}/claims/new/",
        {"rule": ["honours.bravery"], "go": "next"},
    )
    claim = Claim.objects.get(resident=cw.alice)
    assert claim.channel == "window" and claim.filed_by == cw.clerk_wutong
    assert response["Location"] == f"/workbench/claims/{claim.pk}/edit/details/"
    page = clerk.get(f"/workbench/claims/{claim.pk}/edit/details/").content.decode()
    assert 'id="window-resident"' in page
    clerk.post(
        f"/workbench/claims/{claim.pk}/edit/details/",
        {"level-0": "county", "date-0": "2024-09-01", "go": "next"},
    )
    clerk.post(
        f"/workbench/claims/{claim.pk}/edit/evidence/", {"file": [pdf_upload()], "go": "next"}
    )
    response = clerk.post(f"/workbench/claims/{claim.pk}/edit/review/", {"go": "submit"})
    assert response["Location"] == f"/workbench/claims/{claim.pk}/"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.channel == "window" and claim.filed_at_town.code == "wutong"
    entry = last("claim.submitted")
    assert entry.actor_id == str(cw.clerk_wutong.pk) and entry.data["channel"] == "window"
    assert last("evidence.uploaded").actor_id == str(cw.clerk_wutong.pk)
    page = clerk.get(f"/workbench/claims/{claim.pk}/").content.decode()
    assert claim.number in page and 'id="withdraw"' in page

    # The resident sees the window claim in "my applications".
    clerk.force_login(cw.alice_user)
    assert claim.number in clerk.get("/me/claims/").content.decode()


def test_the_window_draft_is_not_the_residents_to_edit(client, cw):
    client.force_login(cw.clerk_wutong)
    client.post(
        f"/workbench/residents/{cw.alice.pk}/claims/new/",
        {"rule": ["honours.bravery"], "go": "next"},
    )
    claim = Claim.objects.get(resident=cw.alice)
    client.force_login(cw.alice_user)
    assert client.get(f"/me/claims/{claim.pk}/edit/details/").status_code == 404
    assert str(claim.pk) not in client.get("/me/claims/").content.decode()


def test_the_clerk_supplements_and_withdraws_for_the_resident(clerk, cw):
    claim = file_claim(cw, [bravery()])
    task = task_of(claim, "public_security_bureau")
    services.request_materials(task, user=cw.reviewer_psb, items=["award certificate"], now=NOW)
    page = clerk.get(f"/workbench/claims/{claim.pk}/").content.decode()
    assert "award certificate" in page and f'id="supplement-{task.pk}"' in page
    response = clerk.post(
        f"/workbench/claims/{claim.pk}/tasks/{task.pk}/supplement",
        {"file": [pdf_upload("award.pdf")]},
    )
    assert response["Location"] == f"/workbench/claims/{claim.pk}/"
    task.refresh_from_db()
    assert task.state == ReviewState.SUBMITTED
    assert last("claim.supplemented").actor_id == str(cw.clerk_wutong.pk)

    response = clerk.post(f"/workbench/claims/{claim.pk}/withdraw", {"reason": "at request"})
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    assert last("claim.withdrawn").actor_id == str(cw.clerk_wutong.pk)


def test_a_clerk_of_another_town_finds_nothing(client, cw):
    claim = file_claim(cw, [bravery()])
    task = claim.tasks.get()
    client.force_login(cw.clerk_puyuan)
    assert client.get(f"/workbench/residents/{cw.alice.pk}/claims/").status_code == 404
    assert client.get(f"/workbench/residents/{cw.alice.pk}/claims/new/").status_code == 404
    assert client.get(f"/workbench/claims/{claim.pk}/").status_code == 404
    assert client.post(f"/workbench/claims/{claim.pk}/withdraw").status_code == 404
    assert (
        client.post(f"/workbench/claims/{claim.pk}/tasks/{task.pk}/supplement").status_code == 404
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert last("access.denied").data["reason"] == "out_of_scope"


def test_the_center_reads_but_does_not_file_or_withdraw(client, cw):
    claim = file_claim(cw, [bravery()])
    client.force_login(cw.center)
    page = client.get(f"/workbench/residents/{cw.alice.pk}/claims/").content.decode()
    assert claim.number in page and 'id="window-new"' not in page
    page = client.get(f"/workbench/claims/{claim.pk}/").content.decode()
    assert claim.number in page and 'id="withdraw"' not in page
    assert client.get(f"/workbench/residents/{cw.alice.pk}/claims/new/").status_code == 403
    assert client.post(f"/workbench/claims/{claim.pk}/withdraw").status_code == 403


@pytest.mark.parametrize("name", ["alice_user", "reviewer_psb", "auditor"])
def test_other_roles_have_no_window_pages(client, cw, name):
    claim = file_claim(cw, [bravery()])
    client.force_login(cw.user(name))
    assert client.get(f"/workbench/residents/{cw.alice.pk}/claims/").status_code == 403
    assert client.get(f"/workbench/residents/{cw.alice.pk}/claims/new/").status_code == 403
    assert client.get(f"/workbench/claims/{claim.pk}/").status_code == 403
    assert last("access.denied").data["reason"] == "role"
