"""Benchmark: the oversight dashboard's figures (jifen.oversight.figures) on PostgreSQL with N
residents and M review tasks; target < 1 s for each figure and for the page.

Writes the residents, permits and facts with bench/recompute.py's fixture writer, then current
scores (synthetic totals, a small result with the items, lapsed where the permit lapsed; the
figures read the stored rows, not the engine), claims + review tasks in realistic states and
dates over the last year (open, accepted with deadlines some overdue, materials notices,
extensions, decided, refused, withdrawn) and a few feed batches, all with bulk_create. Then
refreshes the summary tables (``oversight.refresh``, timed) and times every figure function
(the first call and the best of three) and the dashboard page ``/workbench/oversight/`` when
the pages exist.

    .venv/bin/python bench/dashboard.py --n 50000 --recreate \
        --database-url postgres://postgres@127.0.0.1:5432/jifen_fig_bench
    .venv/bin/python bench/dashboard.py --reuse \
        --database-url postgres://postgres@127.0.0.1:5432/jifen_fig_bench
    .venv/bin/python bench/dashboard.py --n 1000000 --tasks 200000 --recreate --database-url ...
    # or on the 1,000,000-resident fixture of bench/recompute.py (its real scores), adding the
    # review tasks it lacks:
    .venv/bin/python bench/dashboard.py --reuse --tasks 200000 --on 2026-11-27 \
        --database-url postgres://postgres@127.0.0.1:5432/jifen_bench1m
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
import recompute  # bench/recompute.py: the fixture writer

CHINA = ZoneInfo("Asia/Shanghai")
CHUNK = 5000
TARGET_S = 1.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="residents (default 50,000)")
    parser.add_argument("--tasks", type=int, default=None, help="review tasks (default n/5)")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/jifen_fig_bench"
    )
    parser.add_argument("--recreate", action="store_true", help="drop and create the database")
    parser.add_argument("--reuse", action="store_true", help="reuse the fixture already there")
    parser.add_argument("--on", type=dt.date.fromisoformat, default=dt.date(2025, 6, 20))
    parser.add_argument("--seed", type=int, default=20250620)
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def write_scores(on: dt.date, seed: int) -> int:
    """One current score per resident (lapsed where the current permit lapsed)."""
    from jifen.residents.models import ResidencePermit
    from jifen.scores.models import Score

    rng = random.Random(seed + 3)
    now = dt.datetime.combine(on, dt.time(8), tzinfo=CHINA)
    written = 0
    batch: list[Score] = []
    rows = ResidencePermit.objects.order_by().values_list("resident_id", "status", "status_since")
    for resident_id, status, since in rows.iterator(chunk_size=CHUNK):
        age = Decimal(rng.choice((10, 15, 20, 20, 25)))
        education = Decimal(rng.choice((0, 0, 10, 20, 30, 40)))
        insurance = Decimal(rng.randint(0, 60))
        skills = Decimal(rng.choice((0, 0, 0, 5, 10, 20))) + Decimal(rng.randint(0, 3)) / 2
        total = age + education + insurance + skills
        lapsed = status in ("suspended", "cancelled")
        batch.append(
            Score(
                resident_id=resident_id,
                evaluation_date=on,
                review_date=on,
                computed_at=now,
                status="lapsed" if lapsed else "valid",
                lapse_reason=("逾期未签注" if status == "suspended" else "已离开桐乡")
                if lapsed
                else "",
                lapsed_since=since if lapsed else None,
                total=total,
                provincial_total=age + education + insurance,
                city_bonus_total=skills,
                deductions_total=Decimal(0),
                result={
                    "provincial": {
                        "items": {
                            "age": f"{age:.2f}",
                            "education": f"{education:.2f}",
                            "social_insurance": f"{insurance:.2f}",
                        }
                    },
                    "city": {"items": {"skills": f"{skills:.2f}"}},
                },
                provincial_policy="bench",
                provincial_hash="0" * 64,
                city_policy="bench",
                city_hash="0" * 64,
                reference_values=True,
                is_current=True,
            )
        )
        if len(batch) >= CHUNK:
            Score.objects.bulk_create(batch, batch_size=CHUNK)
            written += len(batch)
            batch = []
            print(f"  scores: {written:,}", file=sys.stderr)
    Score.objects.bulk_create(batch, batch_size=CHUNK)
    return written + len(batch)


def write_reviews(tasks: int, on: dt.date, seed: int) -> dict[str, int]:
    """``tasks`` claims with one review task each, in realistic states over the last year."""
    from jifen.accounts.models import User
    from jifen.calendars.services import current_calendar
    from jifen.claims.models import Claim, MaterialsNotice, ReviewTask
    from jifen.org.models import Department, Town
    from jifen.residents.models import Resident

    rng = random.Random(seed + 4)
    calendar, version = current_calendar()
    departments = list(Department.objects.all())
    town = Town.objects.order_by("code").first()
    clerk, _ = User.objects.get_or_create(
        username="bench-clerk", defaults={"role": "clerk", "town": town}
    )
    resident_ids = list(
        Resident.objects.order_by("?").values_list("id", flat=True)[: min(tasks, 500_000)]
    )
    counts: dict[str, int] = {}
    done = 0
    while done < tasks:
        size = min(CHUNK, tasks - done)
        claims, rows, notices = [], [], []
        for i in range(done, done + size):
            created_day = on - dt.timedelta(days=rng.randint(0, 365))
            created = dt.datetime.combine(created_day, dt.time(rng.randint(8, 17)), tzinfo=CHINA)
            draw = rng.random()
            age = (on - created_day).days
            if age < 30 and draw < 0.5:
                state = rng.choice(("submitted", "accepted", "accepted", "materials_requested"))
            elif draw < 0.04:
                state = "accepted"  # old and still open: overdue
            elif draw < 0.08:
                state = "withdrawn"
            else:
                state = rng.choice(("approved", "approved", "partly_approved", "rejected"))
            accepted = due = decided = withdrawn = None
            extended = False
            if state != "submitted":
                accepted = created + dt.timedelta(days=rng.randint(0, 3))
                due = calendar.add_workdays(accepted.date(), 10)
            if state in ("approved", "partly_approved", "rejected"):
                extended = rng.random() < 0.08
                decided = accepted + dt.timedelta(days=rng.randint(1, 20 if extended else 16))
                if decided.date() > on:
                    decided = dt.datetime.combine(on, dt.time(12), tzinfo=CHINA)
            if state == "withdrawn":
                withdrawn = created + dt.timedelta(days=rng.randint(1, 10))
            claim = Claim(
                resident_id=resident_ids[i % len(resident_ids)],
                kind="claim",
                status="decided" if decided else ("withdrawn" if withdrawn else "submitted"),
                number=f"SQB{i:09d}",
                filed_by=clerk,
                created_at=created,
                updated_at=created,
                submitted_at=created,
                closed_at=decided or withdrawn,
            )
            claims.append(claim)
            rows.append(
                ReviewTask(
                    claim=claim,
                    department=departments[i % len(departments)],
                    state=state,
                    created_at=created,
                    accepted_at=accepted,
                    due_on=due,
                    calendar_version=version if due else None,
                    extended=extended,
                    extended_at=accepted + dt.timedelta(days=5) if extended else None,
                    decided_at=decided,
                    withdrawn_at=withdrawn,
                )
            )
            counts[state] = counts.get(state, 0) + 1
        Claim.objects.bulk_create(claims, batch_size=2000)
        for row in rows:
            row.claim_id = row.claim.pk
        ReviewTask.objects.bulk_create(rows, batch_size=2000)
        for row in rows:
            if row.state == "materials_requested" or (row.accepted_at and rng.random() < 0.1):
                notices.append(
                    MaterialsNotice(
                        task_id=row.pk,
                        items=["劳动合同"],
                        issued_by=clerk,
                        issued_at=row.accepted_at or row.created_at,
                    )
                )
        MaterialsNotice.objects.bulk_create(notices, batch_size=2000)
        counts["materials_notices"] = counts.get("materials_notices", 0) + len(notices)
        done += size
        print(f"  review tasks: {done:,}", file=sys.stderr)
    return counts


def write_batches(on: dt.date, seed: int) -> int:
    from jifen.feeds.models import FeedBatch
    from jifen.org.models import Department

    rng = random.Random(seed + 5)
    rows = []
    for d, department in enumerate(Department.objects.order_by("code")):
        for week in range(0, 52, 2):
            received = dt.datetime.combine(
                on - dt.timedelta(days=7 * week + d), dt.time(2), tzinfo=CHINA
            )
            rejected = rng.randint(0, 20)
            report = [
                {"row": r, "outcome": "rejected", "code": rng.choice(("bad_date", "unknown"))}
                for r in range(rejected)
            ]
            rows.append(
                FeedBatch(
                    feed=department.code,
                    department=department,
                    file_name="bench.csv",
                    checksum=f"{d:04d}{week:060d}",
                    status="applied",
                    received_at=received,
                    actor="bench",
                    rows=1000 + rejected,
                    accepted=1000,
                    rejected=rejected,
                    report=report,
                )
            )
    FeedBatch.objects.bulk_create(rows)
    return len(rows)


def timed(call: Any) -> tuple[float, float]:
    """Seconds of the first call and the best of three."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        call()
        runs.append(time.perf_counter() - started)
    return runs[0], min(runs)


