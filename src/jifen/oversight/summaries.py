"""The summary tables behind :mod:`jifen.oversight.figures`, refreshed by the periodic job
``oversight.refresh`` (hourly, :mod:`jifen.oversight.handlers`) or ``refresh_all(now=...)``.

- ``scores``: today's :class:`DailyScoreSummary` and :class:`DailyItemSummary` rows are
  replaced by a snapshot of the current scores (one aggregate query each); earlier days stay,
  so the last refresh of each day is that day's snapshot (month-over-month movement).
- ``permits``: :class:`PermitMonthSummary` rebuilt in full (one aggregate per table).
- ``reviews``: a :class:`ReviewSummary` row for each closed task that has none (incremental;
  a closed task never changes again).
- ``feeds``: :class:`FeedReasonSummary` rows for each batch with rejected rows not yet
  summarised (incremental).
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import Floor, TruncMonth

from jifen.oversight.figures import CHINA, china_date, decision_workdays, report_reasons
from jifen.oversight.models import (
    DailyItemSummary,
    DailyScoreSummary,
    FeedReasonSummary,
    PermitMonthSummary,
    ReviewSummary,
    SummaryRefresh,
)

#: Review states after which a task never changes.
CLOSED_STATES = ("approved", "partly_approved", "rejected", "withdrawn")
CHUNK = 5000


def _done(name: str, now: dt.datetime, started: float, rows: int) -> int:
    SummaryRefresh.objects.update_or_create(
        name=name,
        defaults={
            "refreshed_at": now,
            "took_ms": round((time.perf_counter() - started) * 1000),
            "rows": rows,
        },
    )
    return rows


def refresh_scores(*, now: dt.datetime) -> int:
    """Replace today's (China date of ``now``) score and item snapshot rows."""
    from jifen.scores.models import Score

    started = time.perf_counter()
    day = china_date(now)
    rows = [
        DailyScoreSummary(
            day=day,
            town_id=row["resident__town_id"],
            status=row["status"],
            lapse_reason=row["lapse_reason"] if row["status"] != "valid" else "",
            points=int(row["points"]),
            residents=row["n"],
            total_hundredths=int((row["total"] or Decimal(0)) * 100),
        )
        for row in Score.objects.filter(is_current=True)
        .order_by()
        .values("resident__town_id", "status", "lapse_reason")
        .annotate(points=Floor("total"))
        .values("resident__town_id", "status", "lapse_reason", "points")
        .annotate(n=Count("pk"), total=Sum("total"))
    ]
    # A valid score's reason is blank anyway; merge rows that the blanking made equal.
    merged: dict[tuple, DailyScoreSummary] = {}
    for row in rows:
        key = (row.town_id, row.status, row.lapse_reason, row.points)
        if key in merged:
            merged[key].residents += row.residents
            merged[key].total_hundredths += row.total_hundredths
        else:
            merged[key] = row
    items = [
        DailyItemSummary(
            day=day, town_id=town, section=section, item=item, residents=n, points_hundredths=h
        )
        for town, section, item, n, h in _item_rows()
    ]
    with transaction.atomic():
        DailyScoreSummary.objects.filter(day=day).delete()
        DailyScoreSummary.objects.bulk_create(merged.values(), batch_size=2000)
        DailyItemSummary.objects.filter(day=day).delete()
        DailyItemSummary.objects.bulk_create(items, batch_size=2000)
    return _done("scores", now, started, len(merged) + len(items))


def _item_rows() -> list[tuple[int, str, str, int, int]]:
    """(town, section, item, residents with points > 0, sum of points in hundredths) over the
    valid current scores, read inside the stored result (``provincial.items``, ``city.items``)."""
    result: list[tuple[int, str, str, int, int]] = []
    with connection.cursor() as cursor:
        for section in ("provincial", "city"):
            if connection.vendor == "postgresql":
                sql = """
                    SELECT r.town_id, e.key, count(*),
                           sum(round(e.value::numeric * 100))::bigint
                    FROM scores_score s
                    JOIN residents_resident r ON r.id = s.resident_id
                    CROSS JOIN LATERAL json_each_text(s.result::json -> %s -> 'items') e
                    WHERE s.is_current AND s.status = 'valid' AND e.value::numeric > 0
                    GROUP BY r.town_id, e.key
                """
            else:
                sql = """
                    SELECT r.town_id, e.key, count(*),
                           sum(CAST(round(CAST(e.value AS REAL) * 100) AS INTEGER))
                    FROM scores_score s
                    JOIN residents_resident r ON r.id = s.resident_id,
                         json_each(s.result, %s) e
                    WHERE s.is_current AND s.status = 'valid' AND CAST(e.value AS REAL) > 0
                    GROUP BY r.town_id, e.key
                """
            param = section if connection.vendor == "postgresql" else f"$.{section}.items"
            cursor.execute(sql, [param])
            result += [(town, section, item, n, h) for town, item, n, h in cursor.fetchall()]
    return result


