"""Benchmark: an impact simulation over the whole population in the database.

Loads every resident with their current facts (one streamed pass, as the ``simulations.run``
job does: :func:`jifen.simulations.population.load_population`), then scores them twice with
the bulk engine — under the versions in force and under a draft of the city table — and
computes the figures (histogram, gain/lose/unchanged by town and by item) with
:func:`jifen.simulations.simulation.simulate`. Prints the timings and the figures.

The draft is the city version in force with one change (``--change``, default: each full year
of residence registration counts 3 points instead of 2, rule cap 30, item cap 50, and a
bachelor's degree 5 city points instead of 10), built in memory: the bench needs no policy
tables.

Target (issue 6, this 2-core machine): 1,000,000 residents in under 2 minutes. Measured on
bench/recompute.py's 1,000,000-resident PostgreSQL fixture (9.4 million current facts), with
that bench's two recompute processes running at the same time: 66.7 s (load 65.0 s, both
scorings and the figures 1.7 s), peak memory 2.9 GB.

    .venv/bin/python bench/simulate.py                      # 20,000 residents, SQLite file
    .venv/bin/python bench/simulate.py --n 1000000 --recreate \\
        --database-url postgres://postgres@127.0.0.1:5432/jifen_sim_bench
    .venv/bin/python bench/simulate.py --reuse \\
        --database-url postgres://postgres@127.0.0.1:5432/jifen_bench1m

The fixture is bench/recompute.py's (imported: same residents, permits and synthetic facts).
``--reuse`` reads an existing fixture database (this bench's or bench/recompute.py's) and
writes nothing to it: no migration, no fixture.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import recompute

CHINA = recompute.CHINA


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="residents (default 20,000)")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument(
        "--recreate", action="store_true", help="drop and create the PostgreSQL database first"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="read the fixture already in --database-url (nothing is written to it)",
    )
    parser.add_argument(
        "--on",
        type=dt.date.fromisoformat,
        default=None,
        help="simulation date (default: today in China)",
    )
    parser.add_argument("--seed", type=int, default=20250602)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    return parser.parse_args()


def read_only_setup(url: str) -> None:
    """Django on an existing fixture, without migrating or writing anything."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jifen.config.settings")
    recompute.production_like_settings()
    import django

    django.setup()
    from jifen.residents.models import Resident

    if not Resident.objects.exists():
        raise SystemExit(f"{url}: no fixture to reuse (run once without --reuse)")


def draft_selection(on: dt.date) -> tuple[Any, Any]:
    """(before, after): the versions in force, and the city version with the bench change."""
    from jifen.engine.policy import parse_policy
    from jifen.policies.content import load_text
    from jifen.scores.policies import current_policies
    from jifen.simulations.simulation import selection_with

    before = current_policies().select(on)
    city = before.city
    data = load_text((Path(recompute.ROOT) / "policies" / city.file).read_text("utf-8"), city.file)
    data["id"] = f"{city.scope}-bench-draft"
    for item in data["items"]:
        if item["code"] == "residence":
            item["cap"] = Decimal(50)
            for rule in item["rules"]:
                if rule["code"] == "registered_years":
                    rule["points"], rule["cap"] = Decimal(3), Decimal(30)
        if item["code"] == "education":
            item["rules"][0]["levels"]["bachelor"] = Decimal(5)
    return before, selection_with(before, parse_policy(data, "bench-draft.yaml"))


def run(on: dt.date) -> dict[str, Any]:
    from jifen.simulations.population import load_population
    from jifen.simulations.simulation import simulate

    before, after = draft_selection(on)
    started = time.perf_counter()
    loaded = load_population()
    loaded_s = time.perf_counter() - started
    figures = simulate(
        before,
        after,
        loaded.population,
        on=on,
        towns=loaded.towns,
        town_codes=loaded.town_codes,
        town_names=loaded.town_names,
        refused=loaded.refused,
        refused_reasons=loaded.reasons,
    )
    total_s = time.perf_counter() - started
    n = loaded.population.size
    return {
        "load_s": round(loaded_s, 1),
        "simulate_s": round(total_s - loaded_s, 2),
        "total_s": round(total_s, 1),
        "residents": n,
        "facts": int(
            loaded.population.city_resident.size + loaded.population.deduction_resident.size
        ),
        "residents_per_s": round(n / total_s) if total_s else None,
        "peak_rss_mb": round(recompute.peak_rss_mb()),
        "figures": figures,
    }


