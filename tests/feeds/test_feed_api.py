"""The feed API: department tokens, ownership of feeds, status codes, the stored report."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from jifen.audit.actors import Actor
from jifen.audit.models import AuditEntry
from jifen.facts.models import Fact
from jifen.feeds.models import DepartmentToken, FeedBatch
from jifen.feeds.tokens import create_token, hash_token, revoke_token
from jifen.org.models import Department

pytestmark = pytest.mark.urls("tests.feeds.feed_api_urls")
URL = "/api/feeds/hrss/batches"


@pytest.fixture
def token_for(db, now):
    def make(department: str) -> str:
        _, raw = create_token(
            Department.objects.get(code=department),
            label="test",
            now=now,
            actor=Actor.system("test:tokens"),
        )
        return raw

    return make


@pytest.fixture
def hrss_token(token_for) -> str:
    return token_for("hrss_bureau")


@pytest.fixture
def hrss_csv(resident_factory) -> str:
    resident = resident_factory()
    return (
        "identity_number,record_id,rule,level,quantity\n"
        f"{resident.identity_number},P-1,pension_insurance.months,,24\n"
        f"{resident.identity_number},S-1,skills,title_junior,\n"
        "110101199003074514,P-2,pension_insurance.months,,12\n"
    )


def post(
    body: str | bytes, token: str | None, url: str = URL, content_type: str = "text/csv", **extra
):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return Client().post(url, data=body, content_type=content_type, **headers, **extra)


def get(url: str, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    return Client().get(url, **headers)


def test_a_department_sends_its_feed_and_gets_the_report(hrss_token, hrss_csv):
    response = post(hrss_csv, hrss_token, HTTP_X_FILE_NAME="hrss-2025-06.csv")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["accepted"], body["rejected"], body["status"]) == (2, 1, "applied")
    assert body["file_name"] == "hrss-2025-06.csv" and body["department"] == "hrss_bureau"
    assert [e["outcome"] for e in body["report"]] == ["accepted", "accepted", "rejected"]
    assert body["report"][2]["code"] == "unknown_resident"
    assert "110101199003074514" not in response.content.decode()
    assert response["Location"].endswith(f"/api/feeds/hrss/batches/{body['id']}")
    assert Fact.objects.count() == 2

    entry = AuditEntry.objects.get(action="feed.batch_imported")
    assert entry.actor_id == "feed:hrss" and entry.actor_unit == "hrss_bureau"
    assert entry.source_address == "127.0.0.1"
    assert entry.data["token"] == DepartmentToken.objects.get().pk
    assert DepartmentToken.objects.get().last_used_at is not None


def test_the_same_file_again_answers_200_with_the_same_batch(hrss_token, hrss_csv):
    first = post(hrss_csv, hrss_token)
    again = post(hrss_csv, hrss_token)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert FeedBatch.objects.count() == 1


def test_json_body(hrss_token, resident_factory):
    resident = resident_factory()
    rows = [{"identity_number": resident.identity_number, "record_id": "T-1",
             "rule": "talent.talent_code", "level": "A"}]  # fmt: skip
    response = post(json.dumps(rows), hrss_token, content_type="application/json; charset=utf-8")
    assert response.status_code == 201
    assert response.json()["format"] == "json"


def test_gbk_body_is_accepted(hrss_token, resident_factory):
    resident = resident_factory()
    body = (
        "identity_number,record_id,rule,level\n"
        f"{resident.identity_number},技能-1,skills,title_junior\n"
    )
    # No charset parameter: the test client would re-encode the body (the server ignores it).
    response = post(body.encode("gbk"), hrss_token)
    assert response.status_code == 201
    assert response.json()["encoding"] == "gbk"
    assert Fact.objects.get().source_ref == "hrss:技能-1"


def test_an_unreadable_file_answers_422_with_the_refused_batch(hrss_token):
    response = post(b"identity_number\xff\xfd", hrss_token)
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "refused" and "cannot be decoded" in body["refusal_reason"]


def test_another_departments_token_is_refused_with_403(token_for, hrss_csv):
    court = token_for("court")
    response = post(hrss_csv, court)
    assert response.status_code == 403
    assert FeedBatch.objects.count() == 0 and Fact.objects.count() == 0
    entry = AuditEntry.objects.get(action="feed.access_denied")
    assert entry.result == "denied" and entry.actor_unit == "court"
    assert entry.object_id == "hrss"
    assert get(URL, court).status_code == 403


def test_no_token_or_a_bad_token_is_refused_with_401(hrss_token, hrss_csv, now):
    missing = post(hrss_csv, None)
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Token")

    unknown = post(hrss_csv, "jft_not-a-real-token")
    assert unknown.status_code == 401
    refused = AuditEntry.objects.get(action="feed.token_refused")
    assert refused.data["reason"] == "unknown" and refused.result == "denied"

    token = DepartmentToken.objects.get(token_hash=hash_token(hrss_token))
    revoke_token(token, now=now, actor=Actor.system("test:tokens"))
    revoked = post(hrss_csv, hrss_token)
    assert revoked.status_code == 401
    assert AuditEntry.objects.filter(action="feed.token_refused").last().data["reason"] == "revoked"

    malformed = Client().post(
        URL, data=hrss_csv, content_type="text/csv", HTTP_AUTHORIZATION="Token"
    )
    assert malformed.status_code == 401
    assert FeedBatch.objects.count() == 0


def test_a_staff_session_is_not_a_department_token(hrss_csv):
    from tests.factories import PASSWORD, make_user

    user = make_user("center")
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    response = client.post(URL, data=hrss_csv, content_type="text/csv")
    assert response.status_code == 401


def test_status_codes_for_unknown_feed_content_type_and_size(hrss_token, hrss_csv, settings):
    assert post(hrss_csv, hrss_token, url="/api/feeds/weather/batches").status_code == 404
    assert post(hrss_csv, hrss_token, content_type="text/plain").status_code == 415
    settings.JIFEN_FEED_MAX_BYTES = 10
    assert post(hrss_csv, hrss_token).status_code == 413
    assert FeedBatch.objects.count() == 0


def test_a_department_reads_only_its_own_batches(token_for, hrss_token, hrss_csv, resident_factory):
    created = post(hrss_csv, hrss_token).json()
    detail = get(f"{URL}/{created['id']}", hrss_token)
    assert detail.status_code == 200
    assert detail.json()["report"] == created["report"]
    listing = get(URL, hrss_token)
    assert [b["id"] for b in listing.json()] == [created["id"]]
    assert "report" not in listing.json()[0]

    court = token_for("court")
    resident = resident_factory()
    court_csv = (
        f"identity_number,record_id,rule,date\n{resident.identity_number},J-1,usury,2024-01-01\n"
    )
    court_batch = post(court_csv, court, url="/api/feeds/court/batches").json()
    assert get(f"/api/feeds/court/batches/{created['id']}", court).status_code == 404
    assert get(f"{URL}/{court_batch['id']}", hrss_token).status_code == 404
    assert get(f"/api/feeds/court/batches/{court_batch['id']}", court).status_code == 200
    assert get(f"{URL}/999999", hrss_token).status_code == 404


def test_only_the_token_hash_is_stored(hrss_token):
    token = DepartmentToken.objects.get()
    assert token.token_hash == hash_token(hrss_token) and hrss_token not in token.token_hash
    assert hrss_token.startswith("jft_") and len(hrss_token) > 40
    entry = AuditEntry.objects.get(action="feed.token_created")
    assert hrss_token not in json.dumps(entry.data) and token.token_hash not in json.dumps(
        entry.data
    )


def test_the_openapi_document_describes_the_feed_endpoints():
    from django.urls import include, path
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator(patterns=[path("api/feeds/", include("jifen.feeds.urls"))])
    schema = generator.get_schema(request=None, public=True)
    post_op = schema["paths"]["/api/feeds/{feed}/batches"]["post"]
    assert set(post_op["requestBody"]["content"]) == {"text/csv", "application/json"}
    assert {"201", "200", "401", "403", "422"} <= set(post_op["responses"])
    assert post_op["security"] == [{"departmentToken": []}]
    assert schema["components"]["securitySchemes"]["departmentToken"]["in"] == "header"


@pytest.mark.urls("jifen.config.urls")
def test_the_project_mounts_the_feed_api_at_api_feeds(hrss_token, hrss_csv):
    from django.urls import resolve

    from jifen.feeds.api import FeedBatchCollection, FeedBatchDetail

    assert resolve("/api/feeds/hrss/batches").func.view_class is FeedBatchCollection
    assert resolve("/api/feeds/hrss/batches/7").func.view_class is FeedBatchDetail
    assert post(hrss_csv, hrss_token).status_code == 201
