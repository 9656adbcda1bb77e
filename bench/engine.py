"""Benchmark: the scoring engine on a generated population.

Prints the single-profile latency (median, p99) of evaluate() with its full explanation, and
profiles/second over the population. Target (issue 2): median under 1 ms.

    .venv/bin/python bench/engine.py [--n 100000] [--on 2025-06-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import statistics
import sys
import time

from jifen.engine import evaluate, load_policies
from jifen.synthetic.profiles import generate_population


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--on", type=dt.date.fromisoformat, default=dt.date(2025, 6, 1))
    args = parser.parse_args()

    policies = load_policies()
    selection = policies.select(args.on)
    review = args.on + dt.timedelta(days=19)
    t0 = time.perf_counter()
    population = generate_population(args.n, args.on)
    generated = time.perf_counter() - t0
    facts = sum(len(p["city"]) + len(p["deductions"]) for p in population)

    for profile in population[:2000]:  # warm-up
        evaluate(profile, args.on, review, selection)

    gc.disable()
    latencies = []
    total_lines = 0
    start = time.perf_counter()
    for profile in population:
        t = time.perf_counter_ns()
        result = evaluate(profile, args.on, review, selection)
        latencies.append(time.perf_counter_ns() - t)
        total_lines += len(result.explanation)
    elapsed = time.perf_counter() - start
    gc.enable()

    serial_start = time.perf_counter()
    for profile in population[:10_000]:
        json.dumps(evaluate(profile, args.on, review, selection).as_dict(), ensure_ascii=False)
    serial = (time.perf_counter() - serial_start) / min(10_000, args.n)

    latencies.sort()
    median = statistics.median(latencies) / 1e6
    p99 = latencies[int(len(latencies) * 0.99) - 1] / 1e6
    print(f"machine          {platform.machine()} python {sys.version.split()[0]}")
    print(
        f"population       {args.n:,} profiles, {facts:,} city/deduction facts "
        f"(generated in {generated:.1f} s), evaluation {args.on}, review {review}"
    )
    print(f"explanation      {total_lines / args.n:.1f} lines per profile on average")
    print(f"latency median   {median:.3f} ms per profile (parse + evaluate + explanation)")
    print(f"latency p99      {p99:.3f} ms")
    print(f"throughput       {args.n / elapsed:,.0f} profiles/second (one process)")
    print(f"with JSON        {serial * 1e3:.3f} ms per profile including as_dict() + json.dumps")
    print(f"target           median < 1 ms: {'met' if median < 1 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
