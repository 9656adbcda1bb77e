"""Fixtures of the policy version tests: two center users, and helpers to draft, approve and
publish through the services. The score fixtures come from tests/scores, the ranking ones
from tests/rankings."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.audit.models import AuditEntry
from jifen.scores.policies import current_policies
from tests.factories import CHINA_TZ, make_user
from tests.rankings.conftest import _fast, define, enrol  # noqa: F401 - fixtures
from tests.scores.conftest import give_facts, profile  # noqa: F401 - fixtures

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=CHINA_TZ)
EFFECTIVE = dt.date(2025, 7, 1)
CITY = "tongxiang-2025-02-01"
PROVINCIAL = "zhejiang-2023-07-26"


@pytest.fixture(autouse=True)
def _fresh_policies():
    """Each test starts from the files alone in this process's cache."""
    current_policies.cache_clear()
    yield
    current_policies.cache_clear()


@pytest.fixture
def center(db):
    return make_user("center")


@pytest.fixture
def approver(db):
    return make_user("center")


def actions(prefix: str = "policy.") -> list[str]:
    return [
        e.action for e in AuditEntry.objects.order_by("sequence") if e.action.startswith(prefix)
    ]


def find(items, code):
    return next(x for x in items if x["code"] == code)
