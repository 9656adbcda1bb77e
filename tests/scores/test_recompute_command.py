"""``jifen scores recompute``: scopes, other dates, progress, and resuming an interrupted run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jifen.jobs.models import Job, JobRun, JobStatus
from jifen.scores import recompute as recompute_module
from jifen.scores.models import Score
from jifen.scores.services import china_date
from tests.factories import make_resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(give_facts, profile):
    """Five residents: three in wutong, two in fengming, each with the test profile's facts."""
    now = timezone.now()
    residents = [make_resident(town="wutong", now=now) for _ in range(3)]
    residents += [make_resident(town="fengming", now=now) for _ in range(2)]
    for person in residents:
        give_facts(person, profile, now=now)
    return sorted(residents, key=lambda r: r.pk)


def recompute(*args: str) -> None:
    # One process: the test's data is not committed, so child processes could not see it.
    call_command("scores", "recompute", "--no-progress", "--processes", "1", *args)


def current_scores():
    return Score.objects.filter(is_current=True)


def test_all_residents_get_a_current_score_in_batches(people, capsys):
    recompute("--all", "--batch-size", "2")
    assert current_scores().count() == 5
    assert set(current_scores().values_list("evaluation_date", flat=True)) == {
        china_date(timezone.now())
    }
    job = Job.objects.get()
    assert job.status == JobStatus.DONE and job.kind == "scores.recompute"
    assert job.result["residents"] == 5 and job.result["created"] == 5
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.checkpoint["after"] == str(people[-1].pk)
    assert "5 residents" in capsys.readouterr().out


def test_a_town_or_one_resident(people):
    recompute("--town", "fengming")
    assert {s.resident.town.code for s in current_scores()} == {"fengming"}
    assert current_scores().count() == 2
    recompute("--resident", str(people[0].pk))
    assert current_scores().filter(resident=people[0]).exists()


def test_a_second_run_with_nothing_changed_stores_nothing(people):
    recompute("--all")
    recompute("--all")
    assert Score.objects.count() == 5
    assert Job.objects.order_by("id").last().result["unchanged"] == 5


def test_another_evaluation_date_leaves_the_current_scores(people):
    recompute("--all")
    recompute("--all", "--on", "2025-09-01")
    assert Score.objects.count() == 10
    assert not current_scores().filter(evaluation_date=dt.date(2025, 9, 1)).exists()
    assert Score.objects.filter(evaluation_date=dt.date(2025, 9, 1), is_current=False).count() == 5


