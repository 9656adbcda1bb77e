"""Suite-wide pytest configuration: markers, and the access-test world."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium through Playwright (tests/browser)"
    )


@pytest.fixture
def world(db, settings):
    """Residents, facts, scores, batches and one user of every role (tests/accounts/world.py).

    Its twelve accounts use a fast password hasher: the production hasher's cost is the point
    of it, and it would dominate the run time of every access test.
    """
    from tests.accounts.world import build_world

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return build_world()
