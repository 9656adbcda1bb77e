"""The REST API: schema served, resident self-service, scoped staff look-ups (masked), the
authorization matrix of every endpoint, and the audit entries of each read."""

from __future__ import annotations

import pytest

from jifen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

USERS = [
    "alice_user",
    "bob_user",
    "clerk_wutong",
    "clerk_puyuan",
    "reviewer_psb",
    "reviewer_health",
    "reviewer_court",
    "center",
    "auditor",
    "system_admin",
    "security_admin",
]
STAFF = {
    "clerk_wutong",
    "clerk_puyuan",
    "reviewer_psb",
    "reviewer_health",
    "reviewer_court",
    "center",
}
ALICE_SCOPE = {
    "clerk_wutong": 200,
    "clerk_puyuan": 404,
    "reviewer_psb": 200,
    "reviewer_health": 200,
    "reviewer_court": 404,
    "center": 200,
}

ENDPOINTS = {
    "my score": ("/api/me/score", {"alice_user": 200, "bob_user": 200}, 403),
    "my facts": ("/api/me/facts", {"alice_user": 200, "bob_user": 200}, 403),
    "search": ("/api/residents/?name=王小丽", dict.fromkeys(STAFF, 200), 403),
    "alice": ("/api/residents/{alice}/", ALICE_SCOPE, 403),
    "alice facts": ("/api/residents/{alice}/facts/", ALICE_SCOPE, 403),
    "alice scores": ("/api/residents/{alice}/scores/", ALICE_SCOPE, 403),
    "alice permits": ("/api/residents/{alice}/permits/", ALICE_SCOPE, 403),
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_endpoint_matrix(client, world, endpoint):
    template, table, default = ENDPOINTS[endpoint]
    url = template.format(alice=world.alice.pk)
    for name in USERS:
        user = world.user(name)
        client.force_login(user)
        before = AuditEntry.objects.filter(action="access.denied").count()
        response = client.get(url)
        want = table.get(name, default)
        assert response.status_code == want, (endpoint, name, response.status_code)
        after = AuditEntry.objects.filter(action="access.denied").count()
        assert after == before + (1 if want in (403, 404) else 0), (endpoint, name)
        if want in (403, 404):
            entry = AuditEntry.objects.filter(action="access.denied").order_by("sequence").last()
            assert entry.actor_id == str(user.pk) and entry.data["channel"] == "api"


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_anonymous_requests_are_refused(client, world, endpoint):
    template, _, _ = ENDPOINTS[endpoint]
    assert client.get(template.format(alice=world.alice.pk)).status_code == 403


def test_my_score_is_my_own_with_its_explanation(client, world):
    client.force_login(world.bob_user)
    data = client.get("/api/me/score").json()
    assert data["id"] == world.scores["bob"].pk
    assert data["total"] == str(world.scores["bob"].total)
    reasons = [line["reason_zh"] for line in data["result"]["explanation"]]
    assert any("刑事处罚" in r for r in reasons)  # bob reads his own deduction
    assert data["city_policy"] == world.scores["bob"].city_policy


def test_my_facts_are_my_own(client, world):
    client.force_login(world.alice_user)
    facts = client.get("/api/me/facts").json()
    assert {f["code"] for f in facts} == {
        "education",
        "residence.registered_years",
        "charity.blood_donation",
        "administrative_detention",
    }
    assert {f["department"] for f in facts} >= {"health_commission", "public_security_bureau"}


def test_staff_search_is_masked_scoped_and_audited(client, world):
    client.force_login(world.clerk_wutong)
    response = client.get("/api/residents/", {"identity_number": world.identity["alice"]})
    assert response.json() == [
        {
            "id": str(world.alice.pk),
            "masked_name": world.alice.masked_name,
            "masked_identity_number": world.alice.masked_identity_number,
            "town": "wutong",
        }
    ]
    assert world.identity["alice"] not in response.content.decode()
    entry = AuditEntry.objects.get(action="resident.searched")
    assert entry.data["channel"] == "api" and entry.data["resident_ids"] == [str(world.alice.pk)]
    client.force_login(world.clerk_puyuan)
    assert client.get("/api/residents/", {"identity_number": world.identity["alice"]}).json() == []
    assert client.get("/api/residents/", {"permit_number": world.permit_numbers["bob"]}).json()[0][
        "id"
    ] == str(world.bob.pk)


def test_staff_search_needs_exactly_one_criterion(client, world):
    client.force_login(world.center)
    for params in ({}, {"name": "王小丽", "identity_number": world.identity["alice"]}):
        response = client.get("/api/residents/", params)
        assert response.status_code == 400
        assert response.json()["field"] == "identity_number"


def test_resident_detail_masks_and_audits_every_read(client, world):
    client.force_login(world.center)
    base = f"/api/residents/{world.alice.pk}/"
    detail = client.get(base).json()
    assert detail["masked_identity_number"] == world.alice.masked_identity_number
    assert world.identity["alice"] not in str(detail)
    permits = client.get(base + "permits/").json()
    assert permits[0]["masked_number"] == world.alice.current_permit.masked_number
    assert world.permit_numbers["alice"] not in str(permits)
    assert permits[0]["history"][0]["status"] == "valid"
    client.get(base + "facts/")
    client.get(base + "scores/")
    views = [
        e.data["view"]
        for e in AuditEntry.objects.filter(action="resident.viewed").order_by("sequence")
    ]
    assert views == ["detail", "permits", "facts", "scores"]


def test_field_level_rules_hold_in_the_api(client, world):
    base = f"/api/residents/{world.alice.pk}/"
    client.force_login(world.clerk_wutong)
    assert "deduction" not in {f["kind"] for f in client.get(base + "facts/").json()}
    [score] = client.get(base + "scores/").json()
    assert "行政拘留" not in str(score["result"])
    assert score["result"]["deductions"]["acts"] == []
    assert score["deductions_total"] == "20.00"
    client.force_login(world.reviewer_health)
    assert {f["department"] for f in client.get(base + "facts/").json()} == {"health_commission"}
    client.force_login(world.reviewer_psb)
    [score] = client.get(base + "scores/").json()
    assert "行政拘留" in str(score["result"])


def test_the_openapi_schema_is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/me/score",
        "/api/residents/",
        "/api/residents/{id}/",
        "/api/residents/{id}/facts/",
        "/api/calculator",
    ):
        assert path in schema["paths"], path
