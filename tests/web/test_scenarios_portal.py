"""The resident's scenario pages over HTTP: the list, the open-period boundaries (the second
before, the first second, the last second, the second after), the application with its
blockers and points, the public masked list with its Excel and PDF, the take-down, and the
re-examination form (evidence required, the 3-working-day window); isolation and audit."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from jifen.audit.models import AuditEntry
from jifen.identity import mask_name
from jifen.reexaminations.models import Reexamination
from jifen.scenarios.models import Enrollment
from tests.factories import make_user
from tests.scenarios import conftest as sc
from tests.web import test_scenarios_support as support
from tests.web.test_scenarios_support import LATE, denied, png

clock, pw = support.clock, support.pw

pytestmark = pytest.mark.django_db


# --- the open period through HTTP ----------------------------------------------------------------


@pytest.fixture
def school(db, settings, tmp_path, clock):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    center = make_user("center")
    from jifen.org.models import Department
    from jifen.scenarios import services

    return services.define_scenario(
        code="school-2026",
        name="2026年新市民子女义务教育入学",
        department=Department.objects.get(code="education_bureau"),
        content=sc.SCHOOL,
        user=center,
        now=sc.BEFORE,
        publish=True,
    ).scenario


def applicant(client):
    resident = sc.scored_resident()
    user = make_user("resident", resident=resident)
    client.force_login(user)
    return resident


def post_enroll(client, scenario, **extra):
    data = {
        "child_name": "小明",
        "child_birth_date": "2019-12-01",
        "preferences": ["school:wutong-1", "school:puyuan-1"],
        **extra,
    }
    return client.post(f"/me/scenarios/{scenario.pk}/", data)


@pytest.mark.parametrize(
    ("when", "accepted"),
    [
        (sc.OPEN - dt.timedelta(seconds=1), False),
        (sc.OPEN, True),
        (sc.UNTIL - dt.timedelta(seconds=1), True),
        (sc.UNTIL, False),
    ],
    ids=["second-before", "first-second", "last-second", "second-after"],
)
def test_the_open_period_boundaries_through_the_form(client, school, clock, when, accepted):
    clock.set(when)  # before logging in: sessions expire when the clock jumps
    resident = applicant(client)
    page = client.get(f"/me/scenarios/{school.pk}/").content.decode()
    response = post_enroll(client, school)
    if accepted:
        enrollment = Enrollment.objects.get(resident=resident)
        assert response.status_code == 302
        assert response["Location"] == f"/me/scenarios/enrollments/{enrollment.pk}/"
        assert enrollment.applied_at == when and 'id="enroll-form"' in page
    else:
        assert response.status_code == 409
        assert not Enrollment.objects.filter(resident=resident).exists()
        text = response.content.decode()
        # The refusal gives both dates of the period (China time).
        assert "2026-07-01 09:00:00" in text and "2026-07-15 17:00:00" in text
        assert 'id="refusal"' in page and 'id="enroll-form"' not in page


def test_field_errors_name_the_field_and_a_second_submission_shows_the_first(client, school, clock):
    clock.set(sc.DURING)
    resident = applicant(client)
    response = post_enroll(client, school, child_birth_date="2015-01-01")
    assert response.status_code == 400
    assert 'id="errors-child_birth_date"' in response.content.decode()
    response = post_enroll(client, school, preferences=["school:nowhere"])
    assert 'id="errors-preferences"' in response.content.decode()
    first = post_enroll(client, school)
    again = post_enroll(client, school)
    assert first["Location"] == again["Location"]
    assert Enrollment.objects.filter(resident=resident).count() == 1
    assert AuditEntry.objects.filter(action="enrollment.submitted").count() == 1


def test_the_list_shows_open_scenarios_and_my_applications(client, school, clock):
    clock.set(sc.DURING)
    resident = applicant(client)
    post_enroll(client, school)
    page = client.get("/me/scenarios/").content.decode()
    enrollment = Enrollment.objects.get(resident=resident)
    assert school.name in page and "2026-07-01 09:00:00" in page
    assert sc.SCHOOL["rules_url"] in page
    assert enrollment.number in page and f'id="enrollment-row-{enrollment.pk}"' in page


def test_a_blocked_application_says_why(client, school, clock):
    from jifen.claims import services as claims

    clock.set(sc.DURING)
    resident = applicant(client)
    from jifen.accounts.models import User

    user = User.objects.get(resident=resident)
    from jifen.evidence.services import store_upload

    claims.submit_claim(
        resident=resident,
        user=user,
        evidence=[store_upload(png(), resident=resident, user=user, now=sc.DURING)],
        items=[
            claims.ClaimItemInput(
                rule="charity.volunteer_hours", quantity="25", date=dt.date(2026, 3, 1)
            )
        ],
        now=sc.DURING - dt.timedelta(hours=1),
    )
    post_enroll(client, school)
    enrollment = Enrollment.objects.get(resident=resident)
    page = client.get(f"/me/scenarios/enrollments/{enrollment.pk}/").content.decode()
    assert enrollment.status == "blocked"
    assert 'id="blockers"' in page and "scenarios.blocked.open_claim" in page


# --- roles and isolation -------------------------------------------------------------------------


def test_staff_may_not_use_the_portal_pages(client, pw):
    client.force_login(pw.center)
    assert client.get("/me/scenarios/").status_code == 403
    assert client.get(f"/me/scenarios/enrollments/{pw.enrollments['a'].pk}/").status_code == 403
    assert len(denied("role")) == 2


def test_another_residents_application_is_not_found(client, pw):
    client.force_login(pw.users["a"])
    mine = client.get(f"/me/scenarios/enrollments/{pw.enrollments['a'].pk}/")
    assert mine.status_code == 200
    other = client.get(f"/me/scenarios/enrollments/{pw.enrollments['b'].pk}/")
    assert other.status_code == 404
    [entry] = denied("out_of_scope")
    assert entry.object_type == "scenarios.enrollment"
    assert entry.object_id == str(pw.enrollments["b"].pk)


# --- the application after publication -----------------------------------------------------------


def test_my_application_shows_points_breakdown_rank_and_the_public_list(client, pw):
    client.force_login(pw.users["a"])
    page = client.get(f"/me/scenarios/enrollments/{pw.enrollments['a'].pk}/").content.decode()
    enrollment = pw.enrollments["a"]
    assert f'id="enrollment-points">{enrollment.points}<' in page
    assert 'id="breakdown"' in page and "缴纳社保" in page
    assert "梧桐街道第一小学" in page  # the place allocated
    assert f'href="/public/publications/{pw.publication.pk}/"' in page
    assert 'id="reexamine-form"' in page


# --- the public list -----------------------------------------------------------------------------


def test_the_public_list_shows_masked_names_only_without_login(client, pw):
    response = client.get(f"/public/publications/{pw.publication.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for name, resident in pw.residents.items():
        assert resident.name not in page
        assert mask_name(resident.name) in page
        assert pw.enrollments[name].number in page
    assert "候补" in page  # c is waitlisted
    for digit_field in ("identity_number", "phone"):
        value = getattr(pw.residents["a"], digit_field, "") or ""
        if value:
            assert value not in page


def test_excel_and_pdf_downloads_carry_the_same_masked_rows(client, pw):
    import openpyxl

    xlsx = client.get(f"/public/publications/{pw.publication.pk}/list.xlsx")
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx["Content-Type"]
    assert "attachment" in xlsx["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert pw.enrollments["a"].number in cells
    assert mask_name(pw.residents["a"].name) in cells
    assert pw.residents["a"].name not in cells
    pdf = client.get(f"/public/publications/{pw.publication.pk}/notice.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_before_the_first_day_not_found_after_the_windows_taken_down(client, pw, clock):
    clock.set(dt.datetime(2025, 9, 29, 12, 0, tzinfo=support.CHINA_TZ))
    assert client.get(f"/public/publications/{pw.publication.pk}/").status_code == 404
    clock.set(dt.datetime(2025, 12, 1, 12, 0, tzinfo=support.CHINA_TZ))
    gone = client.get(f"/public/publications/{pw.publication.pk}/")
    assert gone.status_code == 410 and 'id="taken-down"' in gone.content.decode()
    assert pw.residents["a"].name not in gone.content.decode()
    assert client.get(f"/public/publications/{pw.publication.pk}/list.xlsx").status_code == 410
    assert client.get("/public/publications/999999/").status_code == 404


# --- filing a re-examination ---------------------------------------------------------------------


def reexamine(client, world, name="c", **extra):
    data = {
        "item": "provincial.social_insurance",
        "statement": "社保缴费月数少算了",
        "evidence": [png()],
        **extra,
    }
    return client.post(f"/me/scenarios/enrollments/{world.enrollments[name].pk}/reexamine", data)


def test_filing_a_re_examination_with_evidence(client, pw):
    client.force_login(pw.users["c"])
    response = reexamine(client, pw)
    reexamination = Reexamination.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/me/reexaminations/{reexamination.pk}/"
    assert reexamination.department.code == "zj_hrss" and reexamination.evidence.count() == 1
    assert AuditEntry.objects.filter(action="reexamination.filed").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert reexamination.number in page and 'id="reexamination-state"' in page


def test_complete_materials_are_required(client, pw):
    client.force_login(pw.users["c"])
    response = reexamine(client, pw, evidence=[])
    assert response.status_code == 400
    assert 'id="errors-evidence"' in response.content.decode()
    response = reexamine(client, pw, statement="")
    assert 'id="errors-statement"' in response.content.decode()
    assert not Reexamination.objects.exists()


def test_a_late_request_is_refused_with_the_missed_deadline(client, pw, clock):
    clock.set(LATE)
    client.force_login(pw.users["c"])
    page = client.get(f"/me/scenarios/enrollments/{pw.enrollments['c'].pk}/").content.decode()
    assert 'id="reexamine-form"' not in page and "2025-10-10" in page
    response = reexamine(client, pw)
    assert response.status_code == 400
    assert "2025-10-10" in response.content.decode()
    assert not Reexamination.objects.exists()


def test_another_residents_application_cannot_be_re_examined(client, pw):
    client.force_login(pw.users["a"])
    assert reexamine(client, pw, name="c").status_code == 404
    assert not Reexamination.objects.exists()
    assert denied("out_of_scope")