def measure(on: dt.date) -> dict[str, tuple[float, float]]:
    from jifen.accounts.models import User
    from jifen.oversight import figures as f

    center, _ = User.objects.get_or_create(username="bench-center", defaults={"role": "center"})
    reviewer, _ = User.objects.get_or_create(
        username="bench-reviewer",
        defaults={"role": "reviewer", "department_id": _first_department()},
    )
    now = dt.datetime.combine(on, dt.time(18), tzinfo=CHINA)
    month = on.replace(day=1)
    year_ago = (month - dt.timedelta(days=335)).replace(day=1)
    since, until = month, f.next_month(month)
    calls = {
        "population_by_town": lambda: f.population_by_town(center),
        "permits_by_month (12 months)": lambda: f.permits_by_month(
            center, first=year_ago, last=month
        ),
        "score_histogram": lambda: f.score_histogram(center),
        "scores_by_item": lambda: f.scores_by_item(center),
        "scores_by_town": lambda: f.scores_by_town(center),
        "score_movement": lambda: f.score_movement(center, month=month),
        "feeds_by_department": lambda: f.feeds_by_department(center, now=now),
        "late_feeds": lambda: f.late_feeds(center, now=now),
        "feed_rows_by_month (12 months)": lambda: f.feed_rows_by_month(
            center, first=year_ago, last=month
        ),
        "feed_rejection_reasons (month)": lambda: f.feed_rejection_reasons(
            center, since=since, until=until
        ),
        "review_backlog": lambda: f.review_backlog(center, today=on),
        "review_backlog (reviewer)": lambda: f.review_backlog(reviewer, today=on),
        "review_times (month)": lambda: f.review_times(center, since=since, until=until),
        "review_times (12 months)": lambda: f.review_times(center, since=year_ago, until=until),
        "reexamination_figures (month)": lambda: f.reexamination_figures(
            center, since=since, until=until
        ),
        "scenario_figures": lambda: f.scenario_figures(center),
        "monthly_figures (everything)": lambda: f.monthly_figures(center, month=month),
    }
    return {name: timed(call) for name, call in calls.items()}


