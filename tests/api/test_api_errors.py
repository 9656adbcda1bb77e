"""Every refusal of the API has one shape, ``{"field", "code", "detail"}`` (jifen.api.errors):
DRF's own refusals (not signed in, role refused, unparsable body, unsupported media type,
method not allowed, not found, throttled) with a stable code and their status and headers; an
unknown path under /api/ too; and the schema documents every refusal with that shape."""

from __future__ import annotations

import uuid

import pytest
from rest_framework import exceptions

from jifen.accounts.models import Role
from jifen.api.errors import exception_handler
from jifen.audit.models import AuditEntry
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SHAPE = {"field", "code", "detail"}


def refusal(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert set(body) == SHAPE and body["code"] == code and body["field"] == field, body
    assert body["detail"], body
    return body


@pytest.fixture
def clerk(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(make_user(Role.CLERK))
    return client


def test_not_signed_in_is_a_403_problem_in_the_users_language(client):
    body = refusal(
        client.post("/api/calculator", "{}", content_type="application/json"),
        403,
        "auth.not_authenticated",
    )
    assert body["detail"] == "身份认证信息未提供。"  # DRF's message, translated


def test_a_refused_role_is_a_403_problem_and_audited(clerk):
    refusal(clerk.get("/api/tasks/"), 403, "auth.forbidden")
    assert AuditEntry.objects.filter(action="access.denied").last().data["reason"] == "role"


def test_a_body_that_is_not_json_is_a_400_problem(clerk):
    refusal(
        clerk.post("/api/calculator", '{"profile": ', content_type="application/json"),
        400,
        "request.unparsable",
    )


def test_another_media_type_is_a_415_problem(clerk):
    refusal(
        clerk.post("/api/calculator", "profile", content_type="text/plain"),
        415,
        "request.unsupported_media_type",
    )


def test_another_method_is_a_405_problem_naming_the_allowed_ones(clerk):
    response = clerk.delete("/api/calculator")
    refusal(response, 405, "request.method_not_allowed")
    assert response["Allow"] == "POST, OPTIONS"


def test_an_object_out_of_reach_is_a_404_problem(client):
    client.force_login(make_user(Role.CENTER))
    refusal(client.get(f"/api/residents/{uuid.uuid4()}/"), 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/api/nothing-here/", "/api/tasks/not-a-number/", "/api/claims/12/", "/api/"]
)
def test_a_path_that_names_no_endpoint_is_a_404_problem(client, path):
    for method in (client.get, client.post):
        refusal(method(path), 404, "not_found")


def test_a_feed_without_a_token_is_a_401_problem_with_its_challenge(client):
    response = client.get("/api/feeds/health_blood_donation/batches")
    refusal(response, 401, "auth.not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="feeds"'


def test_throttled_keeps_its_retry_after():
    response = exception_handler(exceptions.Throttled(wait=7), {})
    assert response.status_code == 429 and response["Retry-After"] == "7"
    assert response.data["code"] == "request.throttled" and response.data["field"] is None


def test_validation_errors_name_the_first_field():
    error = exceptions.ValidationError({"items": [{}, {"level": ["Not a level."]}]})
    response = exception_handler(error, {})
    assert response.status_code == 400
    assert response.data == {"field": "items[1].level", "code": "invalid", "detail": "Not a level."}


def test_other_exceptions_are_left_to_the_server_error_page():
    assert exception_handler(RuntimeError("boom"), {}) is None


def test_the_schema_documents_every_api_refusal_with_the_problem_shape(client):
    schema = client.get("/api/schema/?format=json").json()
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == SHAPE
    documented = 0
    for path, item in schema["paths"].items():
        if path.startswith("/api/feeds/"):
            continue  # the feeds document their refusals without a body
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("4"):
                    continue
                content = response.get("content")
                assert content, f"{method.upper()} {path} {status}: no body documented"
                ref = content["application/json"]["schema"]["$ref"]
                assert ref in (
                    "#/components/schemas/Problem",
                    "#/components/schemas/EnrollmentConflict",
                ), (method, path, status, ref)
                documented += 1
    assert documented > 100
