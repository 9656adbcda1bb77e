"""The conditional-update claim under real concurrency: worker processes on one SQLite file.

The in-memory test database cannot show this (see test_jobs_queue_and_claim), so this test
migrates a database file of its own and starts three ``jifen worker --once`` processes on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

JOBS = 30


def jifen(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jifen.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(env: dict[str, str], *args: str) -> str:
    process = jifen(env, *args)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    return out


def test_worker_processes_on_one_sqlite_file_run_each_job_once(tmp_path):
    env = {**os.environ, "JIFEN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    run(env, "migrate", "--no-input")
    run(
        env,
        "shell",
        "-c",
        "from django.utils import timezone\n"
        "from jifen.jobs.queue import enqueue\n"
        f"for n in range({JOBS}):\n"
        "    enqueue('scores.recompute', {'scope': 'ids', 'resident_ids': [], "
        "'on': '2025-06-02', 'n': n}, now=timezone.now())\n",
    )
    workers = [jifen(env, "worker", "--once", "--poll", "0.05") for _ in range(3)]
    for worker in workers:
        _, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
    report = run(
        env,
        "shell",
        "-c",
        "import json\n"
        "from jifen.jobs.models import Job, JobRun\n"
        "print(json.dumps({'statuses': sorted(set(Job.objects.values_list('status', flat=True))),"
        " 'attempts': sorted(set(Job.objects.values_list('attempts', flat=True))),"
        " 'runs': JobRun.objects.count(),"
        " 'workers': len(set(JobRun.objects.values_list('worker', flat=True)))}))\n",
    )
    outcome = json.loads(report.strip().splitlines()[-1])
    assert outcome["statuses"] == ["done"]
    assert outcome["attempts"] == [1]  # claimed once each
    assert outcome["runs"] == JOBS  # run once each
