"""The claims API over HTTP, role by role: a resident files (draft → submit) with uploads, a
reviewer requests materials, the resident supplements, the reviewer accepts, extends and
decides; a window clerk files for a resident of their town; withdrawals and corrections;
every refusal names its field; every step is audited and idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.models import AuditEntry
from jifen.claims.models import Claim, ReviewState
from jifen.evidence.models import Evidence
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.facts.services import apply_fact
from jifen.org.models import Department
from tests.api.claims_fixtures import *  # noqa: F403  (fixtures)
from tests.api.claims_fixtures import (
    COMMENDATION,
    HTML,
    NOW,
    PDF,
    PNG,
    VOLUNTEER,
    actions,
    last_sequence,
)

pytestmark = pytest.mark.django_db


def file_claim(api, user, *items, evidence=()):
    response = api(user).post(
        "/api/claims/file", {"items": list(items or [COMMENDATION]), "evidence": list(evidence)}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_resident_files_reviewer_asks_for_materials_resident_supplements_reviewer_approves(
    api, resident_user, town_reviewer
):
    me = api(resident_user)
    uploaded = me.upload(PNG, name="award.pdf")
    assert uploaded.status_code == 201, uploaded.json()
    evidence = uploaded.json()
    assert evidence["content_type"] == "image/png" and evidence["original_name"] == "award.pdf"

    draft = me.post("/api/claims/", {"draft": {"step": 1, "rule": "honours.commendation"}})
    assert draft.status_code == 201
    claim = draft.json()
    assert (claim["status"], claim["number"], claim["channel"]) == ("draft", "", "portal")
    saved = me.put(f"/api/claims/{claim['id']}/draft", {"draft": {"step": 2}})
    assert saved.status_code == 200 and saved.json()["draft"] == {"step": 2}

    submitted = me.post(
        f"/api/claims/{claim['id']}/submit",
        {"items": [COMMENDATION], "evidence": [evidence["id"]]},
    )
    assert submitted.status_code == 200, submitted.json()
    claim = submitted.json()
    assert claim["status"] == "submitted" and claim["number"].startswith("SQ2026")
    assert [t["department"] for t in claim["tasks"]] == ["town"]
    assert [e["id"] for e in claim["evidence"]] == [evidence["id"]]
    task_id = claim["tasks"][0]["id"]
    assert [c["id"] for c in me.get("/api/claims/").json()] == [claim["id"]]

    reviewer = api(town_reviewer)
    queue = reviewer.get("/api/tasks/", state="submitted").json()
    assert [t["id"] for t in queue] == [task_id]
    assert queue[0]["actions"] == ["accept", "refuse", "request_materials"]
    detail = reviewer.get(f"/api/tasks/{task_id}/").json()
    assert [i["rule"] for i in detail["items"]] == ["honours.commendation"]
    assert [e["id"] for e in detail["evidence"]] == [evidence["id"]]
    download = reviewer.get(detail["evidence"][0]["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"

    asked = reviewer.post(
        f"/api/tasks/{task_id}/request-materials",
        {"items": ["certificate copy", "unit's letter"], "note": "both please"},
    )
    assert asked.status_code == 200, asked.json()
    assert asked.json()["state"] == "materials_requested"
    assert asked.json()["materials_notice"]["items"] == ["certificate copy", "unit's letter"]
    again = reviewer.post(f"/api/tasks/{task_id}/request-materials", {"items": ["more"]})
    assert again.status_code == 409
    assert again.json()["code"] == "claims.materials_already_requested"

    second = me.upload(PDF, name="letter.pdf", claim=claim["id"]).json()
    supplemented = me.post(
        f"/api/tasks/{task_id}/supplement", {"evidence": [second["id"]], "note": "attached"}
    )
    assert supplemented.status_code == 200, supplemented.json()
    assert supplemented.json()["tasks"][0]["state"] == "submitted"
    assert len(supplemented.json()["evidence"]) == 2

    accepted = reviewer.post(f"/api/tasks/{task_id}/accept")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["state"] == "accepted"
    assert accepted.json()["due_on"] == "2026-03-16"  # 10 working days after Monday 2 March
    item = accepted.json()["items"][0]["id"]
    decided = reviewer.post(
        f"/api/tasks/{task_id}/decide", {"decisions": [{"item": item, "outcome": "approved"}]}
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["state"] == "approved"
    assert decided.json()["items"][0]["fact"] is not None
    final = me.get(f"/api/claims/{claim['id']}/").json()
    assert final["status"] == "decided"
    fact = Fact.objects.get(pk=final["items"][0]["fact"])
    assert (fact.source, fact.source_ref) == (FactSource.CLAIM, claim["number"])

    logged = actions()
    for action in (
        "evidence.uploaded",
        "claim.draft_created",
        "claim.submitted",
        "evidence.downloaded",
        "claim.materials_requested",
        "claim.supplemented",
        "claim.accepted",
        "claim.decided",
    ):
        assert action in logged, action
    viewed = AuditEntry.objects.filter(action="resident.viewed", actor_id=str(town_reviewer.pk))
    assert viewed.filter(data__view="review_task").exists()


def test_a_window_clerk_files_for_a_resident_of_their_town(api, clerk, resident, other_clerk):
    window = api(clerk)
    uploaded = window.upload(PNG, resident=str(resident.pk))
    assert uploaded.status_code == 201
    response = window.post(
        "/api/claims/file",
        {
            "resident": str(resident.pk),
            "items": [COMMENDATION],
            "evidence": [uploaded.json()["id"]],
        },
    )
    assert response.status_code == 201, response.json()
    claim = response.json()
    assert (claim["channel"], claim["filed_at_town"]) == ("window", "wutong")
    assert claim["filed_by"] == clerk.pk
    missing = window.post("/api/claims/file", {"items": [VOLUNTEER]})
    assert missing.status_code == 400 and missing.json()["field"] == "resident"
    elsewhere = api(other_clerk).post(
        "/api/claims/file", {"resident": str(resident.pk), "items": [VOLUNTEER]}
    )
    assert elsewhere.status_code == 404
    withdrawn = api(clerk).post(f"/api/claims/{claim['id']}/withdraw", {"reason": "at request"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


def test_a_resident_withdraws_before_the_decision(api, resident_user):
    claim = file_claim(api, resident_user, COMMENDATION, VOLUNTEER)
    assert len(claim["tasks"]) == 2
    response = api(resident_user).post(
        f"/api/claims/{claim['id']}/withdraw", {"reason": "moved away"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert {t["state"] for t in response.json()["tasks"]} == {"withdrawn"}
    again = api(resident_user).post(f"/api/claims/{claim['id']}/withdraw", {})
    assert again.status_code == 409 and again.json()["code"] == "claims.transition_not_allowed"
    assert "claim.withdrawn" in actions()


def test_extension_once_with_a_reason(api, resident_user, town_reviewer):
    task = file_claim(api, resident_user)["tasks"][0]["id"]
    reviewer = api(town_reviewer)
    early = reviewer.post(f"/api/tasks/{task}/extend", {"reason": "site visit"})
    assert early.status_code == 409
    reviewer.post(f"/api/tasks/{task}/accept")
    no_reason = reviewer.post(f"/api/tasks/{task}/extend", {"reason": ""})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    extended = reviewer.post(f"/api/tasks/{task}/extend", {"reason": "site visit"})
    assert extended.status_code == 200
    assert extended.json()["extended"] is True
    assert extended.json()["due_on"] == "2026-03-23"  # + 5 working days
    twice = reviewer.post(f"/api/tasks/{task}/extend", {"reason": "again"})
    assert twice.status_code == 409 and twice.json()["code"] == "claims.already_extended"
    assert "claim.extended" in actions()


def test_refusal_and_rejection_carry_a_reason_the_resident_sees(
    api, resident_user, town_reviewer, social_reviewer
):
    claim = file_claim(api, resident_user, COMMENDATION, VOLUNTEER)
    tasks = {t["department"]: t["id"] for t in claim["tasks"]}
    refused = api(town_reviewer).post(f"/api/tasks/{tasks['town']}/refuse", {"reason": "no"})
    assert refused.status_code == 200 and refused.json()["state"] == "rejected"
    social = api(social_reviewer)
    social.post(f"/api/tasks/{tasks['social_work_dept']}/accept")
    item = social.get(f"/api/tasks/{tasks['social_work_dept']}/").json()["items"][0]["id"]
    no_reason = social.post(
        f"/api/tasks/{tasks['social_work_dept']}/decide",
        {"decisions": [{"item": item, "outcome": "rejected"}]},
    )
    assert no_reason.status_code == 400
    assert no_reason.json()["field"] == "decisions[0].reason"
    adjusted = social.post(
        f"/api/tasks/{tasks['social_work_dept']}/decide",
        {"decisions": [{"item": item, "outcome": "adjusted", "quantity": 80, "reason": "80 h"}]},
    )
    assert adjusted.status_code == 200, adjusted.json()
    assert adjusted.json()["state"] == "partly_approved"
    mine = api(resident_user).get(f"/api/claims/{claim['id']}/").json()
    assert mine["status"] == "decided"
    by_rule = {i["rule"]: i for i in mine["items"]}
    assert by_rule["charity.volunteer_hours"]["approved_quantity"] == "80.00"
    assert {t["decision_reason"] for t in mine["tasks"] if t["department"] == "town"} == {"no"}


def test_a_correction_of_a_scored_fact(api, resident, resident_user, social_reviewer):
    apply_fact(
        resident,
        kind=FactKind.CITY,
        code="charity.volunteer_hours",
        key="volunteer:2025",
        quantity=50,
        date=dt.date(2025, 9, 1),
        department=Department.objects.get(code="social_work_dept"),
        source=FactSource.FEED,
        now=NOW,
    )
    fact = Fact.objects.get(resident=resident, key="volunteer:2025")
    filed = api(resident_user).post(
        "/api/corrections/",
        {
            "fact": fact.pk,
            "statement": "I served 150 hours",
            "proposed": {"quantity": 150, "date": "2025-09-01"},
        },
    )
    assert filed.status_code == 201, filed.json()
    claim = filed.json()
    assert claim["kind"] == "correction" and claim["number"].startswith("GZ2026")
    assert [t["department"] for t in claim["tasks"]] == ["social_work_dept"]
    duplicate = api(resident_user).post(
        "/api/corrections/", {"fact": fact.pk, "statement": "again"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "fact"
    unknown = api(resident_user).post("/api/corrections/", {"fact": 999999, "statement": "x"})
    assert unknown.status_code == 404
    assert "correction.filed" in actions()


@pytest.mark.parametrize(
    ("items", "status", "field", "code"),
    [
        ([], 400, "items", "claims.invalid"),
        ([{**COMMENDATION, "level": "galaxy"}], 400, "items[0].level", "claims.invalid"),
        ([{**COMMENDATION, "date": "1.5.2025"}], 400, "items[0].date", "invalid"),
        ([{**COMMENDATION, "date": "2027-01-01"}], 400, "items[0].date", "claims.invalid"),
        ([{"rule": "no.such_rule"}], 400, "items[0].rule", "claims.rule_not_claimable"),
        ([COMMENDATION, {**VOLUNTEER, "quantity": -1}], 400, "items[1].quantity", None),
        ([{**VOLUNTEER, "quantity": "1.234"}], 400, "items[0].quantity", None),
        ([COMMENDATION, COMMENDATION], 409, "items[1].rule", "claims.duplicate_open_claim"),
    ],
)
def test_refusals_name_the_field(api, resident_user, items, status, field, code):
    response = api(resident_user).post("/api/claims/file", {"items": items})
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["field"] == field
    if code:
        assert body["code"] == code
    assert body["detail"]
    assert not Claim.objects.exclude(status="draft").exists()


def test_a_second_open_claim_for_a_rule_is_a_conflict(api, resident_user):
    file_claim(api, resident_user)
    response = api(resident_user).post("/api/claims/file", {"items": [COMMENDATION]})
    assert response.status_code == 409
    assert (response.json()["field"], response.json()["code"]) == (
        "items[0].rule",
        "claims.duplicate_open_claim",
    )


def test_evidence_refusals_say_why(api, resident_user, other_resident_user, settings):
    me = api(resident_user)
    html = me.upload(HTML, name="photo.png")
    assert html.status_code == 400
    assert html.json() == {
        "field": "file",
        "code": "evidence.type",
        "detail": html.json()["detail"],
    }
    empty = me.upload(b"", name="empty.png").json()
    assert (empty["field"], empty["code"]) == ("file", "evidence.empty")
    settings.JIFEN_EVIDENCE_MAX_BYTES = 100
    big = me.upload(PNG + b"\x00" * 100)
    assert big.status_code == 413 and big.json()["code"] == "evidence.size"
    me.login()
    no_file = me.client.post("/api/evidence/", {}, headers={"Idempotency-Key": "k-nofile"})
    assert no_file.status_code == 400 and no_file.json()["field"] == "file"
    assert not Evidence.objects.exists()

    theirs = api(other_resident_user).upload(PNG).json()
    response = api(resident_user).post(
        "/api/claims/file", {"items": [COMMENDATION], "evidence": [theirs["id"]]}
    )
    assert response.status_code == 400
    assert (response.json()["field"], response.json()["code"]) == (
        "evidence[0]",
        "evidence.unknown",
    )


def test_the_per_claim_file_limit(api, resident_user, settings):
    settings.JIFEN_EVIDENCE_MAX_PER_CLAIM = 1
    me = api(resident_user)
    first = me.upload(PNG).json()
    claim = file_claim(api, resident_user, evidence=[first["id"]])
    refused = me.upload(PNG, claim=claim["id"])
    assert refused.status_code == 400 and refused.json()["code"] == "evidence.count"
    second = me.upload(PNG).json()
    too_many = me.post(
        "/api/claims/file", {"items": [VOLUNTEER], "evidence": [first["id"], second["id"]]}
    )
    assert too_many.status_code == 400
    assert (too_many.json()["field"], too_many.json()["code"]) == ("evidence", "evidence.count")


# --- idempotency on the real endpoints -------------------------------------------------------


def test_a_replayed_submission_returns_the_same_claim(api, resident_user):
    me = api(resident_user)
    body = {"items": [COMMENDATION]}
    first = me.post("/api/claims/file", body, key="submit-1")
    again = me.post("/api/claims/file", body, key="submit-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Claim.objects.count() == 1
    other = me.post("/api/claims/file", {"items": [VOLUNTEER]}, key="submit-1")
    assert other.status_code == 422
    assert (other.json()["field"], other.json()["code"]) == (
        "Idempotency-Key",
        "idempotency.key_reused",
    )
    assert Claim.objects.count() == 1


def test_state_changing_endpoints_require_a_key(api, resident_user, town_reviewer):
    claim = file_claim(api, resident_user)
    task = claim["tasks"][0]["id"]
    me, reviewer = api(resident_user), api(town_reviewer)
    for client, method, url in [
        (me, "post", "/api/claims/"),
        (me, "post", "/api/claims/file"),
        (me, "put", f"/api/claims/{claim['id']}/draft"),
        (me, "post", f"/api/claims/{claim['id']}/submit"),
        (me, "post", f"/api/claims/{claim['id']}/withdraw"),
        (me, "post", "/api/corrections/"),
        (me, "post", f"/api/tasks/{task}/supplement"),
        (reviewer, "post", f"/api/tasks/{task}/accept"),
        (reviewer, "post", f"/api/tasks/{task}/refuse"),
        (reviewer, "post", f"/api/tasks/{task}/request-materials"),
        (reviewer, "post", f"/api/tasks/{task}/extend"),
        (reviewer, "post", f"/api/tasks/{task}/decide"),
    ]:
        response = getattr(client, method)(url, {}, key=False)
        assert response.status_code == 400, (url, response.status_code)
        assert response.json()["field"] == "Idempotency-Key", url
    assert me.upload(PNG, key=False).json()["field"] == "Idempotency-Key"
    assert api(resident_user).get(f"/api/claims/{claim['id']}/").json()["status"] == "submitted"


def test_a_replayed_accept_does_not_run_twice(api, resident_user, town_reviewer):
    task = file_claim(api, resident_user)["tasks"][0]["id"]
    reviewer = api(town_reviewer)
    before = last_sequence()
    first = reviewer.post(f"/api/tasks/{task}/accept", key="accept-1")
    again = reviewer.post(f"/api/tasks/{task}/accept", key="accept-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert actions(before).count("claim.accepted") == 1
    fresh = reviewer.post(f"/api/tasks/{task}/accept", key="accept-2")
    assert fresh.status_code == 409 and fresh.json()["field"] == "state"


def test_the_schema_describes_the_claims_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/claims/",
        "/api/claims/file",
        "/api/claims/{id}/submit",
        "/api/evidence/",
        "/api/evidence/{id}/download",
        "/api/tasks/",
        "/api/tasks/{id}/decide",
    ):
        assert path in paths, path
    accept = paths["/api/tasks/{id}/accept"]["post"]
    assert any(
        p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"]
        for p in accept["parameters"]
    )


def test_the_schema_validates():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--file", "/dev/null")


def test_review_states_listed(api, town_reviewer):
    for state in ReviewState.values:
        assert api(town_reviewer).get("/api/tasks/", state=state).status_code == 200
    assert api(town_reviewer).get("/api/tasks/", state="nope").json()["field"] == "state"
    for due in ("today", "soon", "overdue"):
        assert api(town_reviewer).get("/api/tasks/", due=due).status_code == 200
    assert api(town_reviewer).get("/api/tasks/", due="later").status_code == 400
