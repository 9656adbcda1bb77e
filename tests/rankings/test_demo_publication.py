"""The demo's published list: the training scenario run from definition to a publication that
is up today, with the demo resident on the masked list; calling again changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.rankings.demo import PLACES, seed_demo_publication
from jifen.rankings.exports import api_data
from jifen.rankings.models import Publication
from jifen.rankings.services import visible_publication
from jifen.scenarios.models import Enrollment
from tests.factories import CHINA_TZ, make_user
from tests.scenarios.conftest import scored_resident

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 7, 3, 11, 0, tzinfo=CHINA_TZ)  # a Friday


def test_the_demo_publishes_a_list_that_is_up_today():
    make_user("center", username="center")
    clerk = make_user("clerk", town="wutong", username="clerk")
    own = make_user("resident", resident=scored_resident(), username="resident")
    others = [scored_resident() for _ in range(4)]
    assert all(r.town_id == clerk.town_id for r in others)
    publication = seed_demo_publication(now=NOW, applicants=10)
    assert publication is not None
    assert publication.starts_on == NOW.date() and publication.ends_on == dt.date(2026, 7, 9)
    assert visible_publication(publication, now=NOW).pk == publication.pk
    assert publication.filing_until >= NOW.date()  # the re-examination window is open
    enrollments = Enrollment.objects.filter(scenario=publication.ranking.version.scenario)
    assert {e.resident_id for e in enrollments} == {own.resident_id, *(r.pk for r in others)}
    version = publication.ranking.version
    assert all(version.open_from <= e.applied_at < version.open_until for e in enrollments)
    rows = api_data(publication, now=NOW)["rows"]
    assert len(rows) == 5 <= PLACES
    numbers = {e.number for e in enrollments}
    assert {row["number"] for row in rows} == numbers
    assert all("*" in row["name"] for row in rows)  # masked
    assert seed_demo_publication(now=NOW, applicants=10) is None
    assert Publication.objects.count() == 1