def refresh_permits(*, now: dt.datetime) -> int:
    """Rebuild the permits per month and issuing town."""
    from jifen.residents.models import PermitStatus, PermitStatusChange, ResidencePermit

    started = time.perf_counter()
    rows: dict[tuple[dt.date, int], dict[str, Any]] = {}

    def add(month: Any, town: int, key: str, n: int) -> None:
        month = month.date() if isinstance(month, dt.datetime) else month
        rows.setdefault((month, town), {"new_permits": 0, "lapses": 0, "restored": 0})[key] += n

    for row in (
        ResidencePermit.objects.order_by()
        .annotate(month=TruncMonth("issued_on"))
        .values("month", "issuing_town_id")
        .annotate(n=Count("pk"))
    ):
        add(row["month"], row["issuing_town_id"], "new_permits", row["n"])
    changes = PermitStatusChange.objects.order_by().annotate(month=TruncMonth("effective_on"))
    for row in (
        changes.filter(status__in=PermitStatus.lapsing())
        .values("month", "permit__issuing_town_id")
        .annotate(n=Count("pk"))
    ):
        add(row["month"], row["permit__issuing_town_id"], "lapses", row["n"])
    for row in (
        changes.filter(restored=True)
        .values("month", "permit__issuing_town_id")
        .annotate(n=Count("pk"))
    ):
        add(row["month"], row["permit__issuing_town_id"], "restored", row["n"])
    with transaction.atomic():
        PermitMonthSummary.objects.all().delete()
        PermitMonthSummary.objects.bulk_create(
            [PermitMonthSummary(month=m, town_id=t, **c) for (m, t), c in rows.items()],
            batch_size=2000,
        )
    return _done("permits", now, started, len(rows))


def refresh_reviews(*, now: dt.datetime) -> int:
    """Summarise the closed tasks that have no summary row yet."""
    from jifen.claims.models import ReviewTask

    started = time.perf_counter()
    written = 0
    pending = (
        ReviewTask.objects.filter(state__in=CLOSED_STATES)
        .exclude(pk__in=ReviewSummary.objects.values("task_id"))
        .order_by("pk")
    )
    fields = (
        "pk",
        "department_id",
        "claim__resident__town_id",
        "state",
        "created_at",
        "accepted_at",
        "decided_at",
        "withdrawn_at",
        "claim__closed_at",
    )
    from jifen.calendars.services import current_calendar

    calendar, _version = current_calendar()
    last = 0
    while True:
        chunk = list(pending.filter(pk__gt=last).values_list(*fields)[:CHUNK])
        if not chunk:
            break
        rows = []
        for pk, dept, town, state, created, accepted, decided, withdrawn, closed in chunk:
            last = pk
            if state == "withdrawn":
                moment = withdrawn or closed or now
                days = None
            else:
                moment = decided or closed or now
                days = decision_workdays(
                    created_at=created, accepted_at=accepted, decided_at=moment, calendar=calendar
                )
            rows.append(
                ReviewSummary(
                    task_id=pk,
                    department_id=dept,
                    town_id=town,
                    state=state,
                    closed_on=moment.astimezone(CHINA).date(),
                    workdays=days,
                )
            )
        ReviewSummary.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        written += len(rows)
    return _done("reviews", now, started, written)


def refresh_feeds(*, now: dt.datetime) -> int:
    """Count the rejection reasons of batches not summarised yet."""
    from jifen.feeds.models import FeedBatch

    started = time.perf_counter()
    rows = []
    for pk, report in (
        FeedBatch.objects.filter(rejected__gt=0)
        .exclude(pk__in=FeedReasonSummary.objects.values("batch_id"))
        .values_list("pk", "report")
        .iterator(chunk_size=20)
    ):
        rows += [
            FeedReasonSummary(batch_id=pk, reason=reason, rows=n)
            for reason, n in report_reasons(report).items()
        ]
    FeedReasonSummary.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return _done("feeds", now, started, len(rows))


def refresh_all(*, now: dt.datetime) -> dict[str, Any]:
    """Refresh every summary; returns the rows written and the milliseconds per summary."""
    result: dict[str, Any] = {}
    for name, refresh in (
        ("scores", refresh_scores),
        ("permits", refresh_permits),
        ("reviews", refresh_reviews),
        ("feeds", refresh_feeds),
    ):
        started = time.perf_counter()
        result[name] = refresh(now=now)
        result[f"{name}_ms"] = round((time.perf_counter() - started) * 1000)
    return result
