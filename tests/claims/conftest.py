"""Fixtures of the claims tests: a resident with an account, reviewers of two departments,
a clerk, the center; ``submit`` / ``advance`` helpers that drive the real services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jifen.audit.models import AuditEntry
from jifen.claims import services
from jifen.claims.models import ReviewState
from jifen.claims.services import ClaimItemInput
from tests.factories import CHINA_TZ, make_resident, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
#: A Monday; the 2026 calendar is loaded.
NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ)

COMMENDATION = ClaimItemInput(rule="honours.commendation", level="city", date=dt.date(2025, 5, 1))
VOLUNTEER = ClaimItemInput(rule="charity.volunteer_hours", quantity=120, date=dt.date(2025, 9, 1))


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"


@pytest.fixture
def resident(db):
    return make_resident(town="wutong", birth_date=dt.date(1990, 4, 1))


@pytest.fixture
def resident_user(resident):
    return make_user("resident", resident=resident)


@pytest.fixture
def town_reviewer(db):
    return make_user("reviewer", department="town")


@pytest.fixture
def social_reviewer(db):
    return make_user("reviewer", department="social_work_dept")


@pytest.fixture
def center(db):
    return make_user("center")


@pytest.fixture
def clerk(db):
    return make_user("clerk", town="wutong")


@pytest.fixture
def upload(resident, resident_user):
    from jifen.evidence.services import store_upload

    def make(name="proof.png"):
        return store_upload(
            SimpleUploadedFile(name, PNG, content_type="image/png"),
            resident=resident,
            user=resident_user,
            now=NOW,
        )

    return make


@pytest.fixture
def submit(resident, resident_user):
    def make(*items, now=NOW, **kwargs):
        return services.submit_claim(
            resident=resident,
            user=resident_user,
            items=list(items or [COMMENDATION]),
            evidence=kwargs.pop("evidence", []),
            channel="portal",
            now=now,
            **kwargs,
        )

    return make


@pytest.fixture
def task_in(submit, town_reviewer, resident_user):
    """A task of a new commendation claim brought into ``state`` through the services."""

    def make(state: str, *, now=NOW):
        claim = submit(now=now)
        task = claim.tasks.get()
        if state == ReviewState.SUBMITTED:
            return task
        if state == ReviewState.ACCEPTED:
            return services.accept(task, user=town_reviewer, now=now)
        if state == ReviewState.MATERIALS_REQUESTED:
            services.request_materials(
                task, user=town_reviewer, items=["certificate copy"], now=now
            )
            return task
        if state == ReviewState.APPROVED:
            services.accept(task, user=town_reviewer, now=now)
            item = task.items.get()
            return services.decide(
                task,
                user=town_reviewer,
                decisions=[services.ItemDecision(item, "approved")],
                now=now,
            )
        if state == ReviewState.REJECTED:
            return services.refuse(task, user=town_reviewer, reason="not ours", now=now)
        if state == ReviewState.WITHDRAWN:
            services.withdraw(claim, user=resident_user, reason="changed my mind", now=now)
            return task
        raise AssertionError(state)

    return make


def actions(obj=None, prefix: str = "") -> list[str]:
    entries = AuditEntry.objects.order_by("sequence")
    if obj is not None:
        entries = entries.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return [e.action for e in entries if e.action.startswith(prefix)]


def last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-sequence").first()
