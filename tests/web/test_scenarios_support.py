"""Fixtures of the scenario page and API tests (no tests here).

``pw`` is the published school-place world of the re-examination tests
(tests/reexaminations/world.py: three applicants a, b, c for two places; publication from
Tuesday 2025-09-30, filing until 2025-10-10 across the National Day holiday), with the request
layer's clock pinned (``clock.set``) and reviewers of the departments involved.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jifen.accounts import clock as clock_module
from jifen.audit.models import AuditEntry
from tests.factories import CHINA_TZ, make_user
from tests.reexaminations import world as rw

PNG = rw.PNG
FIRST_DAY = rw.FIRST_DAY
#: After the last filing day (2025-10-10), still inside the publication.
LATE = dt.datetime(2025, 10, 11, 10, 0, tzinfo=CHINA_TZ)
DECIDED = dt.datetime(2025, 10, 13, 10, 0, tzinfo=CHINA_TZ)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def set(self, when: dt.datetime) -> None:
        self.now = when


@pytest.fixture
def clock(monkeypatch):
    pinned = Clock(FIRST_DAY)
    monkeypatch.setattr(clock_module, "now", lambda: pinned.now)
    return pinned


@pytest.fixture
def pw(db, settings, tmp_path, clock):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"
    world = rw.build_world()
    world.hrss = make_user("reviewer", department="zj_hrss", username="reviewer_hrss")
    world.edu = make_user("reviewer", department="education_bureau", username="reviewer_edu")
    world.psb = make_user("reviewer", department="public_security_bureau", username="psb5")
    return world


def png(name: str = "proof.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def denied(reason: str | None = None) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(action="access.denied").order_by("sequence")
    return [e for e in entries if reason is None or e.data.get("reason") == reason]


def file_by_service(world, name: str = "c", item: str = "provincial.social_insurance"):
    from jifen.reexaminations.services import file_reexamination

    return file_reexamination(
        publication=world.publication,
        enrollment=world.enrollments[name],
        user=world.users[name],
        item=item,
        statement="我的社保缴费月数少算了",
        evidence=[rw.upload(world.residents[name], world.users[name])],
        now=FIRST_DAY,
    )
