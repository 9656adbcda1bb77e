"""The calculator endpoint: a profile in, the engine's explained result out; bad input is a
400 that names the field, never a 500."""

from __future__ import annotations

import json

import pytest

from jifen.accounts.models import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PROFILE = {
    "birth_date": "1990-05-01",
    "education": "bachelor",
    "skills": ["vocational_level_3", "title_junior"],
    "social_insurance_months": 37,
    "residence_registered_on": "2019-03-15",
    "city": [
        {"rule": "residence.registered_years", "quantity": 5},
        {"rule": "charity.blood_donation", "date": "2024-05-01"},
    ],
    "deductions": [{"rule": "administrative_detention", "act": "A1", "date": "2023-03-01"}],
}


@pytest.fixture
def api(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client.force_login(make_user(Role.CLERK))

    def post(body, raw: bool = False):
        data = body if raw else json.dumps(body)
        return client.post("/api/calculator", data, content_type="application/json")

    return post


def test_the_calculator_scores_a_profile(api):
    response = api({"profile": PROFILE, "on": "2025-06-01"})
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == "77.00"
    assert data["provincial"]["total"] == "75.00"
    assert data["policy"]["reference_values"] is True
    assert any(line["reason_zh"].startswith("大学本科") for line in data["explanation"])


def test_review_date_moves_the_deduction_window(api):
    data = api({"profile": PROFILE, "on": "2025-06-01", "review_date": "2026-03-02"}).json()
    assert data["deductions"]["total"] == "0.00"


def test_decimal_quantities_stay_exact(api):
    profile = {
        **PROFILE,
        "city": [{"rule": "income_tax.tax_paid", "quantity": 4500.5, "date": "2025-03-31"}],
    }
    assert api({"profile": profile, "on": "2025-06-01"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"profile": {**PROFILE, "education": "astronaut"}, "on": "2025-06-01"},
            "profile.education",
        ),
        (
            {
                "profile": {
                    **PROFILE,
                    "city": [{"rule": "charity.blood_donation", "date": "2024-13-01"}],
                }
            },
            "profile.city[0].date",
        ),
        ({"profile": {**PROFILE, "colour": "red"}}, "profile.colour"),
        (
            {"profile": {**PROFILE, "social_insurance_months": -1}},
            "profile.social_insurance_months",
        ),
        ({"profile": PROFILE, "on": "01/06/2025"}, "on"),
        ({"profile": PROFILE, "on": "1990-01-01"}, "on"),  # no policy in force then
        ({"profile": PROFILE, "review_date": "soon"}, "review_date"),
        ({"profile": "not an object"}, "profile"),
        ({"on": "2025-06-01"}, "profile"),
        ({"profile": PROFILE, "extra": 1}, "extra"),
        ([1, 2, 3], "body"),
    ],
)
def test_bad_input_names_the_field(api, body, field):
    response = api(body)
    assert response.status_code == 400
    data = response.json()
    assert data["field"] == field, data
    assert set(data) == {"field", "code", "detail"} and data["code"] and data["detail"], data


def test_malformed_json_is_a_400(api):
    response = api('{"profile": ', raw=True)
    assert response.status_code == 400
    assert response.json()["code"] == "request.unparsable"


def test_anonymous_users_cannot_use_the_calculator(client):
    response = client.post("/api/calculator", "{}", content_type="application/json")
    assert response.status_code == 403
