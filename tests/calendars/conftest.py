"""Fixtures of the calendar tests."""

from __future__ import annotations

import pytest

from jifen.calendars import services


@pytest.fixture(autouse=True)
def _isolated_calendar_state():
    """Problems remembered by an earlier test (whose transaction the test runner rolled back)
    and calendars cached from a rolled-back version stay out of this test."""
    services.forget_pending()
    yield
    services.forget_pending()
