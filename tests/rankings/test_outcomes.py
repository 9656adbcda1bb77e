"""After publication: the final list, outcomes per applicant, cancelled places moving the
next applicants up."""

from __future__ import annotations

import datetime as dt

import pytest

from jifen.notifications.models import Notification
from jifen.rankings.errors import InvalidValue, NotAllowed, TransitionNotAllowed
from jifen.rankings.models import RankingEntry, RankingState
from jifen.rankings.services import cancel_place, finalise, freeze_ranking, publish, record_outcome
from tests.factories import CHINA_TZ, make_user
from tests.rankings.conftest import ENDS, FROZEN, PUBLISHED, STARTS, last_entry

pytestmark = pytest.mark.django_db
AFTER = dt.datetime(2025, 10, 20, 9, 0, tzinfo=CHINA_TZ)  # the windows ended on 17 October

SCHOOLS = [
    {"key": "school:wutong-1", "label": "梧桐一小", "places": 1, "town": None},
    {"key": "school:wutong-2", "label": "梧桐二小", "places": 1, "town": None},
]


def entry_of(ranking, enrollment):
    return RankingEntry.objects.get(ranking=ranking, enrollment=enrollment)


@pytest.fixture
def published(define, enrol, center):
    """Four applicants for two schools: A→1, B→2, C and D waitlisted."""
    version = define(quotas=SCHOOLS, preferences={"max": 2})
    people = {
        "a": enrol(version, 90, preferences=["school:wutong-1", "school:wutong-2"]),
        "b": enrol(version, 80, preferences=["school:wutong-1", "school:wutong-2"]),
        "c": enrol(version, 70, preferences=["school:wutong-1"]),
        "d": enrol(version, 60, preferences=["school:wutong-2", "school:wutong-1"]),
    }
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)
    return ranking, people


def test_finalise_after_the_windows_and_record_outcomes(published, center, provider):
    ranking, people = published
    with pytest.raises(TransitionNotAllowed) as caught:
        finalise(ranking, user=center, now=dt.datetime(2025, 10, 17, 18, tzinfo=CHINA_TZ))
    assert "2025-10-18" in str(caught.value.message)
    a = entry_of(ranking, people["a"])
    with pytest.raises(TransitionNotAllowed):
        record_outcome(a, "admitted", user=provider, now=AFTER)
    with pytest.raises(NotAllowed):
        finalise(ranking, user=provider, now=AFTER)
    ranking = finalise(ranking, user=center, now=AFTER)
    assert ranking.state == RankingState.FINAL
    assert last_entry("ranking.finalised").object_id == str(ranking.pk)

    other_department = make_user("reviewer", department="public_security_bureau")
    with pytest.raises(NotAllowed):
        record_outcome(a, "admitted", user=other_department, now=AFTER)
    with pytest.raises(InvalidValue):
        record_outcome(a, "moved", user=provider, now=AFTER)
    c = entry_of(ranking, people["c"])
    with pytest.raises(InvalidValue) as caught:
        record_outcome(c, "admitted", user=provider, now=AFTER)
    assert caught.value.field == "outcome"

    a = record_outcome(a, "admitted", user=provider, now=AFTER)
    b = record_outcome(
        entry_of(ranking, people["b"]), "declined", user=provider, now=AFTER, note="moved away"
    )
    c = record_outcome(c, "waitlisted", user=center, now=AFTER)
    assert (a.outcome, b.outcome, c.outcome) == ("admitted", "declined", "waitlisted")
    assert a.recorded_by == provider and a.recorded_at == AFTER
    entry = last_entry("ranking.outcome_recorded")
    assert entry.data == {
        "ranking": ranking.pk,
        "entry": c.pk,
        "number": c.number,
        "before": "",
        "after": "waitlisted",
        "quota": None,
    }
    assert Notification.objects.filter(
        kind="ranking.outcome_recorded", resident=people["a"].resident
    ).exists()


def test_cancel_place_moves_the_next_applicants_up(published, center):
    ranking, people = published
    ranking = finalise(ranking, user=center, now=AFTER)
    with pytest.raises(InvalidValue):
        cancel_place(entry_of(ranking, people["a"]), reason="", user=center, now=AFTER)

    # A's place at school 1 is cancelled: B (rank 2) prefers school 1 and moves there;
    # school 2, freed by B, goes to D (C wanted school 1 only, now taken by B).
    moved = cancel_place(
        entry_of(ranking, people["a"]), reason="伪造材料，积分清零", user=center, now=AFTER
    )
    assert {(m.number, m.quota_key) for m in moved} == {
        (people["b"].number, "school:wutong-1"),
        (people["d"].number, "school:wutong-2"),
    }
    a = entry_of(ranking, people["a"])
    assert a.outcome == "cancelled" and a.quota_key == "" and a.frozen_quota_key
    c = entry_of(ranking, people["c"])
    assert c.quota_key == ""
    d = entry_of(ranking, people["d"])
    assert d.moved_up_at == AFTER and d.frozen_quota_key == ""
    entry = last_entry("ranking.place_cancelled")
    assert entry.object_id == str(a.pk)
    assert entry.data["quota"] == "school:wutong-1"
    assert entry.data["moved"] == [
        {"number": people["b"].number, "from": "school:wutong-2", "to": "school:wutong-1"},
        {"number": people["d"].number, "from": None, "to": "school:wutong-2"},
    ]
    told = Notification.objects.filter(kind="ranking.moved_up")
    assert {n.resident_id for n in told} == {people["b"].resident_id, people["d"].resident_id}
    assert "梧桐二小" in told.get(resident=people["d"].resident).body
    assert Notification.objects.filter(
        kind="ranking.place_cancelled", resident=people["a"].resident
    ).exists()
    with pytest.raises(TransitionNotAllowed):
        cancel_place(a, reason="again", user=center, now=AFTER)
    with pytest.raises(TransitionNotAllowed):
        record_outcome(a, "admitted", user=center, now=AFTER)

    # Cancelling the next one: C finally gets school 1.
    moved = cancel_place(entry_of(ranking, people["b"]), reason="伪造材料", user=center, now=AFTER)
    assert [(m.number, m.quota_key) for m in moved] == [(people["c"].number, "school:wutong-1")]
    assert entry_of(ranking, people["d"]).quota_key == "school:wutong-2"


def test_cancel_place_on_a_published_list_and_who_may(published, center):
    ranking, people = published
    stranger = make_user("reviewer", department="public_security_bureau")
    with pytest.raises(NotAllowed):
        cancel_place(entry_of(ranking, people["a"]), reason="x", user=stranger, now=AFTER)
    moved = cancel_place(entry_of(ranking, people["d"]), reason="x", user=center, now=AFTER)
    assert moved == []  # D had no place: nobody moves
