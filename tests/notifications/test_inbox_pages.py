"""Inbox pages and API over HTTP: scoped to the signed-in user, mark as read."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.models import AuditEntry
from jifen.notifications.models import Notification
from jifen.notifications.services import notify
from tests.factories import make_resident, make_user

NOW = dt.datetime(2025, 10, 9, 2, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    alice = make_user("resident")
    bob = make_user("resident")
    reviewer = make_user("reviewer")
    return alice, bob, reviewer


def _note(user=None, resident=None, subject="Your claim was accepted", link="/me/"):
    return notify(
        user=user,
        resident=resident,
        kind="claim.accepted",
        subject=subject,
        body="Due on 2025-10-21.",
        link=link,
        now=NOW,
        sms=False,
    )


def test_a_resident_reads_their_inbox_and_marks_a_message_read(client, people):
    alice, bob, _ = people
    mine = _note(resident=alice.resident)
    _note(resident=bob.resident, subject="Bob's message")
    client.force_login(alice)
    page = client.get("/me/inbox/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your claim was accepted" in text and "Bob&#x27;s message" not in text
    assert 'id="inbox-unread">1<' in text
    response = client.post(f"/inbox/{mine.pk}/read")
    assert response.status_code == 302 and response["Location"] == "/me/inbox/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'id="inbox-unread"' not in client.get("/me/inbox/").content.decode()


def test_open_follows_the_local_link_only(client, people):
    alice, _, _ = people
    local = _note(resident=alice.resident, link="/me/claims/")
    external = _note(resident=alice.resident, link="https://evil.example/")
    client.force_login(alice)
    assert client.post(f"/inbox/{local.pk}/read", {"open": "1"})["Location"] == "/me/claims/"
    assert client.post(f"/inbox/{external.pk}/read", {"open": "1"})["Location"] == "/me/inbox/"


def test_another_users_notification_is_not_found(client, people):
    alice, bob, _ = people
    theirs = _note(resident=bob.resident)
    client.force_login(alice)
    assert client.post(f"/inbox/{theirs.pk}/read").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    denied = AuditEntry.objects.filter(action="access.denied").last()
    assert denied.actor_id == str(alice.pk) and denied.object_id == str(theirs.pk)


def test_marking_read_needs_post_and_csrf(people):
    from django.test import Client

    alice, _, _ = people
    note = _note(resident=alice.resident)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get(f"/inbox/{note.pk}/read").status_code == 405
    assert client.post(f"/inbox/{note.pk}/read").status_code == 403
    note.refresh_from_db()
    assert note.read_at is None


def test_a_message_to_a_resident_before_their_account_existed_is_in_their_inbox(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    resident = make_resident()
    _note(resident=resident, subject="Filed at the window")
    account = make_user("resident", resident=resident)
    client.force_login(account)
    assert "Filed at the window" in client.get("/me/inbox/").content.decode()


def test_staff_inbox_and_mark_all_read(client, people):
    alice, _, reviewer = people
    _note(user=reviewer, subject="Task due soon")
    _note(user=reviewer, subject="Task overdue")
    client.force_login(reviewer)
    text = client.get("/workbench/inbox/").content.decode()
    assert "Task due soon" in text and "Task overdue" in text
    assert client.get("/me/inbox/").status_code == 403  # the resident page is not theirs
    assert client.post("/inbox/read-all")["Location"] == "/workbench/inbox/"
    assert not Notification.objects.filter(user=reviewer, read_at__isnull=True).exists()
    client.force_login(alice)
    assert client.get("/workbench/inbox/").status_code == 403


def test_the_inbox_api(client, people):
    alice, bob, _ = people
    first = _note(resident=alice.resident, subject="First")
    _note(resident=alice.resident, subject="Second")
    _note(resident=bob.resident, subject="Bob's")
    client.force_login(alice)
    first.read_at = NOW
    first.save()
    data = client.get("/api/inbox/").json()
    assert data["unread"] == 1
    assert [n["subject"] for n in data["results"]] == ["Second", "First"]
    assert set(data["results"][0]) == {
        "id",
        "kind",
        "subject",
        "body",
        "link",
        "created_at",
        "read_at",
    }
    unread = client.get("/api/inbox/?unread=1").json()
    assert [n["subject"] for n in unread["results"]] == ["Second"]
    client.logout()
    assert client.get("/api/inbox/").status_code == 403


def test_the_unread_count_for_the_navigation(rf, people):
    from jifen.notifications.context_processors import inbox

    alice, _, _ = people
    _note(resident=alice.resident)
    request = rf.get("/")
    request.user = alice
    assert inbox(request)["inbox_unread"]() == 1
