"""Benchmark: feed import, the bulk engine, and the end-to-end recompute of stored scores.

Generates N synthetic residents (valid identity numbers, encrypted like real ones, a residence
permit each with a few suspended or cancelled, and facts from jifen.synthetic.profiles) in a
database of its own, then measures:

- feed import rows/second: an ``hrss`` CSV file through ``jifen.feeds.importer.import_batch``;
- engine bulk residents/second: ``jifen.scores.bulk.evaluate_bulk`` on a population in
  memory (best of three; checked against the single engine on a sample first);
- end-to-end recompute residents/second: ``jifen scores recompute --all`` in a child process
  (facts in the database → stored scores with their explanation; on PostgreSQL split over
  one process per CPU), with DEBUG off as in production, and the peak memory (maximum
  resident set size) of the largest recompute process.

Targets (issue 3, this 2-core machine): engine bulk ≥ 500,000 residents/second; end-to-end
recompute of 1,000,000 residents on PostgreSQL in ≤ 10 minutes with peak memory ≤ 2 GB.

    .venv/bin/python bench/recompute.py                       # 20,000 residents, SQLite file
    .venv/bin/python bench/recompute.py --recreate \
        --database-url postgres://postgres@127.0.0.1:5432/jifen_bench
    .venv/bin/python bench/recompute.py --engine-only --n 1000000   # the bulk engine alone

The 1,000,000 case end to end (writes about 11 million fact rows first; allow 20-30 minutes
for the fixture, and ~15 GB of disk on PostgreSQL):

    .venv/bin/python bench/recompute.py --n 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/jifen_bench --recreate

The fixture is written with bulk_create straight into the tables (a bench fixture, not the
platform's way of registering residents: no audit entries, no feeds). SQLite runs use a new
file in a temporary directory; a PostgreSQL database must be empty, or be given with
``--recreate`` (it is dropped and created again: never point this at real data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent
CHUNK = 5000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="residents (default 20,000)")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument(
        "--recreate", action="store_true", help="drop and create the PostgreSQL database first"
    )
    parser.add_argument(
        "--on",
        type=dt.date.fromisoformat,
        default=None,
        help="evaluation date of the engine figure and date the synthetic facts are generated "
        "around (default: today in China, the date the recompute command uses)",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="recompute batch size")
    parser.add_argument(
        "--import-rows",
        type=int,
        default=None,
        help="rows in the feed file (default: min(n, 20,000))",
    )
    parser.add_argument(
        "--engine-only", action="store_true", help="only the bulk engine, no database"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="recompute processes (default: one per CPU on PostgreSQL, 1 on SQLite)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the fixture already in --database-url (no fixture, no feed import): drop "
        "its stored scores and jobs and measure a first recompute again",
    )
    parser.add_argument("--seed", type=int, default=20250602)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    return parser.parse_args()


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


# --- the bulk engine ------------------------------------------------------------------------


def bench_engine(n: int, on: dt.date, seed: int) -> dict[str, Any]:
    from jifen.engine import evaluate, load_policies
    from jifen.scores.bulk import PopulationBuilder, engine_summary, evaluate_bulk
    from jifen.synthetic.profiles import generate_profile

    policies = load_policies(ROOT / "policies")
    selection = policies.select(on)
    review = on + dt.timedelta(days=19)
    rng = random.Random(seed)
    builder = PopulationBuilder()
    sample: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i in range(n):
        profile = generate_profile(rng, on)
        builder.add(profile)
        if i < 2000:
            sample.append(profile)
    population = builder.build()
    built = time.perf_counter() - started
    facts = int(population.city_resident.size + population.deduction_resident.size)

    check = evaluate_bulk(population, on, review, selection)
    for row, profile in enumerate(sample):
        single = engine_summary(evaluate(profile, on, review, selection).as_dict())
        if check.summary(row) != single:
            raise SystemExit(f"bulk and single engine differ for resident {row}")

    timings = []
    for _ in range(3):
        start = time.perf_counter()
        evaluate_bulk(population, on, review, selection)
        timings.append(time.perf_counter() - start)
    best = min(timings)
    return {
        "engine_residents": n,
        "engine_city_and_deduction_facts": facts,
        "engine_population_build_s": round(built, 2),
        "engine_bulk_s": round(best, 4),
        "engine_bulk_residents_per_s": round(n / best),
        "engine_bulk_checked_against_single": len(sample),
        "engine_peak_rss_mb": round(peak_rss_mb()),
    }


# --- the database fixture -------------------------------------------------------------------


def configure_database(
    url: str | None, recreate: bool, reuse: bool = False
) -> tuple[str, tempfile.TemporaryDirectory | None]:
    scratch = None
    if url is None:
        scratch = tempfile.TemporaryDirectory(prefix="jifen-bench-")
        url = f"sqlite:///{scratch.name}/bench.sqlite3"
    elif url.startswith(("postgres://", "postgresql://")) and recreate:
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.config.settings")
    production_like_settings()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from jifen.residents.models import Resident

    if reuse:
        if url.startswith("sqlite") and scratch is not None:
            raise SystemExit("--reuse needs --database-url")
        if not Resident.objects.exists():
            raise SystemExit(f"{url}: no fixture to reuse (run once without --reuse)")
    elif Resident.objects.exists():
        raise SystemExit(f"{url}: the database has residents already (use --recreate)")
    return url, scratch


def production_like_settings() -> None:
    """DEBUG off (no query log, as in production) with fresh keys for the bench database.

    Given in the environment, so the recompute child process runs with the same settings.
    """
    import base64

    def key() -> str:
        return base64.b64encode(os.urandom(32)).decode()

    os.environ["JIFEN_DEBUG"] = "0"
    os.environ.setdefault("JIFEN_SECRET_KEY", key())
    os.environ.setdefault("JIFEN_FIELD_KEYS", f"1:{key()}")
    os.environ.setdefault("JIFEN_INDEX_KEY", key())


def departments_by_rule(on: dt.date) -> dict[str, Any]:
    """The first responsible department of every field, rule and deduction code."""
    from jifen.org.models import Department
    from jifen.scores.policies import current_policies

    selection = current_policies().select(on)
    codes: dict[str, str] = {}
    for policy in (selection.provincial, selection.city):
        for rule in policy.rules.values():
            for name in (rule.ref, rule.field, rule.months_since_field):
                if name and name not in codes:
                    codes[name] = rule.departments[0]
        for deduction in policy.deductions:
            codes[deduction.code] = deduction.departments[0]
    departments = {d.code: d for d in Department.objects.all()}
    return {name: departments[code] for name, code in codes.items()}


def write_fixture(n: int, on: dt.date, seed: int) -> dict[str, Any]:
    from django.db import transaction

    from jifen.facts.models import Fact, FactSource
    from jifen.facts.profile import facts_from_profile
    from jifen.org.models import Town
    from jifen.residents.models import (
        PermitChangeSource,
        PermitStatus,
        PermitStatusChange,
        ResidencePermit,
        Resident,
    )
    from jifen.residents.pii import field_cipher, identity_index, permit_index, phone_index
    from jifen.synthetic.identity import generate_identity_number, generate_name, generate_phone
    from jifen.synthetic.profiles import generate_profile

    rng = random.Random(seed + 1)
    cipher = field_cipher()
    towns = list(Town.objects.all())
    department = departments_by_rule(on)
    now = dt.datetime.combine(on, dt.time(9), tzinfo=CHINA)
    identities: list[str] = []
    seen: set[str] = set()
    counts = {"residents": 0, "permits": 0, "lapsed_permits": 0, "facts": 0}
    started = time.perf_counter()
    for start in range(0, n, CHUNK):
        residents, permits, changes, facts = [], [], [], []
        for i in range(start, min(start + CHUNK, n)):
            profile = generate_profile(rng, on)
            birth = dt.date.fromisoformat(profile["birth_date"])
            sex = rng.choice(("male", "female"))
            number = generate_identity_number(rng, birth, sex=sex)
            while number in seen:
                number = generate_identity_number(rng, birth, sex=sex)
            seen.add(number)
            identities.append(number)
            phone = generate_phone(rng)
            town = rng.choice(towns)
            resident = Resident(
                identity_number_index=identity_index(number),
                name=generate_name(rng, sex),
                birth_date=birth,
                sex=sex,
                phone_index=phone_index(phone),
                town=town,
                created_at=now,
            )
            resident.identity_number_token = resident._encrypt(number, "identity_number")
            resident.phone_token = resident._encrypt(phone, "phone")
            residents.append(resident)
            issued = max(dt.date.fromisoformat(profile["residence_registered_on"]), birth)
            permit_number = f"ZJ{i:010d}{rng.randrange(100):02d}"
            permit = ResidencePermit(
                resident=resident,
                number_index=permit_index(permit_number),
                issuing_town=town,
                issued_on=issued,
                status=PermitStatus.VALID,
                status_since=issued,
            )
            permit.number_token = cipher.encrypt(
                permit_number, table="residents_residencepermit", row=str(permit.id), field="number"
            )
            changes.append(
                PermitStatusChange(
                    permit=permit,
                    status=PermitStatus.VALID,
                    effective_on=issued,
                    source=PermitChangeSource.FEED,
                    reason="issued",
                    recorded_at=now,
                )
            )
            draw = rng.random()
            if draw < 0.015:  # about 1% suspended (missed endorsement), 0.5% cancelled
                status = PermitStatus.SUSPENDED if draw < 0.01 else PermitStatus.CANCELLED
                since = on - dt.timedelta(days=rng.randint(1, 300))
                permit.status, permit.status_since = status, max(since, issued)
                changes.append(
                    PermitStatusChange(
                        permit=permit,
                        status=status,
                        effective_on=permit.status_since,
                        source=PermitChangeSource.FEED,
                        reason="逾期未签注" if status == PermitStatus.SUSPENDED else "已离开桐乡",
                        recorded_at=now,
                    )
                )
                counts["lapsed_permits"] += 1
            permits.append(permit)
            for row in facts_from_profile(profile, key_prefix="bench"):
                code = row["code"]
                facts.append(
                    Fact(
                        resident=resident,
                        department=department[code],
                        source=FactSource.FEED,
                        source_ref="bench",
                        recorded_at=now,
                        **row,
                    )
                )
        with transaction.atomic():
            Resident.objects.bulk_create(residents, batch_size=1000)
            ResidencePermit.objects.bulk_create(permits, batch_size=1000)
            PermitStatusChange.objects.bulk_create(changes, batch_size=2000)
            Fact.objects.bulk_create(facts, batch_size=2000)
        counts["residents"] += len(residents)
        counts["permits"] += len(permits)
        counts["facts"] += len(facts)
        print(
            f"  fixture: {counts['residents']:,} residents, {counts['facts']:,} facts",
            file=sys.stderr,
        )
    elapsed = time.perf_counter() - started
    return {
        **{f"fixture_{k}": v for k, v in counts.items()},
        "fixture_s": round(elapsed, 1),
        "_identities": identities,
    }


# --- feed import ---------------------------------------------------------------------------


def bench_import(identities: list[str], rows: int, on: dt.date, seed: int) -> dict[str, Any]:
    from jifen.audit.actors import Actor
    from jifen.feeds.importer import import_batch

    rng = random.Random(seed + 2)
    lines = ["identity_number,record_id,rule,level,quantity,date"]
    for i, number in enumerate(identities[:rows]):
        if i % 2:
            lines.append(f"{number},BENCH-{i:07d},social_insurance_months,,{rng.randint(0, 240)},")
        else:
            level = rng.choice(("vocational_level_4", "title_junior", "vocational_level_3"))
            lines.append(f"{number},BENCH-{i:07d},skills,{level},,{on - dt.timedelta(days=400)}")
    content = ("\n".join(lines) + "\n").encode()
    now = dt.datetime.combine(on, dt.time(10), tzinfo=CHINA)
    started = time.perf_counter()
    batch = import_batch(
        "hrss", content, file_name="bench-hrss.csv", now=now, actor=Actor.system("feed:hrss")
    )
    elapsed = time.perf_counter() - started
    return {
        "import_rows": batch.rows,
        "import_accepted": batch.accepted,
        "import_superseded": batch.superseded,
        "import_rejected": batch.rejected,
        "import_s": round(elapsed, 2),
        "import_rows_per_s": round(batch.rows / elapsed) if elapsed else None,
    }


# --- end-to-end recompute -------------------------------------------------------------------


#: Runs a command and reports the peak memory of its process tree. The bench process itself
#: is large (the engine figure's population), and a child's maximum resident set size counts
#: what it shared with its parent before exec; a small launcher in between keeps it out.
LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'peak_rss_kb={peak}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def drop_scores() -> int:
    """Empty the score and job tables of a reused fixture; returns its number of residents."""
    from django.db import connection

    from jifen.residents.models import Resident

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE scores_score, jobs_jobrun, jobs_job CASCADE")
        else:
            for table in ("scores_score", "jobs_jobrun", "jobs_periodicslot", "jobs_job"):
                cursor.execute(f"DELETE FROM {table}")
    return Resident.objects.count()


def bench_recompute(url: str, n: int, batch_size: int, processes: int) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "jifen.cli", "scores", "recompute", "--all", "--no-progress"]
    command += ["--batch-size", str(batch_size), "--processes", str(processes)]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"recompute failed:\n{done.stderr}")
    peak_kb = int(done.stderr.strip().splitlines()[-1].split("=")[1])
    from jifen.scores.models import Score, ScoreStatus

    stored = Score.objects.filter(is_current=True).count()
    lapsed = Score.objects.filter(is_current=True, status=ScoreStatus.LAPSED).count()
    return {
        "recompute_processes": processes,
        "recompute_output": done.stdout.strip(),
        "recompute_scores_stored": stored,
        "recompute_lapsed": lapsed,
        "recompute_s": round(elapsed, 1),
        "recompute_residents_per_s": round(n / elapsed),
        "recompute_peak_rss_mb": round(peak_kb / 1024),
        "recompute_1m_estimate_min": round(1_000_000 / (n / elapsed) / 60, 1),
    }


def main() -> int:
    args = parse_args()
    on = args.on or dt.datetime.now(CHINA).date()
    figures: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {sys.version.split()[0]}",
        "n": args.n,
        "on": on.isoformat(),
    }
    print(f"engine bulk: {args.n:,} residents in memory ...", file=sys.stderr)
    figures.update(bench_engine(args.n, on, args.seed))
    if not args.engine_only:
        url, scratch = configure_database(args.database_url, args.recreate, args.reuse)
        from django.db import connection

        figures["database"] = connection.vendor
        if args.reuse:
            print("reusing the fixture: dropping stored scores and jobs ...", file=sys.stderr)
            args.n = figures["n"] = drop_scores()
        else:
            print(f"fixture: {args.n:,} residents into {connection.vendor} ...", file=sys.stderr)
            fixture = write_fixture(args.n, on, args.seed)
            identities = fixture.pop("_identities")
            figures.update(fixture)
            rows = args.import_rows if args.import_rows is not None else min(args.n, 20_000)
            print(f"feed import: {rows:,} rows ...", file=sys.stderr)
            figures.update(bench_import(identities, rows, on, args.seed))
        # After a bulk load the planner needs statistics, as autovacuum would gather soon.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print("end-to-end recompute ...", file=sys.stderr)
        connection.close()
        processes = args.processes or (os.cpu_count() if connection.vendor == "postgresql" else 1)
        figures.update(bench_recompute(url, args.n, args.batch_size, processes or 1))
        if scratch is not None:
            scratch.cleanup()
    report(figures)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


def report(f: dict[str, Any]) -> None:
    print(f"machine            {f['machine']}")
    print(
        f"engine bulk        {f['engine_bulk_residents_per_s']:>12,} residents/s "
        f"({f['engine_residents']:,} residents, {f['engine_city_and_deduction_facts']:,} "
        f"city/deduction facts, {f['engine_bulk_s']} s; target ≥ 500,000: "
        f"{'met' if f['engine_bulk_residents_per_s'] >= 500_000 else 'NOT MET'})"
    )
    print(
        f"                   population built in {f['engine_population_build_s']} s; "
        f"peak memory {f['engine_peak_rss_mb']:,} MB; checked against the single engine on "
        f"{f['engine_bulk_checked_against_single']:,} residents"
    )
    if "database" not in f:
        return
    if "fixture_residents" not in f:
        print(f"fixture            reused: {f['n']:,} residents ({f['database']}), no feed import")
    else:
        print(
            f"fixture            {f['fixture_residents']:,} residents, {f['fixture_facts']:,} "
            f"facts, {f['fixture_lapsed_permits']:,} lapsed permits in {f['fixture_s']} s "
            f"({f['database']})"
        )
        print(
            f"feed import        {f['import_rows_per_s']:>12,} rows/s ({f['import_rows']:,} "
            f"rows: {f['import_accepted']:,} accepted, {f['import_superseded']:,} superseded, "
            f"{f['import_rejected']:,} rejected, {f['import_s']} s)"
        )
    print(
        f"recompute e2e      {f['recompute_residents_per_s']:>12,} residents/s "
        f"({f['recompute_scores_stored']:,} current scores, {f['recompute_lapsed']:,} lapsed, "
        f"{f['recompute_s']} s, {f['recompute_processes']} process(es); peak memory "
        f"{f['recompute_peak_rss_mb']:,} MB per process)"
    )
    print(
        f"                   1,000,000 residents at this rate: "
        f"{f['recompute_1m_estimate_min']} min (target ≤ 10 min on PostgreSQL)"
    )
    print(f"                   {f['recompute_output']}")


if __name__ == "__main__":
    sys.exit(main())
