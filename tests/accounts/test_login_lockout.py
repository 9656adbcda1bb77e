"""Login: success, failure, lock-out after 5 failures for 30 minutes, the hourly ceiling, and
the audit entries of each (with source address and user agent, never the password)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from jifen.accounts import clock
from jifen.accounts.models import Role, User
from jifen.audit.models import AuditEntry
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)
UA = "Mozilla/5.0 (test) jifen-login-test"


@pytest.fixture
def now(monkeypatch):
    """A movable clock for the request layer: ``now.set(t)`` / ``now.move(minutes=...)``."""

    class Clock:
        value = T0

        def set(self, value: dt.datetime) -> None:
            self.value = value

        def move(self, **delta) -> None:
            self.value += dt.timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(clock, "now", lambda: c.value)
    return c


@pytest.fixture
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post_login(client, username: str, password: str):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR="10.1.2.3",
    )


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("sequence"))


def test_login_page_is_served(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_successful_login_starts_a_session_and_is_audited(client, now):
    user = make_user(Role.CLERK, username="clerk")
    response = post_login(client, "clerk", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/start/"
    assert client.get("/accounts/start/")["Location"] == "/workbench/"
    [entry] = entries("auth.login")
    assert entry.actor_kind == "user" and entry.actor_id == str(user.pk)
    assert entry.actor_unit == "wutong"
    assert entry.object_type == "accounts.user" and entry.object_id == str(user.pk)
    assert entry.source_address == "10.1.2.3"
    assert entry.data["user_agent"] == UA
    assert entry.result == "success"


def test_residents_land_on_their_points(client, now):
    make_user(Role.RESIDENT, username="res")
    post_login(client, "res", PASSWORD)
    assert client.get("/accounts/start/")["Location"] == "/me/"


def test_wrong_password_is_refused_and_audited_without_the_password(client, now):
    user = make_user(Role.CLERK, username="clerk")
    response = post_login(client, "clerk", "Wrong-Password-42")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors["__all__"]
    [entry] = entries("auth.login_failed")
    assert entry.actor_kind == "system" and entry.actor_id == "auth:login_form"
    assert entry.object_id == str(user.pk)
    assert entry.result == "failure"
    assert entry.data["reason"] == "bad_password"
    assert entry.data["consecutive"] == 1
    assert entry.source_address == "10.1.2.3" and entry.data["user_agent"] == UA
    user.refresh_from_db()
    assert user.failed_logins == 1 and user.locked_until is None
    dumped = json.dumps([e.data for e in AuditEntry.objects.all()], ensure_ascii=False)
    assert "Wrong-Password-42" not in dumped and PASSWORD not in dumped


def test_unknown_user_is_audited_without_naming_anyone(client, now):
    post_login(client, "nobody-here", "Whatever-Password-1")
    [entry] = entries("auth.login_failed")
    assert entry.object_id == ""
    assert entry.data["reason"] == "unknown_user"
    assert "nobody-here" not in json.dumps(entry.data)


def test_five_failures_lock_the_account_for_thirty_minutes(client, now):
    user = make_user(Role.CENTER, username="center")
    for _ in range(4):
        post_login(client, "center", "Wrong-Password-42")
    user.refresh_from_db()
    assert user.failed_logins == 4 and user.locked_until is None
    assert entries("auth.locked") == []

    post_login(client, "center", "Wrong-Password-42")
    user.refresh_from_db()
    assert user.locked_until == T0 + dt.timedelta(minutes=30)
    [locked] = entries("auth.locked")
    assert locked.object_id == str(user.pk)
    assert locked.data["reason"] == "consecutive"
    assert locked.data["consecutive"] == 5
    assert locked.source_address == "10.1.2.3" and locked.data["user_agent"] == UA

    # Locked: even the right password is refused, with the message every failed login gets
    # (a user name that does not exist gets it too: the answer does not reveal accounts).
    now.move(minutes=29)
    response = post_login(client, "center", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    [error] = response.context["form"].non_field_errors().as_data()
    assert error.code == "invalid_login"
    message = str(response.context["form"].non_field_errors())
    unknown = post_login(client, "nobody-of-that-name", PASSWORD)
    assert str(unknown.context["form"].non_field_errors()) == message
    assert "5" in message and "30" in message  # the rule is stated
    refused = [e for e in entries("auth.login_failed") if e.object_id == str(user.pk)][-1]
    assert refused.result == "denied" and refused.data["reason"] == "locked"
    assert locked.data["locked_until"] == (T0 + dt.timedelta(minutes=30)).isoformat()

    # Thirty minutes after the lock the right password works and the counters start again.
    now.move(minutes=1, seconds=1)
    response = post_login(client, "center", PASSWORD)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.failed_logins == 0 and user.locked_until is None
    assert len(entries("auth.login")) == 1


def test_after_a_lock_ends_five_new_failures_are_needed(client, now):
    user = make_user(Role.CENTER, username="center")
    for _ in range(5):
        post_login(client, "center", "Wrong-Password-42")
    now.move(minutes=31)
    post_login(client, "center", "Wrong-Password-42")
    user.refresh_from_db()
    assert user.locked_until is None and user.failed_logins == 1


def test_a_success_resets_the_consecutive_count(client, now):
    user = make_user(Role.CENTER, username="center")
    for _ in range(4):
        post_login(client, "center", "Wrong-Password-42")
    assert post_login(client, "center", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        post_login(client, "center", "Wrong-Password-42")
    user.refresh_from_db()
    assert user.failed_logins == 4 and user.locked_until is None


def test_no_more_than_100_failures_per_hour(settings, fast_hasher, now):
    """With the consecutive rule out of the way, the hourly ceiling still holds."""
    settings.JIFEN_LOGIN_MAX_CONSECUTIVE_FAILURES = 10_000
    user = make_user(Role.CENTER, username="center")
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.9.9.9")
    for i in range(99):
        now.set(T0 + dt.timedelta(seconds=30 * i))
        assert authenticate(request, username="center", password="Wrong-1-Password") is None
    user.refresh_from_db()
    assert user.failures_in_window == 99 and user.locked_until is None
    now.set(T0 + dt.timedelta(minutes=50))
    authenticate(request, username="center", password="Wrong-1-Password")
    user.refresh_from_db()
    assert user.locked_until == T0 + dt.timedelta(hours=1)  # until the hour window closes
    assert entries("auth.locked")[-1].data["reason"] == "hourly"
    assert authenticate(request, username="center", password=PASSWORD) is None
    now.set(T0 + dt.timedelta(hours=1, seconds=1))
    assert authenticate(request, username="center", password=PASSWORD) == user


def test_a_new_hour_window_starts_after_the_old_one_closes(settings, fast_hasher, now):
    settings.JIFEN_LOGIN_MAX_CONSECUTIVE_FAILURES = 10_000
    user = make_user(Role.CENTER, username="center")
    request = RequestFactory().post("/accounts/login/")
    for _ in range(60):
        authenticate(request, username="center", password="Wrong-1-Password")
    now.move(hours=1)
    for _ in range(60):
        authenticate(request, username="center", password="Wrong-1-Password")
    user.refresh_from_db()
    assert user.failures_in_window == 60 and user.locked_until is None


def test_the_admin_login_is_protected_by_the_same_lockout(client, now):
    user = make_user(Role.SYSTEM_ADMIN, username="sysadmin", is_staff=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": "sysadmin", "password": "Wrong-Password-42"})
    user.refresh_from_db()
    assert user.locked_until is not None
    response = client.post("/admin/login/", {"username": "sysadmin", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200
    assert len(entries("auth.locked")) == 1


def test_a_disabled_account_cannot_log_in(client, now):
    user = make_user(Role.CLERK, username="clerk", is_active=False)
    response = post_login(client, "clerk", PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert entries("auth.login_failed")[-1].data["reason"] == "inactive"
    user.refresh_from_db()
    assert user.failed_logins == 0


def test_only_the_lockout_backend_authenticates(settings):
    assert settings.AUTHENTICATION_BACKENDS == ["jifen.accounts.backends.LockoutBackend"]


def test_missing_credentials_do_not_count(now):
    user = make_user(Role.CLERK, username="clerk")
    assert authenticate(None, username="clerk") is None
    user.refresh_from_db()
    assert user.failed_logins == 0
    assert User.objects.count() == 1
