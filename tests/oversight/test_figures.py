"""The oversight figures (jifen.oversight.figures) against a hand-built small population:
counts, medians and p90 in working days (across the 2025 Dragon Boat holiday), percentages,
the summaries' refresh, and scoping by viewer."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from jifen.oversight import figures as f
from jifen.oversight.summaries import refresh_all, refresh_scores
from tests.factories import make_department, make_resident, make_town, make_user

CHINA = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2025, 6, 20)
NOW = dt.datetime(2025, 6, 20, 18, 0, tzinfo=CHINA)
_numbers = itertools.count(1)


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=CHINA)


def score(resident, total: str, status: str = "valid", reason: str = "", items=None):
    from jifen.scores.models import Score

    provincial, city = items or ({}, {})
    return Score.objects.create(
        resident=resident,
        evaluation_date=TODAY,
        review_date=TODAY,
        computed_at=NOW,
        status=status,
        lapse_reason=reason,
        total=Decimal(total),
        provincial_total=Decimal(total),
        city_bonus_total=Decimal(0),
        deductions_total=Decimal(0),
        result={"provincial": {"items": provincial}, "city": {"items": city}},
        provincial_policy="p",
        provincial_hash="h",
        city_policy="c",
        city_hash="h",
        reference_values=True,
        is_current=True,
    )


def task(
    resident,
    department,
    state,
    *,
    filer,
    created="2025-06-02",
    accepted=None,
    decided=None,
    due=None,
    extended=None,
):
    from jifen.claims.models import Claim, ReviewTask

    claim = Claim.objects.create(
        resident=resident,
        kind="claim",
        status="decided" if decided else "submitted",
        number=f"SQ2025{next(_numbers):06d}",
        filed_by=filer,
        created_at=at(created),
        updated_at=at(created),
        submitted_at=at(created),
    )
    return ReviewTask.objects.create(
        claim=claim,
        department=department,
        state=state,
        created_at=at(created),
        accepted_at=at(accepted) if accepted else None,
        due_on=dt.date.fromisoformat(due) if due else None,
        decided_at=at(decided, 16) if decided else None,
        extended=extended is not None,
        extended_at=at(extended) if extended else None,
    )


@pytest.fixture
def population(db, settings):
    """Six residents in two towns with scores, permits and status changes; review tasks of
    two departments; feed batches of two departments."""
    from jifen.claims.models import MaterialsNotice
    from jifen.feeds.models import FeedBatch
    from jifen.oversight.models import FeedSchedule
    from jifen.residents.models import PermitStatusChange

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    wutong, fengming = make_town("wutong"), make_town("fengming")
    hrss, police = make_department("hrss_bureau"), make_department("public_security_bureau")
    people = {
        "r1": make_resident(town=wutong, permit_issued_on=dt.date(2025, 5, 10), now=NOW),
        "r2": make_resident(town=wutong, permit_issued_on=dt.date(2025, 6, 5), now=NOW),
        "r3": make_resident(town=wutong, permit_issued_on=dt.date(2025, 6, 6), now=NOW),
        "r4": make_resident(town=fengming, permit_issued_on=dt.date(2024, 1, 8), now=NOW),
        "r5": make_resident(town=fengming, permit_issued_on=dt.date(2024, 1, 9), now=NOW),
        "r6": make_resident(town=fengming, permit_issued_on=dt.date(2024, 1, 10), now=NOW),
    }
    # A snapshot in May with r1 only, then the June population.
    score(people["r1"], "55.50", items=({"age": "20.00", "education": "30.00"}, {"skills": "5.50"}))
    refresh_scores(now=at("2025-05-20"))
    score(people["r2"], "72.00", items=({"age": "20.00", "education": "0.00"}, {"skills": "52.00"}))
    score(people["r3"], "40.00", "lapsed", "逾期未签注")
    score(people["r4"], "10.25", items=({"age": "10.25"}, {}))
    score(people["r5"], "30.00", "lapsed", "已离开桐乡")
    score(people["r6"], "0.00", "cleared", "fraud")

    def change(resident, status, day, restored=False):
        PermitStatusChange.objects.create(
            permit=resident.permits.get(),
            status=status,
            restored=restored,
            effective_on=dt.date.fromisoformat(day),
            source="feed",
            reason="",
            recorded_at=NOW,
        )

    change(people["r3"], "suspended", "2025-06-10")
    change(people["r5"], "suspended", "2025-05-03")
    change(people["r5"], "valid", "2025-06-15", restored=True)

    clerk = make_user("clerk", town=wutong)
    # hrss: decided after 2, 5, 10 and 11 working days (accepted Tue 3 June), one in May
    task(people["r1"], hrss, "approved", filer=clerk, accepted="2025-06-03", decided="2025-06-05")
    task(people["r2"], hrss, "rejected", filer=clerk, accepted="2025-06-03", decided="2025-06-10")
    task(
        people["r4"],
        hrss,
        "partly_approved",
        filer=clerk,
        accepted="2025-06-03",
        decided="2025-06-17",
        extended="2025-06-10",
    )
    task(people["r5"], hrss, "approved", filer=clerk, accepted="2025-06-03", decided="2025-06-18")
    task(
        people["r6"],
        hrss,
        "approved",
        filer=clerk,
        created="2025-05-06",
        accepted="2025-05-07",
        decided="2025-05-20",
    )
    # police: refused without acceptance: filed Fri 30 May, refused Tue 3 June = 1 working day
    # (31 May – 2 June is the Dragon Boat holiday)
    task(people["r1"], police, "rejected", filer=clerk, created="2025-05-30", decided="2025-06-03")
    # open tasks
    task(people["r3"], hrss, "submitted", filer=clerk, created="2025-06-16")
    task(people["r3"], police, "accepted", filer=clerk, accepted="2025-05-20", due="2025-06-05")
    task(people["r4"], police, "accepted", filer=clerk, accepted="2025-06-16", due="2025-06-30")
    waiting = task(people["r6"], police, "materials_requested", filer=clerk, accepted="2025-06-03")
    MaterialsNotice.objects.create(
        task=waiting, items=["劳动合同"], issued_by=clerk, issued_at=at("2025-06-04")
    )

    def batch(department, received, accepted, rejected, report, status="applied"):
        return FeedBatch.objects.create(
            feed=department.code,
            department=department,
            file_name="f.csv",
            checksum=f"{next(_numbers):064d}",
            status=status,
            received_at=received,
            actor="feed",
            rows=accepted + rejected,
            accepted=accepted,
            rejected=rejected,
            report=report,
        )

    def rejected(code):
        return {"outcome": "rejected", "code": code, "reason": "x"}

    batch(hrss, at("2025-05-01"), 5, 1, [rejected("feeds.bad_date")])
    batch(police, at("2025-04-01"), 3, 0, [])
    FeedSchedule.objects.create(department=hrss, every_days=30)
    FeedSchedule.objects.create(department=police, every_days=30, grace_days=5)
    refresh_all(now=NOW)
    # after the refresh: read live (the delta)
    batch(
        hrss,
        at("2025-06-01"),
        8,
        2,
        [
            rejected("feeds.unknown_rule"),
            rejected("feeds.bad_date"),
            {"outcome": "accepted", "code": ""},
        ],
    )
    task(people["r2"], police, "approved", filer=clerk, accepted="2025-06-16", decided="2025-06-18")
    return {
        "people": people,
        "center": make_user("center"),
        "clerk": clerk,
        "hrss_reviewer": make_user("reviewer", department=hrss),
        "police_reviewer": make_user("reviewer", department=police),
    }


def test_percent_median_p90_rounding():
    assert f.percent(2, 3) == Decimal("66.7")
    assert f.percent(1, 8) == Decimal("12.5")  # 12.5 exactly
    assert f.percent(1, 6) == Decimal("16.7")
    assert f.percent(1, 0) is None
    assert f.median({2: 1, 5: 1, 10: 1, 11: 1}) == Decimal("7.5")
    assert f.median({3: 3}) == 3
    assert f.p90({1: 1, 2: 1, 5: 1, 10: 1, 11: 1}) == 11
    assert f.p90({v: 1 for v in range(1, 11)}) == 9
    assert f.median({}) is None and f.p90({}) is None


def test_population_by_town(population):
    figures = f.population_by_town(population["center"])
    assert figures.as_of == TODAY
    rows = {r.town_code: r for r in figures.rows}
    assert (rows["wutong"].valid, rows["wutong"].lapsed, rows["wutong"].cleared) == (2, 1, 0)
    assert rows["wutong"].lapsed_reasons == {"逾期未签注": 1}
    assert (rows["fengming"].valid, rows["fengming"].lapsed, rows["fengming"].cleared) == (1, 1, 1)
    assert rows["fengming"].lapsed_reasons == {"已离开桐乡": 1}
    assert figures.total.residents == 6 and figures.total.lapsed == 2


def test_permits_by_month(population):
    rows = f.permits_by_month(
        population["center"], first=dt.date(2025, 4, 1), last=dt.date(2025, 6, 30)
    )
    assert [(r.month, r.new_permits, r.lapses, r.restored) for r in rows] == [
        ("2025-04", 0, 0, 0),
        ("2025-05", 1, 1, 0),
        ("2025-06", 2, 1, 1),
    ]


def test_score_histogram_by_town_and_item(population):
    center = population["center"]
    histogram = f.score_histogram(center, bin_width=10)
    assert histogram.count == 3
    assert [(b.lower, b.count) for b in histogram.bins if b.count] == [(10, 1), (50, 1), (70, 1)]
    assert len(histogram.bins) == 8  # 0–80, empty bins included
    assert histogram.mean == Decimal("45.92")  # 137.75 / 3, half up
    assert histogram.median == 55  # whole points
    towns = {t.town_code: t for t in f.scores_by_town(center)}
    assert (towns["wutong"].residents, towns["wutong"].mean) == (2, Decimal("63.75"))
    assert (towns["wutong"].median, towns["wutong"].p90) == (Decimal("63.5"), 72)
    assert (towns["fengming"].residents, towns["fengming"].median) == (1, 10)
    items = {(i.section, i.item): i for i in f.scores_by_item(center)}
    assert items["provincial", "age"].residents == 3
    assert items["provincial", "age"].share_percent == Decimal("100.0")
    assert items["provincial", "age"].mean_points == Decimal("16.75")
    assert items["provincial", "education"].residents == 1  # the zero does not count
    assert items["provincial", "education"].share_percent == Decimal("33.3")
    assert items["city", "skills"].share_percent == Decimal("66.7")
    assert items["city", "skills"].mean_points == Decimal("28.75")


def test_score_movement_against_the_month_before(population):
    movement = f.score_movement(population["center"], month=dt.date(2025, 6, 1))
    assert movement.previous.as_of == dt.date(2025, 5, 20)
    assert movement.current.as_of == TODAY
    assert movement.count_change == 2
    assert movement.mean_change == Decimal("45.92") - Decimal("55.50")
    assert movement.median_change == 0
    changes = {b.lower: (b.previous, b.current, b.change) for b in movement.bins}
    assert changes[50] == (1, 1, 0) and changes[10] == (0, 1, 1) and changes[70] == (0, 1, 1)


def test_feeds(population):
    center = population["center"]
    rows = {r.department_code: r for r in f.feeds_by_department(center, now=NOW)}
    hrss, police = rows["hrss_bureau"], rows["public_security_bureau"]
    assert hrss.last_import_at == at("2025-06-01") and not hrss.late
    assert hrss.due_by == at("2025-07-01")
    assert (hrss.batches, hrss.accepted, hrss.rejected) == (2, 13, 3)
    assert police.late and police.due_by == at("2025-05-06")
    late = {r.department_code for r in f.late_feeds(center, now=NOW)}
    assert "public_security_bureau" in late and "hrss_bureau" not in late
    months = f.feed_rows_by_month(center, first=dt.date(2025, 5, 1), last=dt.date(2025, 6, 1))
    assert [(m.department_code, m.month, m.batches, m.accepted, m.rejected) for m in months] == [
        ("hrss_bureau", "2025-05", 1, 5, 1),
        ("hrss_bureau", "2025-06", 1, 8, 2),
    ]
    reasons = f.feed_rejection_reasons(center, since=dt.date(2025, 5, 1), until=dt.date(2025, 7, 1))
    assert [(r.department_code, r.reason, r.rows) for r in reasons] == [
        ("hrss_bureau", "feeds.bad_date", 2),  # one summarised, one live
        ("hrss_bureau", "feeds.unknown_rule", 1),
    ]


def test_review_backlog_by_department_and_town(population):
    backlog = f.review_backlog(population["center"], today=TODAY)
    departments = {r.code: r for r in backlog.by_department}
    assert (departments["hrss_bureau"].open, departments["hrss_bureau"].overdue) == (1, 0)
    police = departments["public_security_bureau"]
    assert (police.open, police.overdue) == (3, 1)
    assert police.by_state == {"submitted": 0, "accepted": 2, "materials_requested": 1}
    towns = {r.code: (r.open, r.overdue) for r in backlog.by_town}
    assert towns == {"wutong": (2, 1), "fengming": (2, 0)}
    assert (backlog.total.open, backlog.total.overdue) == (4, 1)


def test_review_times_in_working_days(population):
    times = f.review_times(
        population["center"], since=dt.date(2025, 6, 1), until=dt.date(2025, 7, 1)
    )
    rows = {r.code: r for r in times.rows}
    hrss = rows["hrss_bureau"]
    assert hrss.decided == 4  # the May decision is outside the period
    assert (hrss.median_workdays, hrss.p90_workdays) == (Decimal("7.5"), 11)
    assert (hrss.within_10, hrss.within_10_percent) == (3, Decimal("75.0"))
    assert (hrss.extensions, hrss.materials_notices) == (1, 0)
    police = rows["public_security_bureau"]
    # refused over the holiday (1 working day), decided live after the refresh (2)
    assert (police.decided, police.median_workdays, police.p90_workdays) == (2, Decimal("1.5"), 2)
    assert police.materials_notices == 1
    total = times.total
    assert total.decided == 6
    assert (total.median_workdays, total.p90_workdays) == (Decimal("3.5"), 11)  # 1 2 2 5 10 11
    assert (total.within_10, total.within_10_percent) == (5, Decimal("83.3"))


def test_reexaminations_and_scenarios_empty(population):
    figures = f.reexamination_figures(
        population["center"], since=dt.date(2025, 6, 1), until=dt.date(2025, 7, 1)
    )
    assert figures.rows == [] and figures.total.filed == 0
    assert figures.total.within_7_percent is None
    assert f.scenario_figures(population["center"]) == []


def test_scoping(population):
    from jifen.accounts.models import Role

    center, clerk = population["center"], population["clerk"]
    assert f.scope_for(center).everything
    # a reviewer: their department's review figures only
    reviewer = population["hrss_reviewer"]
    backlog = f.review_backlog(reviewer, today=TODAY)
    assert [r.code for r in backlog.by_department] == ["hrss_bureau"]
    assert backlog.total.open == 1
    times = f.review_times(reviewer, since=dt.date(2025, 6, 1), until=dt.date(2025, 7, 1))
    assert [r.code for r in times.rows] == ["hrss_bureau"] and times.total.decided == 4
    police = f.review_backlog(population["police_reviewer"], today=TODAY)
    assert police.total.open == 3
    for call in (
        lambda u: f.population_by_town(u),
        lambda u: f.score_histogram(u),
        lambda u: f.feeds_by_department(u, now=NOW),
        lambda u: f.scenario_figures(u),
    ):
        with pytest.raises(f.NotPermitted):
            call(reviewer)
    # a clerk: their town's population only
    population_figures = f.population_by_town(clerk)
    assert [r.town_code for r in population_figures.rows] == ["wutong"]
    assert population_figures.total.residents == 3
    months = f.permits_by_month(clerk, first=dt.date(2025, 5, 1), last=dt.date(2025, 6, 1))
    assert [(m.new_permits, m.lapses) for m in months] == [(1, 0), (2, 1)]
    with pytest.raises(f.NotPermitted):
        f.review_backlog(clerk, today=TODAY)
    with pytest.raises(f.NotPermitted):
        f.scores_by_town(clerk)
    # anybody else: nothing
    for role in (Role.AUDITOR, Role.SYSTEM_ADMIN):
        user = make_user(role)
        assert f.scope_for(user).sections == frozenset()
        with pytest.raises(f.NotPermitted):
            f.monthly_figures(user, month=TODAY)
    resident_user = make_user("resident", resident=population["people"]["r1"])
    with pytest.raises(f.NotPermitted):
        f.population_by_town(resident_user)
    assert set(f.monthly_figures(clerk, month=TODAY)) == {"month", "population"}
    assert set(f.monthly_figures(center, month=TODAY)) == {"month", *f.Section}


def test_refresh_is_incremental_and_the_job_is_periodic(population):
    from jifen.jobs.registry import periodic_kinds
    from jifen.oversight.models import ReviewSummary

    assert "oversight.refresh" in periodic_kinds()
    before = ReviewSummary.objects.count()
    result = refresh_all(now=NOW)
    assert result["reviews"] == 1  # only the task decided since
    assert ReviewSummary.objects.count() == before + 1
    assert refresh_all(now=NOW)["reviews"] == 0
