"""The resident's claims pages: "my applications", the wizard saved as a draft at every step,
the status page (deadline, materials notice, supplement, decision), withdrawal, corrections;
and who may not open them."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.models import AuditEntry
from jifen.claims import services
from jifen.claims.models import Claim, ClaimItem, ClaimStatus, ReviewState
from jifen.evidence.models import Evidence
from jifen.facts.models import Fact
from tests.factories import NOW
from tests.web import test_claims_support as support
from tests.web.test_claims_support import bravery, file_claim, last, pdf_upload, png_upload, task_of

# Fixtures of the support module.
at, cw, evidence_root = support.at, support.cw, support.evidence_root

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client, cw):
    client.force_login(cw.alice_user)
    return client


def draft_of(world) -> Claim:
    return Claim.objects.get(resident=world.alice, status=ClaimStatus.DRAFT)


def walk_wizard(client, world, *, upload=True):
    """Rules → details → evidence → review; returns the draft before submission."""
    response = client.post(
        "/me/claims/new/", {"rule": ["honours.bravery", "charity.volunteer_hours"], "go": "next"}
    )
    claim = draft_of(world)
    assert response.status_code == 302
    assert response["Location"] == f"/me/claims/{claim.pk}/edit/details/"
    details = {
        "level-0": "county",
        "date-0": "2024-09-01",
        "statement-0": "rescued a child from the canal",
        "quantity-1": "25",
        "date-1": "2025-03-01",
        "go": "next",
    }
    response = client.post(f"/me/claims/{claim.pk}/edit/details/", details)
    assert response["Location"] == f"/me/claims/{claim.pk}/edit/evidence/"
    if upload:
        response = client.post(
            f"/me/claims/{claim.pk}/edit/evidence/", {"file": [pdf_upload()], "go": "stay"}
        )
        assert response.status_code == 302
    response = client.post(f"/me/claims/{claim.pk}/edit/evidence/", {"go": "next"})
    assert response["Location"] == f"/me/claims/{claim.pk}/edit/review/"
    return draft_of(world)


def test_the_wizard_saves_a_draft_at_every_step_and_submits(alice, cw):
    claim = walk_wizard(alice, cw)
    assert claim.draft["rules"] == ["honours.bravery", "charity.volunteer_hours"]
    assert claim.draft["items"]["honours.bravery"]["level"] == "county"
    assert len(claim.draft["evidence"]) == 1
    assert AuditEntry.objects.filter(action="claim.draft_created").count() == 1
    assert last("evidence.uploaded").data["content_type"] == "application/pdf"

    page = alice.get(f"/me/claims/{claim.pk}/edit/review/").content.decode()
    assert "certificate.pdf" in page and "rescued a child" in page

    response = alice.post(f"/me/claims/{claim.pk}/edit/review/", {"go": "submit"})
    claim.refresh_from_db()
    assert response["Location"] == f"/me/claims/{claim.pk}/"
    assert claim.status == ClaimStatus.SUBMITTED and claim.number.startswith("SQ2025")
    assert claim.channel == "portal"
    assert sorted(claim.tasks.values_list("department__code", flat=True)) == [
        "public_security_bureau",
        "social_work_dept",
    ]
    assert claim.evidence.count() == 1
    entry = last("claim.submitted")
    assert entry.actor_id == str(cw.alice_user.pk) and entry.object_id == str(claim.pk)

    page = alice.get(f"/me/claims/{claim.pk}/").content.decode()
    assert claim.number in page and "公安局" in page and "社工部" in page
    listing = alice.get("/me/claims/").content.decode()
    assert claim.number in listing


def test_a_timed_out_session_loses_nothing_the_draft_resumes(client, cw):
    client.force_login(cw.alice_user)
    claim = walk_wizard(client, cw, upload=False)
    client.logout()
    client.force_login(cw.alice_user)
    listing = client.get("/me/claims/").content.decode()
    assert f"/me/claims/{claim.pk}/" in listing
    response = client.get(f"/me/claims/{claim.pk}/")
    assert response["Location"] == f"/me/claims/{claim.pk}/edit/evidence/"
    page = client.get(f"/me/claims/{claim.pk}/edit/details/").content.decode()
    assert 'value="25"' in page and "rescued a child from the canal" in page


def test_htmx_autosave_stores_the_open_step(alice, cw):
    alice.post("/me/claims/new/", {"rule": ["honours.bravery"], "go": "next"})
    claim = draft_of(cw)
    response = alice.post(
        f"/me/claims/{claim.pk}/edit/details/",
        {"level-0": "city", "date-0": "2024-01-02"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "<html" not in response.content.decode()
    claim.refresh_from_db()
    assert claim.draft["items"]["honours.bravery"] == {
        "level": "city",
        "quantity": "",
        "date": "2024-01-02",
        "statement": "",
        "department": "",
    }
    assert claim.status == ClaimStatus.DRAFT


def test_choosing_no_rule_is_refused_next_to_the_list(alice, cw):
    response = alice.post("/me/claims/new/", {"go": "next"})
    assert response.status_code == 200
    assert 'id="error-items"' in response.content.decode()
    assert not Claim.objects.exists()


def test_service_errors_are_shown_next_to_the_field_and_nothing_is_submitted(alice, cw):
    alice.post("/me/claims/new/", {"rule": ["honours.bravery"], "go": "next"})
    claim = draft_of(cw)
    # A future date and no level: the service names items[0].level first.
    alice.post(f"/me/claims/{claim.pk}/edit/details/", {"date-0": "2030-01-01", "go": "next"})
    response = alice.post(f"/me/claims/{claim.pk}/edit/review/", {"go": "submit"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-level-honours.bravery"' in page
    assert 'name="level-0"' in page  # the details step, where the field is
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT and not ClaimItem.objects.exists()

    alice.post(
        f"/me/claims/{claim.pk}/edit/details/",
        {"level-0": "county", "date-0": "2030-01-01", "go": "next"},
    )
    response = alice.post(f"/me/claims/{claim.pk}/edit/review/", {"go": "submit"})
    assert response.status_code == 400
    assert 'id="error-date-honours.bravery"' in response.content.decode()


def test_a_rule_with_an_open_claim_is_refused_naming_the_rule(alice, cw):
    file_claim(cw, [bravery()])
    alice.post("/me/claims/new/", {"rule": ["honours.bravery"], "go": "next"})
    claim = draft_of(cw)
    alice.post(
        f"/me/claims/{claim.pk}/edit/details/",
        {"level-0": "county", "date-0": "2024-09-01", "go": "next"},
    )
    response = alice.post(f"/me/claims/{claim.pk}/edit/review/", {"go": "submit"})
    assert response.status_code == 409
    assert 'name="rule"' in response.content.decode()  # back on the rules step
    assert Claim.objects.filter(status=ClaimStatus.SUBMITTED).count() == 1


def test_an_upload_of_the_wrong_type_says_why_and_stores_nothing(alice, cw):
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice.post("/me/claims/new/", {"rule": ["honours.bravery"], "go": "next"})
    claim = draft_of(cw)
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not an image", content_type="image/png")
    response = alice.post(f"/me/claims/{claim.pk}/edit/evidence/", {"file": [fake], "go": "stay"})
    assert response.status_code == 400
    assert 'id="error-file"' in response.content.decode()
    assert not Evidence.objects.exists()
    claim.refresh_from_db()
    assert claim.draft.get("evidence", []) == []


def test_removing_a_file_from_the_draft(alice, cw):
    alice.post("/me/claims/new/", {"rule": ["honours.bravery"], "go": "next"})
    claim = draft_of(cw)
    alice.post(f"/me/claims/{claim.pk}/edit/evidence/", {"file": [png_upload()], "go": "stay"})
    claim.refresh_from_db()
    [entry] = claim.draft["evidence"]
    response = alice.post(
        f"/me/claims/{claim.pk}/edit/evidence/", {"remove": entry["id"], "go": "stay"}
    )
    assert response["Location"] == f"/me/claims/{claim.pk}/edit/evidence/"
    claim.refresh_from_db()
    assert claim.draft["evidence"] == []


def test_discarding_a_draft(alice, cw):
    alice.post("/me/claims/new/", {"rule": ["honours.bravery"], "go": "next"})
    claim = draft_of(cw)
    response = alice.post(f"/me/claims/{claim.pk}/withdraw")
    assert response["Location"] == "/me/claims/"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    assert str(claim.pk) not in alice.get("/me/claims/").content.decode()


def test_status_page_shows_deadline_notice_supplement_and_decision(alice, cw, at):
    claim = file_claim(cw)
    psb = task_of(claim, "public_security_bureau")
    social = task_of(claim, "social_work_dept")
    services.accept(psb, user=cw.reviewer_psb, now=NOW)
    services.request_materials(
        social,
        user=cw.user("reviewer_social"),
        items=["volunteer service record stamped by the association", "ID card copy"],
        note="",
        now=NOW,
    )
    page = alice.get(f"/me/claims/{claim.pk}/").content.decode()
    assert f'id="due-{psb.pk}"' in page and "2025-06-16" in page
    assert f'id="notice-{social.pk}"' in page
    assert "volunteer service record stamped by the association" in page
    assert "ID card copy" in page
    assert f'id="supplement-{social.pk}"' in page

    response = alice.post(
        f"/me/claims/{claim.pk}/tasks/{social.pk}/supplement",
        {"file": [pdf_upload("record.pdf")], "note": "both attached"},
    )
    assert response["Location"] == f"/me/claims/{claim.pk}/"
    social.refresh_from_db()
    assert social.state == ReviewState.SUBMITTED
    assert last("claim.supplemented").actor_id == str(cw.alice_user.pk)
    assert claim.evidence.count() == 2

    services.decide(
        psb,
        user=cw.reviewer_psb,
        decisions=[
            services.ItemDecision(
                item=psb.items.get(), outcome="adjusted", level="city", reason="city-level award"
            )
        ],
        now=NOW,
    )
    page = alice.get(f"/me/claims/{claim.pk}/").content.decode()
    assert "city-level award" in page
    assert '<span class="points">15' in page  # honours.bravery, city level: 15 points


def test_a_supplement_without_files_or_note_is_refused_next_to_the_field(alice, cw):
    claim = file_claim(cw, [bravery()])
    task = task_of(claim, "public_security_bureau")
    services.request_materials(task, user=cw.reviewer_psb, items=["photo"], now=NOW)
    response = alice.post(f"/me/claims/{claim.pk}/tasks/{task.pk}/supplement", {"note": ""})
    assert response.status_code == 400
    assert 'id="error-evidence"' in response.content.decode()
    task.refresh_from_db()
    assert task.state == ReviewState.MATERIALS_REQUESTED


def test_withdrawing_an_application(alice, cw):
    claim = file_claim(cw)
    response = alice.post(f"/me/claims/{claim.pk}/withdraw", {"reason": "filed twice"})
    assert response["Location"] == f"/me/claims/{claim.pk}/"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.WITHDRAWN
    entry = last("claim.withdrawn")
    assert entry.actor_id == str(cw.alice_user.pk)
    assert set(claim.tasks.values_list("state", flat=True)) == {ReviewState.WITHDRAWN}
    assert 'id="withdrawn"' in alice.get(f"/me/claims/{claim.pk}/").content.decode()


def test_withdrawing_a_decided_application_is_refused_with_a_message(alice, cw):
    claim = file_claim(cw, [bravery()])
    task = task_of(claim, "public_security_bureau")
    services.accept(task, user=cw.reviewer_psb, now=NOW)
    services.decide(
        task,
        user=cw.reviewer_psb,
        decisions=[services.ItemDecision(item=task.items.get(), outcome="approved")],
        now=NOW,
    )
    response = alice.post(f"/me/claims/{claim.pk}/withdraw", follow=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DECIDED
    assert response.status_code == 200 and 'id="withdraw"' not in response.content.decode()


def test_a_correction_of_a_fed_fact(alice, cw):
    fact = Fact.objects.get(resident=cw.alice, code="charity.blood_donation")
    page = alice.get(f"/me/corrections/{fact.pk}/").content.decode()
    assert 'id="disputed-fact"' in page and "卫生健康局" in page
    response = alice.post(
        f"/me/corrections/{fact.pk}/",
        {"statement": "I donated twice that year", "date": "2024-11-01", "file": [pdf_upload()]},
    )
    claim = Claim.objects.get(kind="correction")
    assert response["Location"] == f"/me/claims/{claim.pk}/"
    assert (
        claim.number.startswith("GZ") and claim.tasks.get().department.code == "health_commission"
    )
    item = claim.items.get()
    assert item.disputed_fact == fact and item.date == dt.date(2024, 11, 1)
    assert last("correction.filed").actor_id == str(cw.alice_user.pk)


def test_a_correction_without_a_statement_is_refused_next_to_it(alice, cw):
    fact = Fact.objects.get(resident=cw.alice, code="charity.blood_donation")
    response = alice.post(f"/me/corrections/{fact.pk}/", {"statement": ""})
    assert response.status_code == 400
    assert 'id="error-statement"' in response.content.decode()
    assert not Claim.objects.exists()


def test_someone_elses_fact_cannot_be_disputed(alice, cw):
    fact = Fact.objects.filter(resident=cw.bob).first()
    assert alice.get(f"/me/corrections/{fact.pk}/").status_code == 404
    entry = last("access.denied")
    assert entry.data["reason"] == "out_of_scope"


def test_other_residents_claims_are_not_found(client, cw):
    claim = file_claim(cw)
    client.force_login(cw.bob_user)
    for url in (
        f"/me/claims/{claim.pk}/",
        f"/me/claims/{claim.pk}/edit/details/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/me/claims/{claim.pk}/withdraw").status_code == 404
    task = claim.tasks.first()
    assert client.post(f"/me/claims/{claim.pk}/tasks/{task.pk}/supplement").status_code == 404
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert (
        AuditEntry.objects.filter(action="access.denied", actor_id=str(cw.bob_user.pk)).count() == 4
    )


@pytest.mark.parametrize("name", ["clerk_wutong", "reviewer_psb", "center", "auditor"])
def test_staff_have_no_portal_claims_pages(client, cw, name):
    client.force_login(cw.user(name))
    for url in ("/me/claims/", "/me/claims/new/"):
        assert client.get(url).status_code == 403
    assert last("access.denied").data["reason"] == "role"


def test_anonymous_visitors_are_sent_to_log_in(client, cw):
    response = client.get("/me/claims/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_forms_carry_csrf_tokens_and_are_refused_without(cw):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cw.alice_user)
    page = client.get("/me/claims/new/").content.decode()
    assert "csrfmiddlewaretoken" in page
    response = client.post("/me/claims/new/", {"rule": ["honours.bravery"], "go": "next"})
    assert response.status_code == 403
    assert not Claim.objects.exists()


def test_a_file_missing_from_the_store_is_gone_not_an_error(alice, cw):
    from jifen.evidence import storage

    claim = file_claim(cw)
    evidence = claim.evidence.get()
    storage.path_of(evidence.storage_name).unlink()
    response = alice.get(f"/evidence/{evidence.pk}")
    assert response.status_code == 410


def test_the_includes_for_my_points_and_the_resident_page(cw):
    """The one-line includes the lead adds to _score.html and workbench/resident.html."""
    from django.template.loader import render_to_string

    from jifen.web.explain import fact_view, policy_set

    policies = list(policy_set().in_force(NOW.date()))
    fed = fact_view(Fact.objects.get(resident=cw.alice, code="charity.blood_donation"), policies)
    staff_made = fact_view(Fact.objects.get(resident=cw.alice, code="education"), policies)
    link = render_to_string(
        "web/claims/_fact_correction.html", {"fact": fed, "user": cw.alice_user}
    )
    assert f'href="/me/corrections/{fed.fact.pk}/"' in link
    assert "href" not in render_to_string(
        "web/claims/_fact_correction.html", {"fact": staff_made, "user": cw.alice_user}
    )
    assert "href" not in render_to_string(
        "web/claims/_fact_correction.html", {"fact": fed, "user": cw.center}
    )
    resident_link = render_to_string(
        "web/claims/_resident_link.html", {"resident": cw.alice, "user": cw.clerk_wutong}
    )
    assert f'href="/workbench/residents/{cw.alice.pk}/claims/"' in resident_link
    assert "href" not in render_to_string(
        "web/claims/_resident_link.html", {"resident": cw.alice, "user": cw.reviewer_psb}
    )


def test_a_file_for_one_item_is_seen_by_that_items_department_only(alice, cw, client):
    from jifen.claims.models import ClaimEvidence

    claim = walk_wizard(alice, cw, upload=False)
    alice.post(
        f"/me/claims/{claim.pk}/edit/evidence/",
        {"file": [png_upload("hours.png")], "for": "charity.volunteer_hours", "go": "stay"},
    )
    alice.post(f"/me/claims/{claim.pk}/edit/review/", {"go": "submit"})
    link = ClaimEvidence.objects.get(claim=claim)
    assert link.item.rule == "charity.volunteer_hours"
    client.force_login(cw.reviewer_psb)
    assert client.get(f"/evidence/{link.evidence_id}").status_code == 404
    client.force_login(cw.user("reviewer_social"))
    assert client.get(f"/evidence/{link.evidence_id}").status_code == 200
