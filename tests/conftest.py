"""Suite-wide pytest configuration: markers, the access-test world, and the audit chain check
that ends every test using the database."""

from __future__ import annotations

from collections.abc import Generator

import pytest

#: The marker of a test that breaks the audit hash chain on purpose (see pytest_runtest_call).
TAMPERS_AUDIT_CHAIN = "tampers_audit_chain"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Debian's Chromium through Playwright (tests/browser)"
    )
    config.addinivalue_line(
        "markers",
        f"{TAMPERS_AUDIT_CHAIN}: breaks the audit hash chain on purpose; the suite's chain check "
        "after the test is skipped",
    )


def uses_database(item: pytest.Item) -> bool:
    """Whether pytest-django gives ``item`` the test database (marker or db fixture)."""
    return item.get_closest_marker("django_db") is not None or "_django_db_helper" in getattr(
        item, "fixturenames", ()
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    """After every passing test that used the database, the audit hash chain verifies.

    security.md: the chain verifies after every end-to-end test. The check runs the verifier of
    ``jifen audit verify`` (jifen.audit.chain.verify_chain) over the whole table as the test
    left it: inside the test's transaction for ``db`` tests, on the committed data (what the
    live server and the worker threads wrote) for transactional ones, before any fixture is
    torn down. A break fails the test with the position the command would report. It only
    reads, so PostgreSQL's append-only triggers do not mind; an empty table costs one query,
    and a test's chain (tens of entries, a few hundred at most) about a millisecond.
    Tests that tamper with the chain on purpose carry ``@pytest.mark.tampers_audit_chain``.

    A hook rather than an autouse fixture: it runs right after the test body, whereas an
    autouse fixture, set up before the database, would be torn down after its rollback or flush.
    """
    result = yield
    if uses_database(item) and item.get_closest_marker(TAMPERS_AUDIT_CHAIN) is None:
        from django.db import connection

        from jifen.audit.chain import verify_chain

        if connection.needs_rollback:
            # The test ended inside a failed atomic block: it can run no query, and the
            # rollback that follows discards everything it wrote.
            return result
        report = verify_chain()
        if not report.ok:
            pytest.fail(f"{report} (after the test: jifen audit verify would fail)", pytrace=False)
    return result


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
