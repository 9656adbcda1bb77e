"""Shared fixtures and helpers of the claims page tests (tests/web/test_claims_*.py).

No tests here. The pages read "now" from :mod:`jifen.accounts.clock`; the fixture ``at``
pins it to the factories' 2025-06-02 09:30 (China time; the last day of the Dragon Boat
Festival holiday), so a task accepted then is due on the 10th working day after it,
2025-06-16.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jifen.accounts import clock
from jifen.accounts.models import Role
from jifen.audit.models import AuditEntry
from jifen.claims import services
from jifen.evidence.services import store_upload
from tests.factories import NOW, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes(width: int = 8, height: int = 8, rgb=(200, 30, 30)) -> bytes:
    """A small valid PNG (solid colour), so a browser can show it inline."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_upload(name: str = "certificate.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


@pytest.fixture
def at(monkeypatch):
    """Pin the request layer's clock to ``NOW`` (or another time: ``at.set(datetime)``)."""

    class Clock:
        def __init__(self) -> None:
            self.now = NOW

        def set(self, when: dt.datetime) -> None:
            self.now = when

    pinned = Clock()
    monkeypatch.setattr(clock, "now", lambda: pinned.now)
    return pinned


@pytest.fixture
def evidence_root(settings, tmp_path):
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"
    return settings.JIFEN_EVIDENCE_ROOT


@pytest.fixture
def cw(world, at, evidence_root):
    """The access-test world plus reviewers of the social work department and the town
    unit, with the clock pinned."""
    world.users["reviewer_social"] = make_user(
        Role.REVIEWER, department="social_work_dept", username="reviewer_social"
    )
    return world


def volunteer(quantity: str = "25", date: dt.date = dt.date(2025, 3, 1)):
    return services.ClaimItemInput(rule="charity.volunteer_hours", quantity=quantity, date=date)


def bravery(level: str = "county", date: dt.date = dt.date(2024, 9, 1)):
    return services.ClaimItemInput(rule="honours.bravery", level=level, date=date)


def file_claim(world, items=None, *, user=None, resident=None, files=(), now=NOW):
    """A submitted claim of alice (by default: bravery → public security, volunteer hours →
    social work: two tasks), with evidence stored through the real service."""
    user = user or world.alice_user
    resident = resident or world.alice
    evidence = [
        store_upload(f, resident=resident, user=user, now=now) for f in (files or [pdf_upload()])
    ]
    return services.submit_claim(
        resident=resident,
        user=user,
        items=items or [bravery(), volunteer()],
        evidence=evidence,
        now=now,
    )


def task_of(claim, department: str):
    return claim.tasks.get(department__code=department)


def actions(**filters) -> list[str]:
    return list(
        AuditEntry.objects.filter(**filters).order_by("sequence").values_list("action", flat=True)
    )


def last(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-sequence").first()
