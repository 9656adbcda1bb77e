"""From enrollment to the published list through the scenarios services: residents enroll in
the open period, the center evaluates and freezes, publishes, and the public API shows the
masked list."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.rankings.exports import api_data
from jifen.rankings.services import freeze_ranking, publish, rerun
from tests.factories import CHINA_TZ, make_resident, make_user
from tests.rankings.conftest import ENDS, FROZEN, OPEN_FROM, PUBLISHED, STARTS

pytestmark = pytest.mark.django_db


def test_enrolled_and_evaluated_applicants_are_ranked_and_published(define, center):
    from jifen.scenarios.services import enroll, evaluate_enrollments

    version = define()
    people = [
        make_resident(name=name, birth_date=dt.date(year, 3, 1), now=OPEN_FROM)
        for name, year in (("欧阳娜娜", 1995), ("李一", 1985), ("张三丰", 1970))
    ]
    for minute, resident in enumerate(people):
        user = make_user("resident", resident=resident)
        enroll(
            scenario=version.scenario,
            resident=resident,
            user=user,
            now=OPEN_FROM + dt.timedelta(minutes=minute),
        )
    evaluate_enrollments(version, now=FROZEN - dt.timedelta(hours=1), user=center)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    assert ranking.entry_count == 3
    assert rerun(ranking) == ranking.content_hash
    publication = publish(
        ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED
    )
    data = api_data(publication, now=dt.datetime(2025, 9, 29, 9, tzinfo=CHINA_TZ))
    assert sorted(row["name"] for row in data["rows"]) == sorted(["欧***", "李*", "张**"])
    points = [row["points"] for row in data["rows"]]
    assert points == sorted(points, key=float, reverse=True)
    assert all(row["breakdown"] for row in data["rows"])
