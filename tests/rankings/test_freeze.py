"""Freezing: deterministic order and hash, re-run, tie-breaks as configured, allocation with
preferences, cut-off values, who may freeze, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jifen.rankings import engine
from jifen.rankings.errors import (
    AlreadyPublished,
    HashMismatch,
    NotAllowed,
    NothingToRank,
)
from jifen.rankings.models import Ranking, RankingEntry, RankingState
from jifen.rankings.services import freeze_ranking, publish, rerun, verify
from tests.factories import make_user
from tests.rankings.conftest import ENDS, FROZEN, PUBLISHED, STARTS, last_entry

pytestmark = pytest.mark.django_db


def ranked(ranking):
    return list(
        RankingEntry.objects.filter(ranking=ranking)
        .order_by("rank")
        .values_list("number", "quota_key")
    )


def test_freeze_orders_allocates_and_stores_the_inputs_and_hash(define, enrol, center):
    version = define()
    low = enrol(version, 50)
    tie_late = enrol(version, 60, provincial=40, minute=5)
    tie_early = enrol(version, 60, provincial=40, minute=1)
    top = enrol(version, 70)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)

    assert ranking.state == RankingState.FROZEN
    assert ranked(ranking) == [
        (top.number, "school:wutong-1"),
        (tie_early.number, "school:wutong-1"),
        (tie_late.number, ""),
        (low.number, ""),
    ]
    assert ranking.entry_count == 4 and ranking.admitted_count == 2
    assert ranking.cutoff_points == Decimal("60.00")
    assert ranking.cutoff_tiebreak["key"] == "applied_at"
    assert ranking.quota_cutoffs["school:wutong-1"]["number"] == tie_early.number
    entry = RankingEntry.objects.get(ranking=ranking, number=tie_early.number)
    assert entry.enrollment_id == tie_early.pk
    assert entry.breakdown == tie_early.breakdown
    assert entry.tiebreak_values == {
        "provincial_total": "40.00",
        "city_bonus_total": "20.00",
        "applied_at": "2025-09-01T01:01:00.000000Z",
    }
    # The snapshot holds what the ranking read, and no personal data.
    assert [e["number"] for e in ranking.inputs["entries"]] == sorted(
        e.number for e in (low, tie_late, tie_early, top)
    )
    assert ranking.inputs["version_hash"] == version.content_hash
    text = str(ranking.inputs)
    assert top.resident.name not in text
    # Re-run from the stored inputs: the same hash.
    assert rerun(ranking) == ranking.content_hash
    assert verify(ranking) == ranking.content_hash
    entry = last_entry("ranking.frozen")
    assert entry.object_id == str(ranking.pk)
    assert entry.data["content_hash"] == ranking.content_hash
    assert entry.data["entries"] == 4 and entry.data["cutoff_points"] == "60.00"


def test_two_freezes_of_the_same_inputs_give_the_same_hash(define, enrol, center):
    version = define()
    for points in (55, 61, 61, 70, 42):
        enrol(version, points)
    first = freeze_ranking(version=version, user=center, now=FROZEN)
    second = freeze_ranking(version=version, user=center, now=PUBLISHED)
    first.refresh_from_db()
    assert first.state == RankingState.SUPERSEDED
    assert second.sequence == 2 and second.state == RankingState.FROZEN
    assert second.content_hash == first.content_hash
    assert ranked(second) == ranked(first)
    assert last_entry("ranking.frozen").data["replaces"] == first.pk


def test_a_tampered_snapshot_does_not_verify(define, enrol, center):
    version = define()
    enrol(version, 50)
    enrol(version, 40)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    inputs = ranking.inputs
    inputs["entries"][0]["points"] = "99.00"
    Ranking.objects.filter(pk=ranking.pk).update(inputs=inputs)
    ranking.refresh_from_db()
    assert rerun(ranking) != ranking.content_hash
    with pytest.raises(HashMismatch) as caught:
        verify(ranking)
    assert caught.value.code == "rankings.hash_mismatch"


def test_tie_breaks_follow_the_configured_order(define, enrol, center):
    version = define(tie_breaks=["city_bonus_total", "provincial_total", "applied_at"])
    more_provincial = enrol(version, 60, provincial=45, minute=0)
    more_city = enrol(version, 60, provincial=40, minute=3)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    assert [n for n, _q in ranked(ranking)] == [more_city.number, more_provincial.number]
    assert ranking.cutoff_tiebreak is not None

    version = define(tie_breaks=["provincial_total", "city_bonus_total", "applied_at"])
    more_provincial = enrol(version, 60, provincial=45, minute=0)
    more_city = enrol(version, 60, provincial=40, minute=3)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    assert [n for n, _q in ranked(ranking)] == [more_provincial.number, more_city.number]


def test_an_item_tie_break_reads_the_item_points(define, enrol, center):
    version = define(
        tie_breaks=["item:provincial.social_insurance", "applied_at"],
        quotas=[{"key": "school:wutong-1", "label": "梧桐一小", "places": 1, "town": None}],
    )
    early = enrol(version, 60, items={"social_insurance": "10.00"}, minute=0)
    more_insurance = enrol(version, 60, items={"social_insurance": "12.00"}, minute=9)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    assert [n for n, _q in ranked(ranking)] == [more_insurance.number, early.number]
    assert ranking.cutoff_tiebreak["key"] == "item:provincial.social_insurance"
    assert ranking.cutoff_tiebreak["value"] == "12.00"


def test_allocation_with_preferences_and_cutoffs_per_school(define, enrol, center):
    version = define(
        quotas=[
            {"key": "school:wutong-1", "label": "梧桐一小", "places": 1, "town": None},
            {"key": "school:wutong-2", "label": "梧桐二小", "places": 1, "town": None},
            {"key": "school:fengming", "label": "凤鸣小学", "places": 1, "town": "fengming"},
        ],
        preferences={"max": 3},
    )
    a = enrol(version, 90, preferences=["school:wutong-1", "school:wutong-2"])
    b = enrol(version, 80, preferences=["school:wutong-1", "school:wutong-2"])
    c = enrol(version, 70, preferences=["school:wutong-1", "school:fengming"])
    d = enrol(version, 60, preferences=["school:fengming"], town="fengming")
    e = enrol(version, 50, preferences=["school:wutong-2"])
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    assert ranked(ranking) == [
        (a.number, "school:wutong-1"),
        (b.number, "school:wutong-2"),
        (c.number, ""),  # 凤鸣 admits only residents of 凤鸣
        (d.number, "school:fengming"),
        (e.number, ""),
    ]
    assert ranking.cutoff_points == Decimal("60.00")
    assert set(ranking.quota_cutoffs) == {"school:wutong-1", "school:wutong-2", "school:fengming"}
    assert ranking.quota_cutoffs["school:wutong-1"] == {
        "points": "90.00",
        "rank": 1,
        "number": a.number,
        "ties": {
            "provincial_total": "90.00",
            "city_bonus_total": "0.00",
            "applied_at": "2025-09-01T01:00:00.000000Z",
        },
    }
    assert ranking.quota_cutoffs["school:wutong-2"]["points"] == "80.00"
    assert ranking.quota_cutoffs["school:fengming"]["number"] == d.number


def test_only_the_center_freezes_and_only_what_can_be_ranked(define, enrol, center, provider):
    version = define()
    with pytest.raises(NotAllowed):
        freeze_ranking(version=version, user=provider, now=FROZEN)
    with pytest.raises(NothingToRank) as caught:
        freeze_ranking(version=version, user=center, now=FROZEN)
    assert caught.value.code == "rankings.nothing_to_rank"
    enrol(version, 10)
    ineligible = enrol(version, 99)
    ineligible.status = "ineligible"
    ineligible.save()
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    assert ranking.entry_count == 1
    publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)
    with pytest.raises(AlreadyPublished):
        freeze_ranking(version=version, user=center, now=PUBLISHED)
    assert make_user("auditor").role == "auditor"


def test_the_stored_inputs_rank_like_the_engine(define, enrol, center):
    version = define()
    for points in (10, 20, 30):
        enrol(version, points)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    result = engine.rank(ranking.inputs)
    assert [e.number for e in result.entries] == [n for n, _q in ranked(ranking)]
