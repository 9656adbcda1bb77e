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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test (threads, the live server of the browser tests, dropped
    connections) restores the database it found when it ends.

    Django flushes the database after a transactional test. Without serialized rollback the
    data the migrations seed (towns, departments, routes, the calendar) would be gone for the
    tests that follow, and the content types re-created with new ids would collide with a later
    serialized restore. So the suite's result never depends on the order of its tests.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        names = getattr(item, "fixturenames", ())
        transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
            name in names for name in ("transactional_db", "live_server")
        )
        if transactional and not (marker is not None and marker.kwargs.get("serialized_rollback")):
            kwargs = dict(marker.kwargs) if marker is not None else {}
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)
