"""Two submissions of the same rule at once: the open-item constraint lets one through.

PostgreSQL only (threads need separate connections to one server; the SQLite test database
is in memory). Both threads pass the service's pre-check before either writes, so what stops
the second claim is the database constraint ``claims_one_open_item_per_resident_rule``.
"""

from __future__ import annotations

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection

from jifen.claims import services
from jifen.claims.errors import DuplicateOpenClaim
from jifen.claims.models import Claim, ClaimItem
from jifen.org.routing import sync_routes_from_policies
from jifen.scores.policies import current_policies
from tests.claims.conftest import COMMENDATION, NOW

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="threads need separate connections to one database server",
    ),
    pytest.mark.django_db(transaction=True),
]


def reseed() -> None:
    """An earlier transactional test may have flushed the seeded organisation data."""
    seeding = importlib.import_module("jifen.org.migrations.0002_seed_towns_and_departments")
    seeding.seed(apps, None)
    sync_routes_from_policies(current_policies())


def test_two_submissions_at_once_give_one_open_claim(monkeypatch):
    from tests.factories import make_resident, make_user

    reseed()
    resident = make_resident()
    user = make_user("resident", resident=resident)
    both_checked = threading.Barrier(2)
    real_create = services.filing._create

    def create_after_both_checked(**kwargs):
        both_checked.wait(timeout=30)
        return real_create(**kwargs)

    monkeypatch.setattr(services.filing, "_create", create_after_both_checked)
    results, errors = [], []

    def submit() -> None:
        try:
            results.append(
                services.submit_claim(resident=resident, user=user, items=[COMMENDATION], now=NOW)
            )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 1, errors
    assert len(errors) == 1 and isinstance(errors[0], DuplicateOpenClaim), errors
    assert errors[0].code == "claims.duplicate_open_claim"
    assert Claim.objects.filter(resident=resident).count() == 1
    assert ClaimItem.objects.filter(resident=resident, is_open=True).count() == 1


def test_without_the_constraint_both_would_pass(monkeypatch):
    """The control: the pre-check alone does not stop the race (both threads pass it)."""
    from tests.factories import make_resident, make_user

    reseed()
    resident = make_resident()
    user = make_user("resident", resident=resident)
    passed = []
    barrier = threading.Barrier(2)
    real_create = services.filing._create

    def stop_after_check(**kwargs):
        passed.append(1)
        barrier.wait(timeout=30)
        raise RuntimeError("stop before writing")

    monkeypatch.setattr(services.filing, "_create", stop_after_check)

    def submit() -> None:
        try:
            services.submit_claim(resident=resident, user=user, items=[COMMENDATION], now=NOW)
        except RuntimeError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(passed) == 2
    assert real_create is not None