def test_bad_arguments_are_refused(people):
    with pytest.raises(CommandError, match="unknown town"):
        recompute("--town", "atlantis")
    with pytest.raises(CommandError, match="not a resident id"):
        recompute("--resident", "12345")
    with pytest.raises(CommandError, match="no resident"):
        recompute("--resident", "00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError):
        recompute("--all", "--town", "wutong")
    with pytest.raises(CommandError):
        recompute("--all", "--on", "2025-13-01")


@pytest.fixture
def interrupt_second_batch(monkeypatch):
    """Make the second batch of the next run fail with ``error``; record every batch."""
    real = recompute_module.recompute_batch
    batches: list[list] = []

    def arm(error: BaseException) -> list[list]:
        def batch(ids, **kwargs):
            batches.append(list(ids))
            if len(batches) == 2:
                raise error
            return real(ids, **kwargs)

        monkeypatch.setattr(recompute_module, "recompute_batch", batch)
        return batches

    yield arm
    monkeypatch.setattr(recompute_module, "recompute_batch", real)


@pytest.mark.parametrize("error", [RuntimeError("database went away"), KeyboardInterrupt()])
def test_an_interrupted_run_resumes_after_the_last_committed_batch(
    people, interrupt_second_batch, monkeypatch, error
):
    batches = interrupt_second_batch(error)
    expected = CommandError if isinstance(error, Exception) else KeyboardInterrupt
    with pytest.raises(expected):
        recompute("--all", "--batch-size", "2")
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED
    assert job.checkpoint["after"] == str(people[1].pk) and job.checkpoint["done"] == 2
    assert current_scores().count() == 2  # the first batch is committed, the second is not

    monkeypatch.undo()
    real = recompute_module.recompute_batch
    resumed: list[list] = []

    def spy(ids, **kwargs):
        resumed.append(list(ids))
        return real(ids, **kwargs)

    monkeypatch.setattr(recompute_module, "recompute_batch", spy)
    recompute("--all", "--batch-size", "2")
    assert Job.objects.count() == 1  # the same job, resumed
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert job.result["residents"] == 5 and job.result["created"] == 5
    assert [p.pk for p in people[2:]] == [i for batch in resumed for i in batch]
    assert current_scores().count() == 5
    assert [r.outcome for r in JobRun.objects.filter(job=job).order_by("attempt")] == [
        "interrupted" if isinstance(error, KeyboardInterrupt) else "failed",
        "done",
    ]
    assert batches[0] == [p.pk for p in people[:2]]


def test_a_run_whose_process_died_is_taken_over_once_stale(people, settings):
    recompute("--all")  # a finished job is never resumed
    now = timezone.now()
    dead = Job.objects.create(
        kind="scores.recompute",
        args={
            "scope": "all",
            "on": china_date(now).isoformat(),
            "current": True,
            "batch_size": 1000,
            "reason": "command",
        },
        status=JobStatus.RUNNING,
        worker="command:gone:1:0",
        attempts=1,
        max_attempts=1,
        created_at=now,
        run_after=now,
        started_at=now,
        heartbeat_at=now,
    )
    with pytest.raises(CommandError, match=f"running as job #{dead.pk}"):
        recompute("--all")
    Job.objects.filter(pk=dead.pk).update(heartbeat_at=now - dt.timedelta(hours=1))
    settings.JIFEN_JOBS_STALE_AFTER = 600
    recompute("--all")
    dead.refresh_from_db()
    assert dead.status == JobStatus.DONE and dead.attempts == 2


def test_enqueue_leaves_the_run_to_a_worker(people, capsys):
    recompute("--all", "--enqueue")
    job = Job.objects.get()
    assert job.status == JobStatus.QUEUED and "queued job" in capsys.readouterr().out
    assert not Score.objects.exists()
    call_command("worker", "--once")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and current_scores().count() == 5


def test_the_progress_bar_goes_to_stderr(people, capsys):
    call_command("scores", "recompute", "--all", "--batch-size", "2", "--processes", "1")
    captured = capsys.readouterr()
    assert "5/5" in captured.err and "resident" in captured.err
    assert "5/5" not in captured.out


# --- parts and processes ------------------------------------------------------------------


def test_parts_cover_the_key_space_without_overlap():
    import itertools
    import uuid

    from jifen.scores.recompute import part_bounds

    for count in (1, 2, 3, 7):
        bounds = [part_bounds(i, count) for i in range(count)]
        assert bounds[0][0] == uuid.UUID(int=0) and bounds[-1][1] is None
        for (_, high), (low, _) in itertools.pairwise(bounds):
            assert high == low


def test_parts_together_recompute_everyone_once(people):
    recompute("--all", "--part", "0/2")
    recompute("--all", "--part", "1/2")
    jobs = Job.objects.order_by("id")
    assert [j.args["part"] for j in jobs] == [[0, 2], [1, 2]]
    assert sum(j.result["residents"] for j in jobs) == 5
    assert current_scores().count() == 5 == Score.objects.count()
    with pytest.raises(CommandError, match="expected I/N"):
        recompute("--all", "--part", "half")
    with pytest.raises(CommandError, match="from 0 to N-1"):
        recompute("--all", "--part", "2/2")


def test_sqlite_runs_one_process(people):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        call_command("scores", "recompute", "--all", "--processes", "2")


@pytest.mark.django_db(transaction=True)
def test_processes_share_a_recompute_on_postgresql(reseeded, give_facts, profile, capsys):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("several writers need PostgreSQL")
    now = timezone.now()
    residents = [make_resident(town="wutong", now=now) for _ in range(6)]
    for person in residents:
        give_facts(person, profile, now=now)
    call_command("scores", "recompute", "--all", "--processes", "3", "--batch-size", "1")
    jobs = Job.objects.filter(kind="scores.recompute").order_by("id")
    assert sorted(j.args["part"] for j in jobs) == [[0, 3], [1, 3], [2, 3]]
    assert all(j.status == JobStatus.DONE for j in jobs)
    assert current_scores().count() == 6 == Score.objects.count()
    captured = capsys.readouterr()
    assert "6 residents" in captured.out and "3 processes" in captured.err


def test_stored_results_are_compressed_with_lz4_on_postgresql():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL storage setting")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("this PostgreSQL server has no lz4")
        cursor.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'scores_score'::regclass AND attname = 'result'"
        )
        assert cursor.fetchone()[0] == "l"
