"""The demo scenarios: both published through the services, open around ``now``, the
clerk's enrollments made; calling again changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.scenarios import services
from jifen.scenarios.demo import seed_demo_scenarios
from jifen.scenarios.models import Enrollment, VersionStatus
from tests.factories import CHINA_TZ, make_user
from tests.scenarios.conftest import scored_resident

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 7, 3, 11, 0, tzinfo=CHINA_TZ)


def test_the_demo_publishes_two_open_scenarios_with_enrollments():
    make_user("center", username="center")
    make_user("clerk", town="wutong", username="clerk")
    make_user("resident", resident=scored_resident(), username="resident")
    others = [scored_resident() for _ in range(3)]
    seeded = seed_demo_scenarios(now=NOW, enrollments=5)
    school, housing = seeded.versions
    assert [v.status for v in seeded.versions] == [VersionStatus.PUBLISHED] * 2
    assert school.scenario.department.code == "education_bureau"
    assert housing.scenario.department.code == "housing_bureau"
    assert len(school.content["quotas"]) == 5 and school.preferences_max == 3
    assert school.content["eligibility"]["child_birth_from"] == "2019-09-01"
    assert school.content["eligibility"]["child_birth_to"] == "2020-08-31"
    assert housing.content["eligibility"]["min_residence_months"] == 12
    for version in seeded.versions:
        assert version.open_from < NOW < version.open_until
        services.check_open(version, NOW)
    assert {e.resident_id for e in seeded.enrollments} == {r.pk for r in others}
    again = seed_demo_scenarios(now=NOW, enrollments=5)
    assert [v.pk for v in again.versions] == [v.pk for v in seeded.versions]
    assert again.enrollments == []
    assert Enrollment.objects.count() == 3