def _first_department() -> int:
    from jifen.org.models import Department

    return Department.objects.order_by("code").values_list("pk", flat=True)[0]


def measure_page() -> tuple[float, float] | str:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from jifen.accounts.models import User

    try:
        url = reverse("web:oversight")
    except NoReverseMatch:
        url = "/workbench/oversight/"
    client = Client()
    client.force_login(User.objects.get(username="bench-center"))
    response = client.get(url, secure=True)
    if response.status_code != 200:
        return f"{url}: HTTP {response.status_code} (page not available)"
    return timed(lambda: client.get(url, secure=True))


def main() -> int:
    args = parse_args()
    os.environ.setdefault("JIFEN_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    _url, _scratch = recompute.configure_database(args.database_url, args.recreate, args.reuse)
    from django.db import connection

    from jifen.residents.models import Resident

    result: dict[str, Any] = {"database": connection.vendor}
    if not args.reuse:
        tasks = args.tasks if args.tasks is not None else args.n // 5
        started = time.perf_counter()
        print(f"fixture: {args.n:,} residents ...", file=sys.stderr)
        fixture = recompute.write_fixture(args.n, args.on, args.seed)
        fixture.pop("_identities", None)
        result["scores"] = write_scores(args.on, args.seed)
        result["reviews"] = write_reviews(tasks, args.on, args.seed)
        result["feed_batches"] = write_batches(args.on, args.seed)
        result["fixture_s"] = round(time.perf_counter() - started, 1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:  # time a full refresh: empty the summary tables first
        from jifen.claims.models import ReviewTask
        from jifen.oversight import models as summary

        # A reused fixture of bench/recompute.py (real scores) gets its review tasks here.
        missing = (args.tasks or 0) - ReviewTask.objects.count()
        if missing > 0:
            print(f"fixture: {missing:,} review tasks ...", file=sys.stderr)
            result["reviews"] = write_reviews(missing, args.on, args.seed)
            if not summary.FeedReasonSummary.objects.exists():
                result["feed_batches"] = write_batches(args.on, args.seed)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        for model in (
            summary.DailyScoreSummary,
            summary.DailyItemSummary,
            summary.PermitMonthSummary,
            summary.ReviewSummary,
            summary.FeedReasonSummary,
        ):
            model.objects.all().delete()
    from jifen.claims.models import ReviewTask
    from jifen.oversight.summaries import refresh_all

    result["residents"] = Resident.objects.count()
    result["review_tasks"] = ReviewTask.objects.count()
    now = dt.datetime.combine(args.on, dt.time(18), tzinfo=CHINA)
    started = time.perf_counter()
    result["refresh"] = refresh_all(now=now)
    result["refresh_s"] = round(time.perf_counter() - started, 2)
    timings = measure(args.on)
    page = measure_page()
    print(
        f"dashboard bench: {result['residents']:,} residents, {result['review_tasks']:,} review "
        f"tasks ({result['database']}); summaries refreshed in {result['refresh_s']} s "
        f"{result['refresh']}"
    )
    print(f"{'figure':40} {'first s':>8} {'best s':>8}  target < {TARGET_S} s")
    worst = 0.0
    for name, (first, best) in timings.items():
        worst = max(worst, first)
        print(f"{name:40} {first:8.3f} {best:8.3f}  {'ok' if first < TARGET_S else 'SLOW'}")
    if isinstance(page, str):
        print(f"{'page /workbench/oversight/':40} {page}")
    else:
        worst = max(worst, page[0])
        print(f"{'page /workbench/oversight/':40} {page[0]:8.3f} {page[1]:8.3f}")
    print(f"slowest first call: {worst:.3f} s — target {'met' if worst < TARGET_S else 'NOT met'}")
    if args.json:
        result["timings"] = timings
        result["page"] = page
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
