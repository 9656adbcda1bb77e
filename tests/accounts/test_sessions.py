"""Sessions: the key is rotated at login, logout and disabling end the session, 30 minutes
idle or 12 hours in total end it too (audited as ``auth.session_expired``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from jifen.accounts import clock, sessions
from jifen.accounts.models import Role
from jifen.audit.models import AuditEntry
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def now(monkeypatch):
    class Clock:
        value = T0

        def move(self, **delta) -> None:
            self.value += dt.timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(clock, "now", lambda: c.value)
    return c


@pytest.fixture
def clerk(client, now):
    user = make_user(Role.CLERK, username="clerk")
    response = client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD})
    assert response.status_code == 302
    return user


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_login_rotates_the_session_key(client, now):
    make_user(Role.CLERK, username="clerk")
    before = SessionStore()
    before["pre_login"] = "x"
    before.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key
    assert client.get("/accounts/login/").status_code == 200
    client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD})
    after = session_key(client)
    assert after != before.session_key
    assert not SessionStore().exists(before.session_key)  # the old key is gone, not reusable
    assert SessionStore(session_key=after)["pre_login"] == "x"  # data carried over


def test_login_stamps_the_session(client, clerk, now):
    stored = SessionStore(session_key=session_key(client))
    assert stored[sessions.LOGIN_AT] == T0.timestamp()
    assert stored[sessions.SEEN_AT] == T0.timestamp()


def test_logout_ends_the_session_and_is_audited(client, clerk, now):
    old = session_key(client)
    assert client.get("/workbench/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not SessionStore().exists(old)
    assert client.get("/workbench/").status_code == 302
    [entry] = AuditEntry.objects.filter(action="auth.logout")
    assert entry.actor_id == str(clerk.pk)


def test_disabling_an_account_ends_its_sessions(client, clerk, now):
    assert client.get("/workbench/").status_code == 200
    clerk.is_active = False
    clerk.save()
    response = client.get("/workbench/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_idle_for_29_minutes_keeps_the_session(client, clerk, now):
    now.move(minutes=29)
    assert client.get("/workbench/").status_code == 200
    now.move(minutes=29)  # activity moved "last seen" forward
    assert client.get("/workbench/").status_code == 200


def test_idle_for_more_than_30_minutes_ends_the_session(client, clerk, now):
    old = session_key(client)
    now.move(minutes=30, seconds=1)
    response = client.get("/workbench/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not SessionStore().exists(old)
    [entry] = AuditEntry.objects.filter(action="auth.session_expired")
    assert entry.actor_id == str(clerk.pk) and entry.data["reason"] == "idle"
    assert client.get("/workbench/").status_code == 302  # and stays ended


def test_twelve_hours_end_the_session_whatever_the_activity(client, clerk, now):
    for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
        now.move(minutes=20)
        assert client.get("/workbench/").status_code == 200
    now.move(seconds=1)
    response = client.get("/workbench/")
    assert response.status_code == 302
    [entry] = AuditEntry.objects.filter(action="auth.session_expired")
    assert entry.data["reason"] == "absolute"


def test_an_api_request_in_an_expired_session_is_refused(client, clerk, now, world):
    now.move(minutes=31)
    response = client.get("/api/residents/", {"name": "王小丽"})
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action="auth.session_expired").count() == 1


def test_a_session_without_stamps_is_ended(client, clerk, now):
    store = SessionStore(session_key=session_key(client))
    del store[sessions.LOGIN_AT]
    store.save()
    assert client.get("/workbench/").status_code == 302
    assert AuditEntry.objects.get(action="auth.session_expired").data["reason"] == "unstamped"


def test_session_settings(settings):
    assert settings.JIFEN_SESSION_IDLE_SECONDS == 30 * 60
    assert settings.JIFEN_SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60
    assert settings.SESSION_COOKIE_HTTPONLY
    order = settings.MIDDLEWARE.index
    lifetime = order("jifen.accounts.sessions.SessionLifetimeMiddleware")
    assert lifetime > order("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert lifetime > order("django.contrib.messages.middleware.MessageMiddleware")
