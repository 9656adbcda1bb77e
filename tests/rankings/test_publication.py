"""Publication: the 5-working-day minimum across holidays, the re-examination windows, the
read path, the take-down job, and the corrected list with its change note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from jifen.jobs.registry import periodic_kinds
from jifen.notifications.models import Notification
from jifen.rankings.errors import (
    NotAllowed,
    NotPublic,
    PublicationDates,
    PublicationTooShort,
    TransitionNotAllowed,
)
from jifen.rankings.exports import page_data, staff_list
from jifen.rankings.models import Publication, RankingEntry, RankingState
from jifen.rankings.services import (
    current_publications,
    freeze_ranking,
    publish,
    publish_corrected,
    take_down_due,
    visible_publication,
)
from tests.factories import CHINA_TZ
from tests.rankings.conftest import ENDS, FROZEN, PUBLISHED, STARTS, actions, last_entry

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHINA_TZ)


@pytest.fixture
def ranking(define, enrol, center):
    version = define()
    for points in (70, 60, 50):
        enrol(version, points)
    return freeze_ranking(version=version, user=center, now=FROZEN)


def test_five_working_days_across_the_2025_national_day(ranking, center):
    # Mon 29 Sep, Tue 30 Sep; 1–8 Oct off; Thu 9, Fri 10, Sat 11 Oct (worked).
    with pytest.raises(PublicationTooShort) as caught:
        publish(
            ranking=ranking,
            starts_on=STARTS,
            ends_on=dt.date(2025, 10, 10),
            user=center,
            now=PUBLISHED,
        )
    error = caught.value
    assert error.code == "rankings.publication_too_short"
    assert error.field == "ends_on"
    assert error.minimum_end == dt.date(2025, 10, 11)
    assert "2025-10-11" in str(error.message)
    assert not Publication.objects.exists()

    publication = publish(
        ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED
    )
    # Re-examination: filed by the 3rd working day counting the first day (9 Oct), answered
    # within 7 working days after it (10, 11, 13–17 Oct).
    assert publication.filing_until == dt.date(2025, 10, 9)
    assert publication.reexamination_until == dt.date(2025, 10, 17)
    assert publication.visible_until == dt.date(2025, 10, 17)
    ranking.refresh_from_db()
    assert ranking.state == RankingState.PUBLISHED
    entry = last_entry("publication.published")
    assert entry.object_id == str(publication.pk)
    assert entry.data["starts_on"] == "2025-09-29" and entry.data["ends_on"] == "2025-10-11"
    assert entry.data["content_hash"] == ranking.content_hash


def test_five_working_days_across_the_2026_spring_festival(define, enrol, center):
    version = define()
    enrol(version, 50)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    now = at(dt.date(2026, 2, 10))
    # Thu 12, Fri 13, Sat 14 Feb (worked); 15–23 Feb off; Tue 24, Wed 25 Feb.
    with pytest.raises(PublicationTooShort) as caught:
        publish(
            ranking=ranking,
            starts_on=dt.date(2026, 2, 12),
            ends_on=dt.date(2026, 2, 24),
            user=center,
            now=now,
        )
    assert caught.value.minimum_end == dt.date(2026, 2, 25)
    assert "2026-02-25" in str(caught.value.message)
    publication = publish(
        ranking=ranking,
        starts_on=dt.date(2026, 2, 12),
        ends_on=dt.date(2026, 2, 25),
        user=center,
        now=now,
    )
    assert publication.filing_until == dt.date(2026, 2, 14)


def test_publication_dates_and_roles_are_checked(ranking, center, provider):
    with pytest.raises(NotAllowed):
        publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=provider, now=PUBLISHED)
    with pytest.raises(PublicationDates) as caught:
        publish(
            ranking=ranking,
            starts_on=dt.date(2025, 9, 24),
            ends_on=ENDS,
            user=center,
            now=PUBLISHED,
        )
    assert caught.value.field == "starts_on"
    with pytest.raises(PublicationDates) as caught:
        publish(ranking=ranking, starts_on=ENDS, ends_on=STARTS, user=center, now=PUBLISHED)
    assert caught.value.field == "ends_on"
    publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)
    with pytest.raises(TransitionNotAllowed):
        publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)


def test_the_public_list_is_served_inside_its_windows_then_taken_down(ranking, center):
    publication = publish(
        ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED
    )
    for day in (dt.date(2025, 9, 28), dt.date(2025, 10, 18)):
        with pytest.raises(NotPublic) as caught:
            visible_publication(publication, now=at(day))
        assert caught.value.code == "rankings.not_public"
    for day in (STARTS, ENDS, dt.date(2025, 10, 17)):
        assert visible_publication(publication.pk, now=at(day)) == publication
        assert page_data(publication, now=at(day))["total"] == 3
    assert list(current_publications(now=at(STARTS))) == [publication]

    # The job leaves it until the windows are over, then takes it down once.
    assert take_down_due(now=at(dt.date(2025, 10, 17), 23)) == 0
    assert take_down_due(now=at(dt.date(2025, 10, 18), 1)) == 1
    assert take_down_due(now=at(dt.date(2025, 10, 18), 2)) == 0
    publication.refresh_from_db()
    assert publication.taken_down_at == at(dt.date(2025, 10, 18), 1)
    assert publication.taken_down_reason == "windows_closed"
    entry = last_entry("publication.taken_down")
    assert entry.actor_id == "job:rankings_take_down"
    assert entry.data["reason"] == "windows_closed"
    assert list(current_publications(now=at(dt.date(2025, 10, 18)))) == []
    with pytest.raises(NotPublic):
        page_data(publication, now=at(dt.date(2025, 10, 18)))
    # Staff keep the list.
    assert len(staff_list(publication).rows) == 3
    assert "rankings.take_down" in periodic_kinds()


def test_take_down_runs_as_a_periodic_job(ranking, center):
    from jifen.jobs.queue import enqueue
    from jifen.jobs.worker import work_once

    publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)
    later = at(dt.date(2025, 10, 20))
    enqueue("rankings.take_down", {"slot": later.isoformat()}, now=later)
    job = work_once(worker="test", clock=lambda: later, kinds=["rankings.take_down"])
    assert job is not None
    job.refresh_from_db()
    assert job.result == {"taken_down": 1}
    assert Publication.objects.get().taken_down_at == later


def test_a_corrected_list_supersedes_the_old_one_with_what_changed_and_why(define, enrol, center):
    version = define()
    first = enrol(version, 70)
    second = enrol(version, 60)
    third = enrol(version, 55)
    ranking = freeze_ranking(version=version, user=center, now=FROZEN)
    old = publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)

    # An upheld re-examination gives the third applicant 10 more points for education.
    third.points = Decimal("65.00")
    third.breakdown = {**third.breakdown, "provincial.education": "10.00"}
    third.save()
    now = at(dt.date(2025, 10, 13))
    why = "复核成立：学历认定更正（文化程度 +10.00）"
    new = publish_corrected(
        ranking=ranking,
        reason="复核结果更正",
        changes=[{"number": third.number, "why": why}],
        user=center,
        now=now,
    )
    ranking.refresh_from_db()
    old.refresh_from_db()
    assert ranking.state == RankingState.SUPERSEDED
    assert new.ranking.supersedes == ranking
    assert new.ranking.state == RankingState.PUBLISHED
    assert new.corrected_from == old
    assert old.taken_down_at == now and old.taken_down_reason == "corrected"
    assert new.starts_on == dt.date(2025, 10, 13)
    assert new.ends_on == dt.date(2025, 10, 17)  # 5 working days from 13 October
    assert new.ranking.content_hash != ranking.content_hash

    changes = {c["number"]: c for c in new.change_note["changes"]}
    assert new.change_note["reason"] == "复核结果更正"
    assert changes[third.number] == {
        "number": third.number,
        "rank": [3, 2],
        "points": ["55.00", "65.00"],
        "allocation": [None, "school:wutong-1"],
        "items": {"provincial.education": [None, "10.00"]},
        "why": why,
        "cause": "corrected",
    }
    assert changes[second.number]["rank"] == [2, 3]
    assert changes[second.number]["allocation"] == ["school:wutong-1", None]
    assert changes[second.number]["cause"] == "consequence"
    assert first.number not in changes

    new_entries = dict(
        RankingEntry.objects.filter(ranking=new.ranking).values_list("number", "rank")
    )
    assert new_entries == {first.number: 1, third.number: 2, second.number: 3}
    with pytest.raises(NotPublic):
        visible_publication(old, now=now)
    assert visible_publication(new, now=now) == new
    assert actions("ranking.corrected") == ["ranking.corrected"]
    entry = last_entry("ranking.corrected")
    assert entry.data["supersedes"] == ranking.pk
    assert entry.data["corrected"] == [third.number]
    assert last_entry("publication.taken_down").data["reason"] == "corrected"
    assert last_entry("publication.published").data["corrected_from"] == old.pk
    told = Notification.objects.filter(kind="ranking.corrected")
    assert {n.resident_id for n in told} == {third.resident_id, second.resident_id}


def test_only_a_published_list_is_corrected_and_a_reason_is_required(ranking, center):
    with pytest.raises(TransitionNotAllowed):
        publish_corrected(ranking=ranking, reason="x", changes=[], user=center, now=PUBLISHED)
    publish(ranking=ranking, starts_on=STARTS, ends_on=ENDS, user=center, now=PUBLISHED)
    with pytest.raises(Exception) as caught:
        publish_corrected(ranking=ranking, reason=" ", changes=[], user=center, now=PUBLISHED)
    assert caught.value.field == "reason"
    with pytest.raises(Exception) as caught:
        publish_corrected(
            ranking=ranking, reason="r", changes=[{"number": "YY1"}], user=center, now=PUBLISHED
        )
    assert caught.value.field == "changes[0].why"
