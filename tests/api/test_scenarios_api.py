"""The scenarios API per role: open scenarios, idempotent enrollment (replays, one enrollment
per resident, the open period's boundaries), my enrollments, the public list (no login, masked
names only), re-examination requests, the staff steps; isolation and audit; the schema."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection

from jifen.audit.models import AuditEntry
from jifen.identity import mask_name
from jifen.reexaminations.models import Reexamination, ReexaminationState
from jifen.scenarios.models import Enrollment
from tests.api.claims_fixtures import Api
from tests.factories import make_user
from tests.scenarios import conftest as sc
from tests.web import test_scenarios_support as support
from tests.web.test_scenarios_support import DECIDED, LATE, denied, file_by_service

clock, pw = support.clock, support.pw

pytestmark = pytest.mark.django_db


@pytest.fixture
def school(db, settings, tmp_path, clock):
    from jifen.org.models import Department
    from jifen.scenarios import services

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clock.set(sc.DURING)
    return services.define_scenario(
        code="school-2026",
        name="2026年新市民子女义务教育入学",
        department=Department.objects.get(code="education_bureau"),
        content=sc.SCHOOL,
        user=make_user("center"),
        now=sc.BEFORE,
        publish=True,
    ).scenario


def body(**extra):
    return {"details": sc.CHILD, "preferences": sc.PREFS, **extra}


def test_scenarios_are_listed_with_their_period_and_rules(client, school):
    api = Api(client, make_user("resident", resident=sc.scored_resident()))
    [row] = api.get("/api/scenarios/").json()
    assert row["code"] == "school-2026" and row["state"] == "open"
    assert row["rules_url"] == sc.SCHOOL["rules_url"] and row["preferences_max"] == 3
    assert row["open_from"].startswith("2026-07-01T")


def test_enrollment_is_idempotent_and_one_per_resident(client, school):
    resident = sc.scored_resident()
    api = Api(client, make_user("resident", resident=resident))
    url = f"/api/scenarios/{school.pk}/enroll"
    assert api.post(url, body(), key=False).status_code == 400  # no key
    first = api.post(url, body(), key="k1")
    assert first.status_code == 201
    replay = api.post(url, body(), key="k1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["number"] == first.json()["number"]
    assert api.post(url, body(preferences=["school:wuzhen-1"]), key="k1").status_code == 422
    other = api.post(url, body(), key="k2")
    assert other.status_code == 409 and other.json()["code"] == "scenarios.already_enrolled"
    assert other.json()["enrollment"]["number"] == first.json()["number"]
    assert Enrollment.objects.filter(resident=resident).count() == 1
    assert AuditEntry.objects.filter(action="enrollment.submitted").count() == 1
    [mine] = api.get("/api/me/enrollments").json()
    assert mine["number"] == first.json()["number"] and mine["status"] == "submitted"


def test_field_errors_are_named(client, school):
    api = Api(client, make_user("resident", resident=sc.scored_resident()))
    url = f"/api/scenarios/{school.pk}/enroll"
    bad = api.post(url, body(details={"child_birth_date": "2015-01-01"})).json()
    assert bad["field"] == "details.child_birth_date" and bad["code"] == "scenarios.invalid"
    bad = api.post(url, body(preferences=["school:wutong-1", "nowhere"])).json()
    assert bad["field"] == "preferences[1]"


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (sc.OPEN - dt.timedelta(seconds=1), 409),
        (sc.OPEN, 201),
        (sc.UNTIL - dt.timedelta(seconds=1), 201),
        (sc.UNTIL, 409),
    ],
    ids=["second-before", "first-second", "last-second", "second-after"],
)
def test_the_open_period_boundaries(client, school, clock, when, code):
    clock.set(when)
    api = Api(client, make_user("resident", resident=sc.scored_resident()))
    response = api.post(f"/api/scenarios/{school.pk}/enroll", body())
    assert response.status_code == code
    if code == 409:
        assert response.json()["code"] in ("scenarios.not_open_yet", "scenarios.closed")
        assert "2026-07-01 09:00:00" in response.json()["detail"]


def test_a_clerk_enrolls_for_a_resident_of_their_town_only(client, school):
    resident = sc.scored_resident(town="wutong")
    clerk = Api(client, make_user("clerk", town="wutong"))
    response = clerk.post(f"/api/scenarios/{school.pk}/enroll", body(resident=str(resident.pk)))
    assert response.status_code == 201 and response.json()["channel"] == "window"
    stranger = sc.scored_resident(town="puyuan")
    response = clerk.post(f"/api/scenarios/{school.pk}/enroll", body(resident=str(stranger.pk)))
    assert response.status_code == 404
    assert denied("out_of_scope")


def test_staff_may_not_enroll_and_residents_may_not_freeze(client, school):
    center = Api(client, make_user("center"))
    assert center.post(f"/api/scenarios/{school.pk}/enroll", body()).status_code == 403
    resident = Api(client, make_user("resident", resident=sc.scored_resident()))
    assert resident.post(f"/api/scenarios/{school.pk}/freeze").status_code == 403
    assert len(denied("role")) == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real race needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_make_one_enrollment(school):
    from django.test import Client

    resident = sc.scored_resident()
    user = make_user("resident", resident=resident)
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def submit():
        client = Client()
        client.force_login(user)
        barrier.wait()
        response = client.post(
            f"/api/scenarios/{school.pk}/enroll",
            body(),
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        codes.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [201, 409]
    assert Enrollment.objects.filter(resident=resident).count() == 1


# --- the public list -----------------------------------------------------------------------------


def test_the_public_list_needs_no_login_and_shows_masked_names(client, pw):
    data = client.get(f"/api/publications/{pw.publication.pk}/").json()
    assert data["total"] == 3 and data["starts_on"] == "2025-09-30"
    names = {row["name"] for row in data["rows"]}
    assert names == {mask_name(r.name) for r in pw.residents.values()}
    assert set(data["rows"][0]) == {"number", "name", "rank", "points", "breakdown", "allocation"}
    text = str(data)
    for resident in pw.residents.values():
        assert resident.name not in text
    assert (
        client.get(f"/api/publications/{pw.publication.pk}/?limit=1").json()["rows"][0]["rank"] == 1
    )


def test_the_public_list_is_gone_after_its_windows(client, pw, clock):
    clock.set(dt.datetime(2025, 12, 1, 10, 0, tzinfo=support.CHINA_TZ))
    response = client.get(f"/api/publications/{pw.publication.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "rankings.not_public"


# --- re-examinations -----------------------------------------------------------------------------


def upload(api):
    return api.upload().json()["id"]


def test_a_resident_requests_a_re_examination_the_reviewer_decides(client, pw, clock):
    resident = Api(client, pw.users["c"])
    url = f"/api/enrollments/{pw.enrollments['c'].pk}/reexaminations"
    missing = resident.post(url, {"item": "provincial.social_insurance", "statement": "少算"})
    assert missing.status_code == 400 and missing.json()["field"] == "evidence"
    evidence = upload(resident)
    filed = resident.post(
        url,
        {"item": "provincial.social_insurance", "statement": "少算", "evidence": [evidence]},
        key="file-1",
    )
    assert filed.status_code == 201 and filed.json()["department"] == "zj_hrss"
    pk = filed.json()["id"]
    # Another department neither lists nor decides it.
    edu = Api(client, pw.edu)
    assert edu.get("/api/reexaminations/").json() == []
    assert edu.post(f"/api/reexaminations/{pk}/accept").status_code == 404
    clock.set(DECIDED)
    hrss = Api(client, pw.hrss)
    assert [r["id"] for r in hrss.get("/api/reexaminations/").json()] == [pk]
    assert hrss.post(f"/api/reexaminations/{pk}/accept").status_code == 200
    decided = hrss.post(
        f"/api/reexaminations/{pk}/decide",
        {
            "outcome": "upheld",
            "reason": "漏报",
            "changes": [{"code": "social_insurance_months", "quantity": 90}],
        },
    )
    assert decided.status_code == 200 and decided.json()["state"] == "upheld"
    corrected = decided.json()["corrected_publication"]
    assert client.get(f"/api/publications/{corrected}/").json()["corrected"] is True


def test_a_late_request_is_refused_naming_the_deadline(client, pw, clock):
    clock.set(LATE)
    resident = Api(client, pw.users["c"])
    evidence = upload(resident)
    response = resident.post(
        f"/api/enrollments/{pw.enrollments['c'].pk}/reexaminations",
        {"item": "provincial.social_insurance", "statement": "少算", "evidence": [evidence]},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "reexaminations.window_closed"
    assert "2025-10-10" in response.json()["detail"]
    assert not Reexamination.objects.exists()


def test_dismissal_without_a_reason_is_refused(client, pw, clock):
    r = file_by_service(pw)
    clock.set(DECIDED)
    hrss = Api(client, pw.hrss)
    hrss.post(f"/api/reexaminations/{r.pk}/accept")
    response = hrss.post(
        f"/api/reexaminations/{r.pk}/decide", {"outcome": "dismissed", "reason": ""}
    )
    assert response.status_code == 400 and response.json()["field"] == "reason"
    r.refresh_from_db()
    assert r.state == ReexaminationState.ACCEPTED


def test_out_of_scope_is_404_before_the_body_is_read(client, pw):
    """The enrollment, re-examination or ranking is looked up first: an empty body from
    someone out of scope is a 404 (audited), not a 400."""
    r = file_by_service(pw)
    cases = [
        (Api(client, pw.users["a"]), f"/api/enrollments/{pw.enrollments['c'].pk}/reexaminations"),
        (Api(client, pw.edu), f"/api/reexaminations/{r.pk}/decide"),
        (Api(client, pw.center), f"/api/rankings/{pw.ranking.pk + 1000}/publish"),
    ]
    for api, url in cases:
        before = len(denied("out_of_scope"))
        response = api.post(url, {})
        assert response.status_code == 404, (url, response.json())
        assert response.json() == {"field": None, "code": "not_found", "detail": "未找到。"}
        assert len(denied("out_of_scope")) == before + 1, url


# --- rankings ------------------------------------------------------------------------------------


def test_the_center_reads_a_ranking_and_a_reviewer_out_of_scope_gets_404(client, pw):
    center = Api(client, pw.center)
    data = center.get(f"/api/rankings/{pw.ranking.pk}/").json()
    assert data["content_hash"] == pw.ranking.content_hash
    assert data["publication"] == pw.publication.pk
    hrss = Api(client, pw.hrss)
    assert hrss.get(f"/api/rankings/{pw.ranking.pk}/").status_code == 404
    assert Api(client, pw.edu).get(f"/api/rankings/{pw.ranking.pk}/").status_code == 200
    published = center.post(
        f"/api/rankings/{pw.ranking.pk}/publish",
        {"starts_on": "2025-10-09", "ends_on": "2025-10-20"},
    )
    assert published.status_code == 409  # published already


def test_the_schema_describes_the_scenario_endpoints(client):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "paths"
    ]
    for path in (
        "/api/scenarios/",
        "/api/scenarios/{id}/enroll",
        "/api/me/enrollments",
        "/api/publications/{id}/",
        "/api/enrollments/{id}/reexaminations",
        "/api/reexaminations/{id}/decide",
        "/api/rankings/{id}/publish",
    ):
        assert path in paths, path
    enroll = paths["/api/scenarios/{id}/enroll"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in enroll["parameters"])
