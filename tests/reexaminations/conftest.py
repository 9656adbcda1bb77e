"""Fixtures of the re-examination tests (the world is in ``world.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"


@pytest.fixture
def world(db):
    from tests.reexaminations.world import build_world

    return build_world()
