"""The center's calendar pages over HTTP, and ``jifen calendar``."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from jifen.audit.models import AuditEntry
from jifen.calendars import services
from jifen.calendars.errors import CalendarNotCovered
from jifen.calendars.models import CalendarProblem, CalendarVersion
from tests.calendars.test_calendar_services import NOTICE_2027, NOW, D
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def center(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # These tests read the English labels; the Chinese page is checked below.
    settings.LANGUAGE_CODE = "en"
    user = make_user("center")
    client.force_login(user)
    return user


def test_the_center_sees_years_versions_and_problems(client, center):
    with pytest.raises(CalendarNotCovered):
        services.deadline(D("2029-01-02"), 3, now=NOW)
    page = client.get("/workbench/calendar/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="current-version">Current version: 1' in text
    assert '<a href="/workbench/calendar/2026/">2026</a>' in text
    assert "2029" in text  # the configuration problem


def test_a_year_lists_its_exception_days(client, center):
    text = client.get("/workbench/calendar/2025/").content.decode()
    assert "2025-10-08" in text and "2025-10-11" in text and "国庆节" in text
    assert "248 working days" in text  # 261 weekdays − 18 days off + 5 weekends worked
    text = client.get("/workbench/calendar/2031/").content.decode()
    assert 'id="not-covered"' in text


@pytest.mark.parametrize("role", ["reviewer", "clerk", "resident", "auditor"])
def test_other_roles_are_refused_and_audited(client, settings, role):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_user(role)
    client.force_login(user)
    for url in ("/workbench/calendar/", "/workbench/calendar/2025/"):
        assert client.get(url).status_code == 403
    post = client.post(
        "/workbench/calendar/day",
        {"date": "2025-11-05", "is_workday": "0", "reason": "x"},
    )
    assert post.status_code == 403
    assert CalendarVersion.objects.count() == 1
    denied = AuditEntry.objects.filter(action="access.denied", actor_id=str(user.pk))
    assert denied.count() == 3


def test_setting_a_day_saves_an_audited_version(client, center):
    response = client.post(
        "/workbench/calendar/day",
        {"date": "2025-11-05", "is_workday": "0", "name": "台风", "reason": "Typhoon closure"},
    )
    assert response.status_code == 302 and response["Location"] == "/workbench/calendar/2025/"
    assert services.current_calendar()[1] == 2
    assert services.is_workday(D("2025-11-05")) is False
    entry = AuditEntry.objects.get(action="calendar.changed")
    assert entry.actor_id == str(center.pk)
    assert entry.data["before"] == {"is_workday": True}
    assert entry.data["after"] == {"is_workday": False, "name": "台风"}
    assert "Calendar version 2 saved" in client.get(response["Location"]).content.decode()


def test_a_refused_day_names_the_field(client, center):
    response = client.post(
        "/workbench/calendar/day", {"date": "2031-11-05", "is_workday": "0", "reason": "x"}
    )
    assert response.status_code == 400
    assert "does not cover 2031" in response.content.decode()
    response = client.post("/workbench/calendar/day", {"date": "2025-11-05", "is_workday": "0"})
    assert response.status_code == 400
    assert 'name="reason"' in response.content.decode()
    assert response.context["day_form"].errors["reason"]
    assert CalendarVersion.objects.count() == 1


def test_importing_a_notice_upload(client, center):
    with pytest.raises(CalendarNotCovered):
        services.deadline(D("2027-03-01"), 3, now=NOW)
    upload = SimpleUploadedFile("cn-2027.yaml", NOTICE_2027.encode(), "application/x-yaml")
    response = client.post("/workbench/calendar/import", {"file": upload, "note": "new notice"})
    assert response.status_code == 302
    assert services.deadline(D("2027-02-05"), 3).calendar_version == 2
    assert not CalendarProblem.objects.filter(resolved_at__isnull=True).exists()
    entry = AuditEntry.objects.get(action="calendar.changed")
    assert entry.data["year"] == 2027 and entry.data["reason"] == "new notice"


def test_a_bad_upload_names_the_path_and_writes_nothing(client, center):
    bad = NOTICE_2027.replace("days_off: 2027-01-01", "days_off: 2026-12-31")
    upload = SimpleUploadedFile("cn-2027.yaml", bad.encode(), "application/x-yaml")
    response = client.post("/workbench/calendar/import", {"file": upload})
    assert response.status_code == 400
    text = response.content.decode()
    assert "cn-2027.yaml: holidays[0].days_off" in text and "outside the notice" in text
    upload = SimpleUploadedFile("x.yaml", "year: 2027\n".encode("utf-16"), "text/plain")
    response = client.post("/workbench/calendar/import", {"file": upload})
    assert response.status_code == 400 and "not UTF-8" in response.content.decode()
    assert CalendarVersion.objects.count() == 1
    assert not AuditEntry.objects.filter(action="calendar.changed").exists()


def test_the_command_shows_a_year_and_imports_a_file(tmp_path, capsys):
    call_command("calendar", "show", "2026")
    out = capsys.readouterr().out
    assert "2026 (calendar version 1" in out and "2026-02-14 Sat work 春节" in out
    with pytest.raises(CommandError, match="does not cover 2027"):
        call_command("calendar", "show", "2027")
    notice = tmp_path / "cn-2027.yaml"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    call_command("calendar", "import", str(notice))
    assert "calendar version 2 saved" in capsys.readouterr().out
    entry = AuditEntry.objects.get(action="calendar.changed")
    assert entry.actor_id == "command:calendar_import"
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2028\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad\.yaml: notice: missing required key"):
        call_command("calendar", "import", str(bad))
    assert CalendarVersion.objects.count() == 2


def test_the_calendar_page_is_in_chinese_by_default(client, center, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = client.get("/workbench/calendar/").content.decode()
    assert "工作日" in page
