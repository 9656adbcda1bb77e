"""Who may do what on the claims API: a reviewer of another department gets 404 (and an
``access.denied`` entry) on every review endpoint and on evidence downloads; a reviewer of a
claim with several departments sees only their own items, tasks and files; wrong roles get
403; residents and clerks see only their own / their town's claims. Plus two concurrent
submissions with one Idempotency-Key (PostgreSQL, threads) that create one claim."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from jifen.audit.models import AuditEntry
from jifen.claims.models import Claim, ReviewTask
from tests.api.claims_fixtures import *  # noqa: F403  (fixtures)
from tests.api.claims_fixtures import COMMENDATION, PNG, VOLUNTEER, Api, denials

pytestmark = pytest.mark.django_db

REVIEW_POSTS = {
    "accept": {},
    "refuse": {"reason": "not ours"},
    "request-materials": {"items": ["certificate"]},
    "extend": {"reason": "visit"},
    "decide": {"decisions": [{"item": 1, "outcome": "approved"}]},
}


@pytest.fixture
def two_department_claim(api, resident_user):
    """One claim: a commendation (towns review) and volunteer hours (social work), with one
    file for each item and one for the whole claim."""
    me = api(resident_user)
    town_file, social_file, claim_file = (me.upload(PNG).json()["id"] for _ in range(3))
    response = me.post(
        "/api/claims/file",
        {
            "items": [
                {**COMMENDATION, "evidence": [town_file]},
                {**VOLUNTEER, "evidence": [social_file]},
            ],
            "evidence": [claim_file],
        },
    )
    assert response.status_code == 201, response.json()
    claim = response.json()
    tasks = {t["department"]: t["id"] for t in claim["tasks"]}
    return {
        "claim": claim["id"],
        "town_task": tasks["town"],
        "social_task": tasks["social_work_dept"],
        "town_file": town_file,
        "social_file": social_file,
        "claim_file": claim_file,
    }


@pytest.fixture
def town_only_claim(api, other_resident_user):
    me = api(other_resident_user)
    file = me.upload(PNG).json()["id"]
    claim = me.post("/api/claims/file", {"items": [COMMENDATION], "evidence": [file]}).json()
    return {"claim": claim["id"], "task": claim["tasks"][0]["id"], "file": file}


def test_another_departments_reviewer_gets_404_on_every_review_endpoint(
    api, town_only_claim, social_reviewer
):
    task = town_only_claim["task"]
    reviewer = api(social_reviewer)
    cases = [("get", f"/api/tasks/{task}/", None)] + [
        ("post", f"/api/tasks/{task}/{step}", body) for step, body in REVIEW_POSTS.items()
    ]
    cases += [
        ("get", f"/api/claims/{town_only_claim['claim']}/", None),
        ("get", f"/api/evidence/{town_only_claim['file']}/download", None),
    ]
    for method, url, body in cases:
        before = denials()
        response = reviewer.get(url) if method == "get" else reviewer.post(url, body)
        assert response.status_code == 404, (url, response.status_code)
        assert denials() == before + 1, url
        entry = AuditEntry.objects.filter(action="access.denied").order_by("sequence").last()
        assert entry.actor_id == str(social_reviewer.pk)
        assert entry.data["reason"] == "out_of_scope" and entry.data["channel"] == "api"
    assert ReviewTask.objects.get(pk=task).state == "submitted"
    assert not AuditEntry.objects.filter(action="evidence.downloaded").exists()
    assert [t["id"] for t in reviewer.get("/api/tasks/").json()] == []


@pytest.mark.parametrize("body", [{}, {"reason": "", "items": "x", "decisions": 1}])
def test_out_of_scope_is_404_before_the_body_is_read(api, town_only_claim, social_reviewer, body):
    """The task is looked up first: a wrong or empty body does not tell a 400 from a 404."""
    task = town_only_claim["task"]
    reviewer = api(social_reviewer)
    for step in ("refuse", "request-materials", "extend", "decide"):
        before = denials()
        response = reviewer.post(f"/api/tasks/{task}/{step}", body)
        assert response.status_code == 404, (step, response.json())
        assert response.json()["code"] == "not_found"
        assert denials() == before + 1, step


def test_a_shared_claim_shows_each_department_only_its_own_part(
    api, two_department_claim, town_reviewer, social_reviewer, center
):
    c = two_department_claim
    social = api(social_reviewer)
    claim = social.get(f"/api/claims/{c['claim']}/").json()
    assert [i["rule"] for i in claim["items"]] == ["charity.volunteer_hours"]
    assert [t["department"] for t in claim["tasks"]] == ["social_work_dept"]
    assert {e["id"] for e in claim["evidence"]} == {c["social_file"], c["claim_file"]}
    task = social.get(f"/api/tasks/{c['social_task']}/").json()
    assert [i["rule"] for i in task["items"]] == ["charity.volunteer_hours"]
    assert {e["id"] for e in task["evidence"]} == {c["social_file"], c["claim_file"]}
    assert social.get(f"/api/evidence/{c['social_file']}/download").status_code == 200
    assert social.get(f"/api/evidence/{c['town_file']}/download").status_code == 404
    assert social.get(f"/api/tasks/{c['town_task']}/").status_code == 404

    town = api(town_reviewer)
    assert town.get(f"/api/evidence/{c['town_file']}/download").status_code == 200
    assert town.get(f"/api/evidence/{c['social_file']}/download").status_code == 404
    # Deciding the other department's item through one's own task is refused by field.
    town.post(f"/api/tasks/{c['town_task']}/accept")
    social_item = claim["items"][0]["id"]
    foreign = town.post(
        f"/api/tasks/{c['town_task']}/decide",
        {"decisions": [{"item": social_item, "outcome": "approved"}]},
    )
    assert foreign.status_code == 400 and foreign.json()["field"] == "decisions[0].item"

    everything = api(center).get(f"/api/claims/{c['claim']}/").json()
    assert len(everything["items"]) == 2 and len(everything["evidence"]) == 3
    assert {t["id"] for t in api(center).get("/api/tasks/").json()} == {
        c["town_task"],
        c["social_task"],
    }
    assert api(center).get(f"/api/evidence/{c['town_file']}/download").status_code == 200


def test_residents_and_clerks_see_only_their_own_and_their_towns_claims(
    api, two_department_claim, other_resident_user, clerk, other_clerk
):
    c = two_department_claim
    stranger = api(other_resident_user)
    for url in (
        f"/api/claims/{c['claim']}/",
        f"/api/evidence/{c['town_file']}/download",
    ):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/api/claims/{c['claim']}/withdraw", {}).status_code == 404
    assert stranger.post(f"/api/tasks/{c['town_task']}/supplement", {}).status_code == 404
    assert stranger.get("/api/claims/").json() == []
    assert api(clerk).get(f"/api/claims/{c['claim']}/").status_code == 200
    assert api(other_clerk).get(f"/api/claims/{c['claim']}/").status_code == 404
    assert api(other_clerk).get("/api/claims/").json() == []


@pytest.mark.parametrize("step", list(REVIEW_POSTS))
def test_wrong_roles_get_403_on_review_steps(
    api, two_department_claim, resident_user, clerk, auditor, step
):
    task = two_department_claim["town_task"]
    for user in (resident_user, clerk, auditor):
        before = denials()
        response = api(user).post(f"/api/tasks/{task}/{step}", REVIEW_POSTS[step])
        assert response.status_code == 403, (user.role, step)
        assert denials() == before + 1
    assert ReviewTask.objects.get(pk=task).state == "submitted"


def test_wrong_roles_get_403_on_filing_and_queues(
    api, two_department_claim, town_reviewer, center, auditor, resident_user, clerk
):
    for user in (town_reviewer, center, auditor):
        client = api(user)
        assert client.post("/api/claims/file", {"items": [VOLUNTEER]}).status_code == 403
        assert client.post("/api/claims/", {"draft": {}}).status_code == 403
        assert client.upload(PNG).status_code == 403
    for user in (resident_user, clerk, auditor):
        assert api(user).get("/api/tasks/").status_code == 403
    assert api(auditor).get("/api/claims/").status_code == 403


def test_anonymous_requests_are_refused(client, two_department_claim):
    client.logout()
    for url in ("/api/claims/", "/api/tasks/", f"/api/claims/{two_department_claim['claim']}/"):
        assert client.get(url).status_code == 403


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections to one database; the SQLite test database "
    "is in memory (shared cache), so the threaded tests run on PostgreSQL",
)


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_submissions_with_one_key_create_one_claim(resident_user):
    start = threading.Barrier(3)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            me = Api(Client(), resident_user)
            start.wait(timeout=30)
            response = me.post(
                "/api/claims/file", {"items": [COMMENDATION, VOLUNTEER]}, key="one-key"
            )
            statuses.append(response.status_code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}
    assert Claim.objects.count() == 1
    assert ReviewTask.objects.count() == 2
    replay = Api(Client(), resident_user).post(
        "/api/claims/file", {"items": [COMMENDATION, VOLUNTEER]}, key="one-key"
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert Claim.objects.count() == 1
