"""Two simultaneous enrollments of one resident: the database constraint
``scenarios_one_enrollment_per_resident`` lets one through; the other gets the existing one.

PostgreSQL only (threads need separate connections to one server). Both threads pass the
service's pre-check before either writes (a barrier inside the transaction), so what stops
the second row is the constraint."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection

from jifen.org.routing import sync_routes_from_policies
from jifen.scenarios import services
from jifen.scenarios.errors import AlreadyEnrolled
from jifen.scenarios.models import Enrollment
from jifen.scenarios.services import enrollment as enrollment_module
from jifen.scores.policies import current_policies
from tests.scenarios.conftest import BEFORE, CHILD, DURING, PREFS, SCHOOL, actions

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="threads need separate connections to one database server",
    ),
    pytest.mark.django_db(transaction=True),
]


def reseed() -> None:
    seeding = importlib.import_module("jifen.org.migrations.0002_seed_towns_and_departments")
    seeding.seed(apps, None)
    sync_routes_from_policies(current_policies())


def test_two_enrollments_at_once_give_one_row(monkeypatch):
    from jifen.org.models import Department
    from tests.factories import make_resident, make_user

    reseed()
    center = make_user("center")
    version = services.define_scenario(
        code="race",
        name="并发",
        department=Department.objects.get(code="education_bureau"),
        content=SCHOOL,
        user=center,
        now=BEFORE,
        publish=True,
    )
    resident = make_resident()
    user = make_user("resident", resident=resident)
    both_inside = threading.Barrier(2)
    real_number = enrollment_module.next_number

    def number_after_both_checked(now):
        both_inside.wait(timeout=30)
        return real_number(now)

    monkeypatch.setattr(enrollment_module, "next_number", number_after_both_checked)
    results, errors = [], []

    def submit() -> None:
        try:
            results.append(
                services.enroll(
                    scenario=version.scenario,
                    resident=resident,
                    user=user,
                    details=CHILD,
                    preferences=PREFS,
                    now=DURING,
                )
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
    assert len(errors) == 1 and isinstance(errors[0], AlreadyEnrolled), errors
    assert errors[0].enrollment.pk == results[0].pk
    assert Enrollment.objects.filter(resident=resident).count() == 1
    assert actions(results[0], "enrollment.submitted") == ["enrollment.submitted"]
