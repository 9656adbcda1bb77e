"""The projection panel of "my points": /me/projection/ and the ``web/_projection.html``
include — labelled 预测, never a score; opportunities with proof; "when will I reach N" for a
number or an open scenario's minimum; residents only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from jifen.accounts import clock as clock_module
from jifen.audit.models import AuditEntry
from jifen.engine.projection import DISCLAIMER, LABEL
from jifen.org.models import Department
from jifen.scenarios import services as scenario_services
from tests.factories import CHINA_TZ, make_user
from tests.scenarios.conftest import SCHOOL, scored_resident

pytestmark = pytest.mark.django_db

#: 2026-06-01 10:00 in China: the school scenario is published, opening 2026-07-01.
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture(autouse=True)
def pinned(monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(clock_module, "now", lambda: NOW)


@pytest.fixture
def resident_user(db):
    # Born 1990-04-01, bachelor, 20 months of social insurance: 20 + 10 + 10 + city 10 = 50.
    resident = scored_resident(social_months=20)
    return make_user("resident", resident=resident)


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


def page(client, user, **params):
    client.force_login(user)
    return client.get("/me/projection/", params)


def test_the_default_is_one_year_ahead_and_labelled_a_projection(client, resident_user):
    response = page(client, resident_user)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2027-06-01"' in html
    assert 'id="projected-total">56.00<' in html  # 32 months of insurance: +6
    assert LABEL.zh in html and "预测" in html
    assert DISCLAIMER.zh in html
    assert 'id="projected-difference">+6.00<' in html
    assert "居住和参保持续不中断" in html  # the assumptions
    assert 'id="score-total"' not in html  # nothing here is shown as a score


def test_a_chosen_date(client, resident_user):
    html = page(client, resident_user, on="2028-06-01").content.decode()
    assert 'id="projected-total">62.00<' in html  # 44 months → 22; age 38 still 20


def test_a_bad_date_is_named_next_to_its_field(client, resident_user):
    for bad in ("2026-13-01", "tomorrow", "2026-05-31"):
        response = page(client, resident_user, on=bad)
        assert response.status_code == 400
        html = response.content.decode()
        assert 'id="error-on"' in html and 'aria-invalid="true"' in html
        assert 'id="projected-total"' not in html


def test_opportunities_with_points_and_proof(client, resident_user):
    html = page(client, resident_user).content.decode()
    assert 'id="opportunities"' in html
    assert 'data-rule="talent.talent_code"' in html
    assert "+30.00" in html
    assert "审核部门：人力社保局" in html
    assert 'data-rule="education.degree"' in html  # bachelor → a master's would add 10
    assert 'class="opportunity opportunity-accrual" data-rule="social_insurance"' in html


def test_when_will_i_reach_a_number(client, resident_user):
    html = page(client, resident_user, reach="60").content.decode()
    assert 'id="reach-result"' in html
    assert "2028-02-01" in html  # 40 months of insurance: 20 more months from 2026-06-01


def test_when_will_i_reach_an_open_scenarios_minimum(client, resident_user, school):
    html = page(client, resident_user, scenario=str(school.pk)).content.decode()
    assert "2026年新市民子女义务教育入学 (60" in html  # offered in the list
    assert 'id="reach-result"' in html and "2028-02-01" in html
    assert "2026年新市民子女义务教育入学" in html.split('id="reach-result"')[1]


def test_a_bad_target_or_scenario_is_named(client, resident_user, school):
    response = page(client, resident_user, reach="-5")
    assert response.status_code == 400 and 'id="error-reach"' in response.content.decode()
    response = page(client, resident_user, scenario="999999")
    assert response.status_code == 400 and 'id="error-scenario"' in response.content.decode()


def test_an_unreachable_number(client, resident_user):
    html = page(client, resident_user, reach="250").content.decode()
    assert "2036-06-01" in html.split('id="reach-result"')[1]


@pytest.mark.parametrize("role", ["clerk", "reviewer", "center", "auditor"])
def test_other_roles_are_refused(client, role):
    user = make_user(role)
    response = page(client, user)
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="access.denied", actor_id=str(user.pk)).exists()


def test_signed_out_goes_to_the_login(client):
    response = client.get("/me/projection/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_include_renders_the_default_panel_for_a_resident(resident_user):
    request = RequestFactory().get("/me/")
    request.user = resident_user
    html = render_to_string("web/_projection.html", request=request)
    assert 'id="projection"' in html
    assert 'id="projected-total">56.00<' in html
    assert 'action="/me/projection/#projection"' in html


def test_the_include_renders_nothing_for_staff(db):
    request = RequestFactory().get("/me/")
    request.user = make_user("center")
    assert 'id="projection"' not in render_to_string("web/_projection.html", request=request)
