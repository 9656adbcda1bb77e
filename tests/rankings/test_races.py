"""Races on PostgreSQL (threads need their own connections): two freezes of one version at
once, and two places of one list cancelled at once."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.apps import apps
from django.db import connection

from jifen.rankings.models import Ranking, RankingEntry, RankingState
from jifen.rankings.services import cancel_place, freeze_ranking, publish
from tests.rankings.conftest import ENDS, FROZEN, PUBLISHED, STARTS

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


def run_together(*targets) -> list[BaseException]:
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target) -> None:
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_two_freezes_at_once_leave_one_live_list_with_the_same_hash(define, enrol, center):
    reseed()
    version = define()
    for points in (70, 60, 60, 50):
        enrol(version, points)

    def freeze() -> None:
        freeze_ranking(version=version, user=center, now=FROZEN)

    assert run_together(freeze, freeze) == []
    rankings = list(Ranking.objects.filter(version=version).order_by("sequence"))
    assert [r.sequence for r in rankings] == [1, 2]
    assert [r.state for r in rankings] == [RankingState.SUPERSEDED, RankingState.FROZEN]
    assert rankings[0].content_hash == rankings[1].content_hash


def test_two_places_cancelled_at_once_move_two_applicants_up(define, enrol, center):
    reseed()
    version = define()
    people = [enrol(version, points) for points in (90, 80, 70, 60)]
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)
    first, second = (RankingEntry.objects.get(enrollment=p) for p in people[:2])

    def cancel(entry):
        return lambda: cancel_place(entry, reason="伪造材料", user=center, now=PUBLISHED)

    assert run_together(cancel(first), cancel(second)) == []
    places = dict(RankingEntry.objects.filter(ranking=ranking).values_list("number", "quota_key"))
    assert places == {
        people[0].number: "",
        people[1].number: "",
        people[2].number: "school:wutong-1",
        people[3].number: "school:wutong-1",
    }
