"""Fixtures of the claims API tests (tests/api/test_claims_*.py): users of every role, an
``Api`` client that sends an Idempotency-Key with every state-changing request, and the clock
fixed on a Monday of 2026 (the calendar covers it)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jifen.audit.models import AuditEntry
from tests.factories import CHINA_TZ, make_resident, make_user

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
COMMENDATION = {"rule": "honours.commendation", "level": "city", "date": "2025-05-01"}
VOLUNTEER = {"rule": "charity.volunteer_hours", "quantity": 120, "date": "2025-09-01"}


@pytest.fixture(autouse=True)
def claims_api_setup(settings, tmp_path, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"
    monkeypatch.setattr("jifen.accounts.clock.now", lambda: NOW)


class Api:
    """The Django test client as one user; POST/PUT carry a fresh Idempotency-Key."""

    def __init__(self, client, user) -> None:
        self.client = client
        self.user = user
        self.login()

    def login(self) -> None:
        """Several Api objects share one test client: sign this one's user in if needed."""
        if getattr(self.client, "api_user", None) != self.user.pk:
            self.client.logout()
            self.client.force_login(self.user)
            self.client.api_user = self.user.pk

    def get(self, url, **params):
        self.login()
        return self.client.get(url, params)

    def _send(self, method, url, body, key, **kwargs):
        self.login()
        headers = {} if key is False else {"Idempotency-Key": key or str(uuid.uuid4())}
        return getattr(self.client, method)(
            url, body, content_type="application/json", headers=headers, **kwargs
        )

    def post(self, url, body=None, *, key=None):
        return self._send("post", url, body if body is not None else {}, key)

    def put(self, url, body=None, *, key=None):
        return self._send("put", url, body if body is not None else {}, key)

    def upload(self, content=PNG, name="proof.png", *, key=None, **fields):
        self.login()
        headers = {} if key is False else {"Idempotency-Key": key or str(uuid.uuid4())}
        data = {"file": SimpleUploadedFile(name, content, content_type="image/png"), **fields}
        return self.client.post("/api/evidence/", data, headers=headers)


@pytest.fixture
def api(client):
    def as_user(user):
        return Api(client, user)

    return as_user


@pytest.fixture
def resident(db):
    return make_resident(town="wutong", birth_date=dt.date(1990, 4, 1))


@pytest.fixture
def resident_user(resident):
    return make_user("resident", resident=resident)


@pytest.fixture
def other_resident_user(db):
    return make_user("resident", resident=make_resident(town="wutong"))


@pytest.fixture
def town_reviewer(db):
    return make_user("reviewer", department="town")


@pytest.fixture
def social_reviewer(db):
    return make_user("reviewer", department="social_work_dept")


@pytest.fixture
def clerk(db):
    return make_user("clerk", town="wutong")


@pytest.fixture
def other_clerk(db):
    return make_user("clerk", town="puyuan")


@pytest.fixture
def center(db):
    return make_user("center")


@pytest.fixture
def auditor(db):
    return make_user("auditor")


def actions(since: int = 0) -> list[str]:
    return list(
        AuditEntry.objects.filter(sequence__gt=since)
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def last_sequence() -> int:
    entry = AuditEntry.objects.order_by("-sequence").first()
    return entry.sequence if entry else 0


def denials() -> int:
    return AuditEntry.objects.filter(action="access.denied").count()
