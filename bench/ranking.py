"""Benchmark: freeze a ranking of N enrollments, then the masked public list, Excel and PDF.

Writes a scenario (through the scenarios services: 25 schools, up to 3 preferences, tie-breaks
provincial total → city bonus → social insurance item → time of application) and N eligible
enrollments with their stored scores (synthetic residents with encrypted identity and phone
numbers; many equal points so the tie-breaks work) straight into a scratch database with
bulk_create, as bench/recompute.py does. Then measures, each on its own:

- freeze: ``freeze_ranking`` (read the rankable enrollments, order, allocate, hash, store the
  snapshot and N entries, audit);
- re-run: ``rerun(ranking)`` (the hash again from the stored inputs; must match);
- publish: ``publish`` (5 working days, re-examination windows);
- masked list: ``public_list(publication)`` (all N rows through ``public_rows``/``mask_name``);
- Excel: ``write_excel`` of that list; PDF: ``write_pdf`` of that list.

Target (issue 5, this 2-core machine): freeze + masked list + Excel + PDF under 30 s for
100,000 enrollments.

    .venv/bin/python bench/ranking.py                          # 100,000, SQLite scratch file
    .venv/bin/python bench/ranking.py --n 20000
    .venv/bin/python bench/ranking.py --recreate \\
        --database-url postgres://postgres@127.0.0.1:5432/jifen_rank_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
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

from recompute import configure_database, peak_rss_mb

CHINA = ZoneInfo("Asia/Shanghai")
CHUNK = 5000
OPEN_FROM = dt.datetime(2026, 6, 1, 9, 0, tzinfo=CHINA)
OPEN_UNTIL = dt.datetime(2026, 6, 15, 17, 0, tzinfo=CHINA)
DEFINED = dt.datetime(2026, 5, 20, 9, 0, tzinfo=CHINA)
FROZEN = dt.datetime(2026, 6, 17, 10, 0, tzinfo=CHINA)
STARTS = dt.date(2026, 6, 22)  # Monday after the Dragon Boat Festival
ENDS = dt.date(2026, 6, 26)
SCHOOLS = 25
PLACES = 160
TRICKY = ("李一", "欧阳娜娜", "阿卜杜·热合曼", "司马相如", "王")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="enrollments (default 100,000)")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument(
        "--recreate", action="store_true", help="drop and create the PostgreSQL database first"
    )
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--keep", default=None, help="write the Excel and PDF files here")
    return parser.parse_args()


def content() -> dict[str, Any]:
    return {
        "rules_text": "桐乡市义务教育阶段新市民子女积分入学实施细则（基准测试）",
        "rules_url": "",
        "open_from": OPEN_FROM.isoformat(),
        "open_until": OPEN_UNTIL.isoformat(),
        "eligibility": {"min_total": "0"},
        "score_basis": {"kind": "total"},
        "tie_breaks": [
            "provincial_total",
            "city_bonus_total",
            "item:provincial.social_insurance",
            "applied_at",
        ],
        "quotas": [
            {"key": f"school:{i:02d}", "label": f"桐乡第{i}小学", "places": PLACES, "town": None}
            for i in range(1, SCHOOLS + 1)
        ],
        "preferences": {"max": 3},
    }


def write_fixture(n: int, seed: int) -> dict[str, Any]:
    from django.db import transaction

    from jifen.accounts.models import Role, User
    from jifen.org.models import Department, Town
    from jifen.residents.models import Resident
    from jifen.residents.pii import identity_index, phone_index
    from jifen.scenarios.models import Enrollment, EnrollmentStatus
    from jifen.scenarios.services import define_scenario
    from jifen.scores.models import Score
    from jifen.synthetic.identity import generate_identity_number, generate_name, generate_phone

    rng = random.Random(seed)
    center = User.objects.create_user(
        username="bench-center", password="Bench-Center-2026!", role=Role.CENTER
    )
    version = define_scenario(
        code="bench-school",
        name="义务教育积分入学（基准测试）",
        department=Department.objects.get(code="education_bureau"),
        content=content(),
        user=center,
        now=DEFINED,
        publish=True,
    )
    towns = list(Town.objects.all())
    keys = [q["key"] for q in version.content["quotas"]]
    weights = [1 / (i + 1) for i in range(len(keys))]  # popular schools first
    seen: set[str] = set()
    started = time.perf_counter()
    for start in range(0, n, CHUNK):
        residents, scores, enrollments = [], [], []
        for i in range(start, min(start + CHUNK, n)):
            sex = rng.choice(("male", "female"))
            born = dt.date(1975, 1, 1) + dt.timedelta(days=rng.randrange(20 * 365))
            number = generate_identity_number(rng, born, sex=sex)
            while number in seen:
                number = generate_identity_number(rng, born, sex=sex)
            seen.add(number)
            phone = generate_phone(rng)
            name = TRICKY[i % len(TRICKY)] if i % 97 == 0 else generate_name(rng, sex)
            resident = Resident(
                identity_number_index=identity_index(number),
                name=name,
                birth_date=born,
                sex=sex,
                phone_index=phone_index(phone),
                town=rng.choice(towns),
                created_at=DEFINED,
            )
            resident.identity_number_token = resident._encrypt(number, "identity_number")
            resident.phone_token = resident._encrypt(phone, "phone")
            residents.append(resident)
            # Quarter points, a narrow band: many equal totals for the tie-breaks.
            provincial = Decimal(rng.randint(120, 320)) / 4
            city = Decimal(rng.randint(0, 120)) / 4
            insurance = Decimal(rng.randint(0, 10))
            deductions = Decimal(rng.choice((0, 0, 0, 0, 1, 2, 5)))
            total = max(provincial + city - deductions, Decimal(0))
            items = {
                "age": f"{min(provincial, Decimal(20)):.2f}",
                "social_insurance": f"{insurance:.2f}",
                "education": f"{max(provincial - 20 - insurance, Decimal(0)):.2f}",
            }
            score = Score(
                resident=resident,
                evaluation_date=version.evaluation_date,
                review_date=version.review_date,
                computed_at=FROZEN,
                status="valid",
                total=total,
                provincial_total=provincial,
                city_bonus_total=city,
                deductions_total=deductions,
                result={
                    "provincial": {"total": f"{provincial:.2f}", "items": items},
                    "city": {"bonus_total": f"{city:.2f}", "items": {"residence": f"{city:.2f}"}},
                    "deductions": {"total": f"{deductions:.2f}", "acts": []},
                    "total": f"{total:.2f}",
                },
                provincial_policy="zhejiang-2023-07-26",
                provincial_hash="0" * 64,
                city_policy="tongxiang-2025-02-01",
                city_hash="0" * 64,
                reference_values=True,
                is_current=False,
            )
            scores.append(score)
            applied = OPEN_FROM + dt.timedelta(seconds=rng.randrange(14 * 86400))
            prefs = []
            for _ in range(rng.randint(1, 3)):
                key = rng.choices(keys, weights)[0]
                if key not in prefs:
                    prefs.append(key)
            enrollments.append(
                Enrollment(
                    number=f"YY2026{i + 1:06d}",
                    scenario=version.scenario,
                    version=version,
                    resident=resident,
                    submitted_by=center,
                    applied_at=applied,
                    status=EnrollmentStatus.ELIGIBLE,
                    score=score,
                    points=total,
                    breakdown={
                        **{f"provincial.{k}": v for k, v in items.items()},
                        "city.residence": f"{city:.2f}",
                        "deductions": f"{-deductions:.2f}",
                    },
                    tie_values={
                        "provincial_total": f"{provincial:.2f}",
                        "city_bonus_total": f"{city:.2f}",
                        "item:provincial.social_insurance": f"{insurance:.2f}",
                        "applied_at": applied.isoformat(),
                    },
                    preferences=prefs,
                    evaluated_at=FROZEN,
                    updated_at=FROZEN,
                )
            )
        with transaction.atomic():
            Resident.objects.bulk_create(residents, batch_size=1000)
            Score.objects.bulk_create(scores, batch_size=1000)
            Enrollment.objects.bulk_create(enrollments, batch_size=1000)
        print(f"  fixture: {start + len(enrollments):,} enrollments", file=sys.stderr)
    return {
        "enrollments": n,
        "fixture_s": round(time.perf_counter() - started, 1),
        "_version": version,
        "_center": center,
    }


def timed(figures: dict[str, Any], name: str, function, *args, **kwargs):
    """Wall time (``<name>_s``) and this process's CPU time (``<name>_cpu_s``): on a shared
    machine the CPU time says what the step costs, the wall time what it took."""
    started, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    figures[f"{name}_s"] = round(time.perf_counter() - started, 2)
    figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 2)
    print(
        f"{name:>12}: {figures[f'{name}_s']:7.2f} s wall, {figures[f'{name}_cpu_s']:7.2f} s cpu",
        file=sys.stderr,
    )
    return value


def main() -> None:
    args = parse_args()
    url, scratch = configure_database(args.database_url, args.recreate)
    from jifen.rankings.exports import public_list, write_excel, write_pdf
    from jifen.rankings.services import freeze_ranking, publish, rerun

    fixture = write_fixture(args.n, args.seed)
    version, center = fixture.pop("_version"), fixture.pop("_center")
    figures: dict[str, Any] = {"database": url.split("://")[0], **fixture}

    ranking = timed(figures, "freeze", freeze_ranking, version=version, user=center, now=FROZEN)
    again = timed(figures, "rerun", rerun, ranking)
    if again != ranking.content_hash:
        raise SystemExit("re-running the stored inputs gave another hash")
    publication = timed(
        figures,
        "publish",
        publish,
        ranking=ranking,
        starts_on=STARTS,
        ends_on=ENDS,
        user=center,
        now=FROZEN,
    )
    listing = timed(figures, "masked_list", public_list, publication)
    excel, pdf = io.BytesIO(), io.BytesIO()
    timed(figures, "excel", write_excel, listing, excel)
    timed(figures, "pdf", write_pdf, listing, pdf)

    steps = ("freeze", "masked_list", "excel", "pdf")
    total = sum(figures[f"{k}_s"] for k in steps)
    total_cpu = sum(figures[f"{k}_cpu_s"] for k in steps)
    figures.update(
        {
            "entries": ranking.entry_count,
            "admitted": ranking.admitted_count,
            "cutoff_points": str(ranking.cutoff_points),
            "content_hash": ranking.content_hash[:16],
            "excel_mb": round(len(excel.getvalue()) / 2**20, 1),
            "pdf_mb": round(len(pdf.getvalue()) / 2**20, 1),
            "freeze_list_excel_pdf_s": round(total, 2),
            "freeze_list_excel_pdf_cpu_s": round(total_cpu, 2),
            "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "target_s": 30,
            "peak_rss_mb": round(peak_rss_mb()),
        }
    )
    if args.keep:
        out = Path(args.keep)
        out.mkdir(parents=True, exist_ok=True)
        (out / "ranking.xlsx").write_bytes(excel.getvalue())
        (out / "ranking.pdf").write_bytes(pdf.getvalue())
    for key, value in figures.items():
        print(f"{key}: {value}")
    if args.json:
        print(json.dumps(figures))
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
