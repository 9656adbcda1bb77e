"""Logout and disabling an account end ALL of the user's sessions (security.md "Identity and
sessions"), not only the one in the browser that asked: a second browser signed in as the same
user is signed out too, and its session is gone from the store.

The accounts app records each user's session keys at login (``UserSession``) and deletes them
all from the store on logout and when the account is disabled (re-enabling it must not bring
them back)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from jifen.accounts.models import Role
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_browsers(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = make_user(Role.CLERK, username="clerk_two")
    browsers = []
    for _ in range(2):
        browser = Client()
        response = browser.post("/accounts/login/", {"username": "clerk_two", "password": PASSWORD})
        assert response.status_code == 302
        assert browser.get("/workbench/").status_code == 200
        browsers.append(browser)
    return user, browsers


def key(browser) -> str:
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def signed_out(browser) -> bool:
    response = browser.get("/workbench/")
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_logout_in_one_browser_ends_the_other_sessions(two_browsers):
    _, (first, second) = two_browsers
    other = key(second)
    assert first.post("/accounts/logout/").status_code == 302
    assert signed_out(first)
    assert signed_out(second)
    assert not SessionStore().exists(other)


def test_disabling_an_account_ends_every_session(two_browsers):
    user, browsers = two_browsers
    keys = [key(b) for b in browsers]
    user.is_active = False
    user.save()
    assert all(signed_out(b) for b in browsers)
    assert not any(SessionStore().exists(k) for k in keys)
