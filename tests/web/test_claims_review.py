"""The review workbench: the department's queue and its filters, the review page with the
evidence viewer and the history, every step (accept, refuse, the one materials notice, the one
extension, the decision per item) with its audit entry, errors next to the field with nothing
changed, and isolation between departments."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.models import AuditEntry
from jifen.claims import services
from jifen.claims.models import MaterialsNotice, ReviewState
from jifen.facts.models import Fact, FactSource
from jifen.scores.models import Score
from tests.factories import NOW
from tests.web import test_claims_support as support
from tests.web.test_claims_support import (
    bravery,
    file_claim,
    last,
    pdf_upload,
    png_upload,
    task_of,
    volunteer,
)

at, cw, evidence_root = support.at, support.cw, support.evidence_root

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(cw):
    return file_claim(cw, files=[pdf_upload(), png_upload()])


@pytest.fixture
def psb(client, cw):
    client.force_login(cw.reviewer_psb)
    return client


def test_the_queue_shows_the_departments_tasks_only(psb, cw, claim):
    page = psb.get("/workbench/review/").content.decode()
    mine = task_of(claim, "public_security_bureau")
    other = task_of(claim, "social_work_dept")
    assert f'id="task-row-{mine.pk}"' in page and f'id="task-row-{other.pk}"' not in page
    assert claim.number in page
    assert cw.alice.name not in page  # masked in the list


def test_queue_filters_by_state_and_deadline(psb, cw, claim, at):
    task = task_of(claim, "public_security_bureau")
    second = file_claim(cw, [bravery()], user=cw.bob_user, resident=cw.bob)
    other = task_of(second, "public_security_bureau")
    services.accept(task, user=cw.reviewer_psb, now=NOW)  # due 2025-06-16

    def rows(**params):
        psb.force_login(cw.reviewer_psb)  # moving the clock ends the session
        response = psb.get("/workbench/review/", params)
        return {t.pk for t in response.context["page"]}

    assert rows() == {task.pk, other.pk}
    assert rows(state="accepted") == {task.pk}
    assert rows(state="submitted") == {other.pk}
    assert rows(due="today") == set()
    at.set(dt.datetime(2025, 6, 16, 9, 0, tzinfo=NOW.tzinfo))
    assert rows(due="today") == {task.pk}
    at.set(dt.datetime(2025, 6, 11, 9, 0, tzinfo=NOW.tzinfo))  # 3 working days before
    assert rows(due="soon") == {task.pk}
    at.set(dt.datetime(2025, 6, 10, 9, 0, tzinfo=NOW.tzinfo))  # 4 working days before
    assert rows(due="soon") == set()
    at.set(dt.datetime(2025, 6, 17, 9, 0, tzinfo=NOW.tzinfo))
    assert rows(due="overdue") == {task.pk}
    psb.force_login(cw.reviewer_psb)
    page = psb.get("/workbench/review/", {"due": "overdue"}).content.decode()
    assert 'class="badge overdue"' in page
    htmx = psb.get("/workbench/review/", {"state": "all"}, HTTP_HX_REQUEST="true")
    assert "<html" not in htmx.content.decode()


def test_the_center_sees_every_department_and_filters_by_one(client, cw, claim):
    client.force_login(cw.center)
    response = client.get("/workbench/review/")
    assert {t.pk for t in response.context["page"]} == set(claim.tasks.values_list("pk", flat=True))
    response = client.get("/workbench/review/", {"department": "social_work_dept"})
    assert [t.department.code for t in response.context["page"]] == ["social_work_dept"]


def test_review_page_shows_items_evidence_viewer_and_history(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    page = psb.get(f"/workbench/review/{task.pk}/").content.decode()
    assert "见义勇为" in page  # honours.bravery
    assert "志愿服务" not in page  # the other department's item
    png = claim.evidence.get(content_type="image/png")
    pdf = claim.evidence.get(content_type="application/pdf")
    assert f'<img src="/evidence/{png.pk}"' in page
    assert f'href="/evidence/{pdf.pk}"' in page and f'<img src="/evidence/{pdf.pk}"' not in page
    assert 'id="history"' in page
    assert 'id="form-accept"' in page and 'id="form-materials"' in page
    assert 'id="form-decide"' not in page  # not accepted yet


def test_accept_sets_the_deadline_and_is_audited(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    response = psb.post(f"/workbench/review/{task.pk}/accept")
    assert response["Location"] == f"/workbench/review/{task.pk}/"
    task.refresh_from_db()
    assert task.state == ReviewState.ACCEPTED and task.due_on == dt.date(2025, 6, 16)
    entry = last("claim.accepted")
    assert entry.actor_id == str(cw.reviewer_psb.pk) and entry.object_id == str(task.pk)
    assert entry.data["due_on"] == "2025-06-16"
    page = psb.get(f"/workbench/review/{task.pk}/").content.decode()
    assert 'id="due-on">2025-06-16' in page
    assert 'id="form-decide"' in page and 'id="form-extend"' in page
    assert "claim.accepted" not in page  # labelled, not the code


def test_the_materials_notice_is_sent_once(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    response = psb.post(
        f"/workbench/review/{task.pk}/materials",
        {"items": "certificate of the county award\n\n  witness statement  \n", "note": "scan"},
    )
    assert response.status_code == 302
    notice = MaterialsNotice.objects.get(task=task)
    assert notice.items == ["certificate of the county award", "witness statement"]
    assert last("claim.materials_requested").actor_id == str(cw.reviewer_psb.pk)
    page = psb.get(f"/workbench/review/{task.pk}/").content.decode()
    assert 'id="notice"' in page and 'id="form-materials"' not in page

    # The resident supplements; the task comes back; a second notice is refused.
    services.supplement(task, user=cw.alice_user, note="attached", now=NOW)
    response = psb.post(f"/workbench/review/{task.pk}/materials", {"items": "more"})
    assert response.status_code == 409
    assert MaterialsNotice.objects.filter(task=task).count() == 1
    assert 'id="form-errors"' in response.content.decode()


def test_an_empty_materials_list_is_refused_next_to_the_field(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    response = psb.post(f"/workbench/review/{task.pk}/materials", {"items": "  \n "})
    assert response.status_code == 400
    assert 'id="error-items"' in response.content.decode()
    task.refresh_from_db()
    assert task.state == ReviewState.SUBMITTED
    assert not AuditEntry.objects.filter(action="claim.materials_requested").exists()


def test_extend_once_with_a_reason(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    services.accept(task, user=cw.reviewer_psb, now=NOW)
    response = psb.post(f"/workbench/review/{task.pk}/extend", {"reason": ""})
    assert response.status_code == 400
    assert 'id="error-reason"' in response.content.decode()
    response = psb.post(f"/workbench/review/{task.pk}/extend", {"reason": "awaiting the county"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.extended and task.due_on == dt.date(2025, 6, 23)
    assert last("claim.extended").data["due_on"] == "2025-06-23"
    response = psb.post(f"/workbench/review/{task.pk}/extend", {"reason": "again"})
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.due_on == dt.date(2025, 6, 23)


def test_refuse_with_a_reason(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    response = psb.post(f"/workbench/review/{task.pk}/refuse", {"reason": "not our remit"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == ReviewState.REJECTED and task.decision_reason == "not our remit"
    assert last("claim.refused").actor_id == str(cw.reviewer_psb.pk)


def test_decide_approve_creates_the_fact_and_raises_the_points(
    psb, cw, claim, django_capture_on_commit_callbacks
):
    task = task_of(claim, "public_security_bureau")
    services.accept(task, user=cw.reviewer_psb, now=NOW)
    item = task.items.get()
    before = Score.objects.get(resident=cw.alice, is_current=True).total
    with django_capture_on_commit_callbacks(execute=True):
        response = psb.post(
            f"/workbench/review/{task.pk}/decide", {f"outcome-{item.pk}": "approved"}
        )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == ReviewState.APPROVED
    fact = Fact.objects.get(resident=cw.alice, code="honours.bravery", superseded_at=None)
    assert fact.source == FactSource.CLAIM and fact.source_ref == claim.number
    after = Score.objects.get(resident=cw.alice, is_current=True).total
    assert after == before + 10  # county level
    entry = last("claim.decided")
    assert entry.actor_id == str(cw.reviewer_psb.pk)
    assert entry.data["items"][0]["outcome"] == "approved"
    page = psb.get(f"/workbench/review/{task.pk}/").content.decode()
    assert 'id="form-decide"' not in page


def test_decide_adjust_without_a_reason_is_refused_next_to_the_item(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    services.accept(task, user=cw.reviewer_psb, now=NOW)
    item = task.items.get()
    response = psb.post(
        f"/workbench/review/{task.pk}/decide",
        {f"outcome-{item.pk}": "adjusted", f"level-{item.pk}": "city"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    section = page.split(f'id="decide-{item.pk}"')[1].split("</fieldset>")[0]
    assert "errorlist" in section
    task.refresh_from_db()
    assert task.state == ReviewState.ACCEPTED
    assert not Fact.objects.filter(code="honours.bravery").exists()
    assert 'value="adjusted" selected' in section  # what was posted comes back


def test_decide_adjust_and_reject(psb, cw):
    claim = file_claim(cw, [bravery("province")])
    task = task_of(claim, "public_security_bureau")
    services.accept(task, user=cw.reviewer_psb, now=NOW)
    item = task.items.get()
    response = psb.post(
        f"/workbench/review/{task.pk}/decide",
        {
            f"outcome-{item.pk}": "adjusted",
            f"level-{item.pk}": "county",
            f"reason-{item.pk}": "confirmed by the county only",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.outcome == "adjusted" and item.approved_level == "county"
    task.refresh_from_db()
    assert task.state == ReviewState.PARTLY_APPROVED


def test_another_departments_task_is_not_found_on_every_step(client, cw, claim):
    task = task_of(claim, "social_work_dept")
    client.force_login(cw.reviewer_psb)
    assert client.get(f"/workbench/review/{task.pk}/").status_code == 404
    for action in ("accept", "refuse", "materials", "extend", "decide"):
        assert (
            client.post(f"/workbench/review/{task.pk}/{action}", {"reason": "x"}).status_code == 404
        )
    task.refresh_from_db()
    assert task.state == ReviewState.SUBMITTED
    denied = AuditEntry.objects.filter(action="access.denied", actor_id=str(cw.reviewer_psb.pk))
    assert denied.count() == 6
    assert {e.data["reason"] for e in denied} == {"out_of_scope"}


def test_another_departments_evidence_is_not_served(client, cw):
    claim = file_claim(
        cw,
        [bravery(), volunteer()],
        files=[pdf_upload()],
    )
    # A file of the volunteer item only (social work): public security may not open it.
    from jifen.claims.models import ClaimEvidence
    from jifen.evidence.services import store_upload

    social_item = claim.items.get(rule="charity.volunteer_hours")
    only_social = store_upload(png_upload(), resident=cw.alice, user=cw.alice_user, now=NOW)
    ClaimEvidence.objects.create(
        claim=claim, evidence=only_social, item=social_item, added_at=NOW, added_by=cw.alice_user
    )
    client.force_login(cw.reviewer_psb)
    assert client.get(f"/evidence/{only_social.pk}").status_code == 404
    task = task_of(claim, "public_security_bureau")
    assert (
        f"/evidence/{only_social.pk}"
        not in client.get(f"/workbench/review/{task.pk}/").content.decode()
    )
    client.force_login(cw.user("reviewer_social"))
    response = client.get(f"/evidence/{only_social.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    entry = last("evidence.downloaded")
    assert entry.object_id == str(only_social.pk)
    assert entry.actor_id == str(cw.user("reviewer_social").pk)


def test_the_evidence_download_is_an_audited_attachment(client, cw, claim):
    pdf = claim.evidence.get(content_type="application/pdf")
    client.force_login(cw.alice_user)
    response = client.get(f"/evidence/{pdf.pk}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert last("evidence.downloaded").actor_id == str(cw.alice_user.pk)
    client.force_login(cw.bob_user)
    assert client.get(f"/evidence/{pdf.pk}").status_code == 404
    client.force_login(cw.clerk_puyuan)
    assert client.get(f"/evidence/{pdf.pk}").status_code == 404
    client.force_login(cw.clerk_wutong)
    assert client.get(f"/evidence/{pdf.pk}").status_code == 200


@pytest.mark.parametrize("name", ["alice_user", "clerk_wutong", "auditor", "system_admin"])
def test_residents_clerks_and_others_have_no_review_pages(client, cw, claim, name):
    task = task_of(claim, "public_security_bureau")
    client.force_login(cw.user(name))
    assert client.get("/workbench/review/").status_code == 403
    assert client.get(f"/workbench/review/{task.pk}/").status_code == 403
    assert client.post(f"/workbench/review/{task.pk}/accept").status_code == 403
    task.refresh_from_db()
    assert task.state == ReviewState.SUBMITTED
    assert last("access.denied").data["reason"] == "role"


def test_the_center_reviews_any_department(client, cw, claim):
    task = task_of(claim, "social_work_dept")
    client.force_login(cw.center)
    assert client.post(f"/workbench/review/{task.pk}/accept").status_code == 302
    task.refresh_from_db()
    assert task.state == ReviewState.ACCEPTED
    assert last("claim.accepted").actor_id == str(cw.center.pk)


def test_history_lists_the_steps_of_the_task(psb, cw, claim):
    task = task_of(claim, "public_security_bureau")
    psb.post(f"/workbench/review/{task.pk}/accept")
    page = psb.get(f"/workbench/review/{task.pk}/").content.decode()
    history = page.split('id="history"')[1]
    assert "reviewer_psb" in history
    assert history.count("<tr>") >= 3  # header, submitted, accepted


def test_review_forms_need_the_csrf_token(cw, claim):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cw.reviewer_psb)
    task = task_of(claim, "public_security_bureau")
    assert client.post(f"/workbench/review/{task.pk}/accept").status_code == 403
    task.refresh_from_db()
    assert task.state == ReviewState.SUBMITTED