def main() -> int:
    args = parse_args()
    on = args.on or dt.datetime.now(CHINA).date()
    out: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, python {sys.version.split()[0]}",
        "on": on.isoformat(),
    }
    if args.reuse:
        if not args.database_url:
            raise SystemExit("--reuse needs --database-url")
        read_only_setup(args.database_url)
    else:
        _url, scratch = recompute.configure_database(args.database_url, args.recreate)
        print(f"fixture: {args.n:,} residents ...", file=sys.stderr)
        fixture = recompute.write_fixture(args.n, on, args.seed)
        fixture.pop("_identities")
        out.update(fixture)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from django.db import connection

    out["database"] = connection.vendor
    print("simulation ...", file=sys.stderr)
    out.update(run(on))
    if not args.reuse and scratch is not None:
        scratch.cleanup()
    report(out)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def report(f: dict[str, Any]) -> None:
    figures = f["figures"]
    s = figures["summary"]
    print(f"machine            {f['machine']}")
    if "fixture_residents" in f:
        print(
            f"fixture            {f['fixture_residents']:,} residents, {f['fixture_facts']:,} "
            f"facts in {f['fixture_s']} s ({f['database']})"
        )
    else:
        print(f"fixture            reused ({f['database']})")
    verdict = "met" if f["residents"] < 1_000_000 or f["total_s"] < 120 else "NOT MET"
    estimate = round(1_000_000 / f["residents_per_s"], 1) if f["residents_per_s"] else None
    print(
        f"simulation         {f['residents']:,} residents ({f['facts']:,} city/deduction "
        f"facts) in {f['total_s']} s: load {f['load_s']} s, score twice + figures "
        f"{f['simulate_s']} s; {f['residents_per_s']:,} residents/s; peak memory "
        f"{f['peak_rss_mb']:,} MB"
    )
    print(
        f"                   1,000,000 residents at this rate: {estimate} s "
        f"(target < 120 s{'' if f['residents'] < 1_000_000 else ': ' + verdict})"
    )
    print(f"before             {figures['before']['city']} (mean {figures['mean_before']})")
    print(f"after              {figures['after']['city']} (mean {figures['mean_after']})")
    print(
        f"residents          gain {s['gain']:,} (+{s['gain_points']}), lose {s['lose']:,} "
        f"(-{s['loss_points']}), unchanged {s['unchanged']:,}; not scored "
        f"{sum(figures['not_scored_before'].values()) + sum(figures['not_scored_after'].values())}"
    )
    hist = figures["histogram"]
    print("histogram          band        before      after")
    for i, low in enumerate(hist["edges"][:-1]):
        if hist["before"][i] or hist["after"][i]:
            print(
                f"                   {low:>4}–{low + hist['width']:<4} "
                f"{hist['before'][i]:>10,} {hist['after'][i]:>10,}"
            )
    print("by town            town           gain       lose  unchanged        net")
    for line in figures["by_town"]:
        print(
            f"                   {line['town']:<12} {line['gain']:>8,} {line['lose']:>10,} "
            f"{line['unchanged']:>10,} {line['net_points']:>10}"
        )
    print("by item            item                          gain       lose        net")
    for line in figures["by_item"]:
        if line["gain"] or line["lose"]:
            print(
                f"                   {line['item']:<28} {line['gain']:>6,} {line['lose']:>10,} "
                f"{line['net_points']:>10}"
            )


if __name__ == "__main__":
    sys.exit(main())
