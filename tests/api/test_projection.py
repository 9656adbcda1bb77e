"""``GET /api/me/projection``: ``?on=DATE`` and ``?reach=N`` / ``?scenario=ID`` for the
signed-in resident; labelled ``"kind": "projection"``; field-named 400s; other roles 403."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.accounts import clock as clock_module
from jifen.audit.models import AuditEntry
from jifen.org.models import Department
from jifen.scenarios import services as scenario_services
from tests.factories import CHINA_TZ, make_user
from tests.scenarios.conftest import SCHOOL, scored_resident

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=CHINA_TZ)
URL = "/api/me/projection"


@pytest.fixture(autouse=True)
def pinned(monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(clock_module, "now", lambda: NOW)


@pytest.fixture
def resident_user(db):
    return make_user("resident", resident=scored_resident(social_months=20))


@pytest.fixture
def school(db):
    return scenario_services.define_scenario(
        code="school-2026",
        name="2026年新市民子女义务教育入学",
        department=Department.objects.get(code="education_bureau"),
        content=dict(SCHOOL),
        user=make_user("center"),
        now=dt.datetime(2026, 5, 1, 10, 0, tzinfo=CHINA_TZ),
        publish=True,
    ).scenario


def get(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def test_projection_on_a_date(client, resident_user):
    response = get(client, resident_user, on="2028-06-01")
    assert response.status_code == 200
    data = response.json()
    assert data["kind"] == "projection"
    assert data["disclaimer"]["en"].startswith("This is a projection, not a score")
    assert "预测" in data["disclaimer"]["zh"]
    assert data["from_date"] == "2026-06-01" and data["on"] == "2028-06-01"
    assert data["current_total"] == "50.00" and data["projected_total"] == "62.00"
    assert "total" not in data
    assert data["projected"]["kind"] == "projection"
    assert data["projected"]["provincial"]["items"]["social_insurance"] == "22.00"
    accrual = data["accruals"][0]
    assert (accrual["field"], accrual["before"], accrual["after"]) == (
        "social_insurance_months",
        "20",
        "44",
    )
    rules = {o["rule"]: o for o in data["opportunities"]}
    assert rules["talent.talent_code"]["gain"] == "30.00"
    assert "人力社保局" in rules["talent.talent_code"]["proof"]["zh"]


def test_the_default_date_is_a_year_ahead(client, resident_user):
    data = get(client, resident_user).json()
    assert data["on"] == "2027-06-01" and data["projected_total"] == "56.00"


def test_reach_a_number(client, resident_user):
    data = get(client, resident_user, reach="60").json()
    assert data["kind"] == "projection" and data["question"] == "reach"
    assert data["reached_on"] == "2028-02-01"
    assert data["projection"]["projected_total"] == "60.00"
    data = get(client, resident_user, reach="40").json()
    assert data["already_reached"] and data["reached_on"] == "2026-06-01"
    data = get(client, resident_user, reach="250").json()
    assert data["reached_on"] is None and data["horizon_until"] == "2036-06-01"


def test_reach_a_scenarios_minimum(client, resident_user, school):
    data = get(client, resident_user, scenario=str(school.pk)).json()
    assert data["target"] == "60.00" and data["reached_on"] == "2028-02-01"
    assert data["scenario"]["name"] == "2026年新市民子女义务教育入学"
    assert data["scenario"]["in_time"] is False


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"on": "2026-02-30"}, "on"),
        ({"on": "20270601"}, "on"),
        ({"on": "2026-05-31"}, "on"),
        ({"on": "2099-01-01"}, "on"),
        ({"reach": "lots"}, "reach"),
        ({"reach": "-1"}, "reach"),
        ({"scenario": "424242"}, "scenario"),
        ({"reach": "50", "scenario": "1"}, "reach"),
        ({"reach": "50", "on": "2027-01-01"}, "on"),
        ({"when": "soon"}, "when"),
    ],
)
def test_bad_parameters_are_named(client, resident_user, params, field):
    response = get(client, resident_user, **params)
    assert response.status_code == 400
    assert response.json()["field"] == field


@pytest.mark.parametrize("role", ["clerk", "reviewer", "center", "auditor", "system_admin"])
def test_other_roles_get_403(client, role):
    extra = {"is_staff": True} if role == "system_admin" else {}
    user = make_user(role, **extra)
    response = get(client, user, on="2027-06-01")
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="access.denied").exists()


def test_signed_out_is_refused(client):
    assert client.get(URL).status_code in (401, 403)


def test_the_schema_describes_the_projection(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    operation = response.json()["paths"]["/api/me/projection"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"on", "reach", "scenario"}
    assert "not a score" in operation["description"]
