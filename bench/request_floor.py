"""Benchmark: the application CPU of one request, from the framework's floor to an enrollment.

Why the opening-day figure of bench/open_period.py is what it is on a small machine: this
script measures, in one process and without a network in between, the CPU time (user +
system, so other load on the machine hardly matters) that the application spends on

* ``GET /healthz`` (the middleware and one database round trip),
* an authenticated ``GET /api/me/enrollments`` answering an empty list (session, user, the
  API's authentication and permission checks, one query, a JSON body),
* ``POST /api/scenarios/<id>/enroll`` (the whole enrollment: idempotency key, version,
  resident, blockers, number, insert, notification, audit entry, stored response),
* one ORM query and the same statement through the raw cursor,

against a scratch PostgreSQL database (dropped and created again: never point it at real
data), with the fixture of bench/open_period.py. Prints a JSON summary.

    .venv/bin/python bench/request_floor.py \\
        --database-url postgres://postgres@127.0.0.1:5432/jifen_bench_floor
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import open_period  # the fixture and the database helpers of the load benchmark


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/jifen_bench_floor")
    p.add_argument("--n", type=int, default=300, help="requests per measurement")
    return p.parse_args()


def cpu_ms(action: Callable[[int], object], n: int) -> float:
    for i in range(3):
        action(i)  # warm up: imports, caches, the connection
    started = time.process_time()
    for i in range(3, n + 3):
        action(i)
    return round(1000 * (time.process_time() - started) / n, 2)


def main() -> int:
    args = parse_args()
    env = open_period.server_environment(args.database_url)
    env["JIFEN_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ.update(env)
    open_period.recreate(args.database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from jifen.residents.models import Resident

    fixture = open_period.write_fixture(args.n + 10, seed=20261127)
    sessions = list(fixture["sessions"].values())
    body = json.dumps({"preferences": fixture["quotas"][:2]})
    enroll_path = f"/api/scenarios/{fixture['scenario']}/enroll"

    def client(index: int) -> Client:
        c = Client(enforce_csrf_checks=True)
        c.cookies[settings.SESSION_COOKIE_NAME] = sessions[index % len(sessions)]
        c.cookies[settings.CSRF_COOKIE_NAME] = open_period.CSRF
        return c

    signed_in = client(0)

    def get(path: str) -> Callable[[int], object]:
        def action(_index: int) -> None:
            response = signed_in.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return action

    def enroll(index: int) -> None:
        response = client(index).post(
            enroll_path,
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            HTTP_X_CSRFTOKEN=open_period.CSRF,
        )
        assert response.status_code == 201, response.content

    resident = Resident.objects.values_list("pk", flat=True).first()

    def orm_query(_index: int) -> None:
        list(Resident.objects.filter(pk=resident).values_list("pk", "town_id"))

    def raw_query(_index: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, town_id FROM residents_resident WHERE id = %s", [resident])
            cursor.fetchall()

    summary = {
        "database": args.database_url.rsplit("@", 1)[-1],
        "requests_per_measurement": args.n,
        "cpu_ms_per_request": {
            "healthz": cpu_ms(get("/healthz"), args.n),
            "api_get_empty_list_signed_in": cpu_ms(get("/api/me/enrollments"), args.n),
            "api_enroll": cpu_ms(enroll, args.n),
        },
        "cpu_ms_per_statement": {
            "orm_filter_values_list": cpu_ms(orm_query, args.n),
            "raw_cursor_same_statement": cpu_ms(raw_query, args.n),
        },
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
