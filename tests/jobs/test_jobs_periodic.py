"""Periodic jobs: one job per slot, whichever worker and however many of them."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from jifen.jobs import registry
from jifen.jobs.models import Job, JobStatus, PeriodicSlot
from jifen.jobs.periodic import schedule_due, slot_of
from jifen.jobs.registry import Schedule, periodic
from jifen.jobs.worker import run_worker

from .conftest import T0

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def hourly():
    runs: list[str] = []

    @periodic("test.hourly", every=HOUR)
    def tick(context):
        runs.append(context.args["slot"])
        return {"slot": context.args["slot"]}

    yield runs
    registry.unregister("test.hourly")


def test_slots_are_counted_from_a_fixed_epoch():
    hourly_schedule = Schedule(every=HOUR)
    assert slot_of(hourly_schedule, T0 + dt.timedelta(minutes=59)) == T0
    assert slot_of(hourly_schedule, T0 + HOUR) == T0 + HOUR
    china_midnight = Schedule(every=dt.timedelta(days=1), offset=dt.timedelta(hours=-8))
    assert slot_of(china_midnight, dt.datetime(2025, 6, 2, 3, 0, tzinfo=dt.UTC)) == dt.datetime(
        2025, 6, 1, 16, 0, tzinfo=dt.UTC
    )


def test_periodic_registers_the_handler_and_refuses_tiny_periods(hourly):
    assert "test.hourly" in registry.kinds()
    assert registry.periodic_kinds()["test.hourly"] == Schedule(every=HOUR)
    with pytest.raises(ValueError):
        periodic("test.too_often", every=dt.timedelta(milliseconds=10))


@pytest.mark.django_db
def test_each_slot_is_enqueued_once(hourly):
    only = ["test.hourly"]  # other apps' periodic kinds are registered too
    first = schedule_due(now=T0 + dt.timedelta(minutes=5), kinds=only)
    assert [job.args for job in first] == [{"slot": T0.isoformat()}]
    assert schedule_due(now=T0 + dt.timedelta(minutes=30), kinds=only) == []  # same slot
    later = schedule_due(now=T0 + dt.timedelta(minutes=65), kinds=only)
    assert [job.args for job in later] == [{"slot": (T0 + HOUR).isoformat()}]
    assert Job.objects.filter(kind="test.hourly").count() == 2
    slot = PeriodicSlot.objects.get(slot=T0)
    assert slot.job == first[0] and slot.kind == "test.hourly"
    # a worker restricted to other kinds does not enqueue this one
    assert schedule_due(now=T0 + 3 * HOUR, kinds=["other.kind"]) == []


@pytest.mark.django_db
def test_the_worker_loop_enqueues_and_runs_the_due_slot(hourly, clock):
    clock.now = T0 + dt.timedelta(minutes=10)
    only = ["test.hourly"]
    assert run_worker(once=True, periodic=True, kinds=only, clock=clock, heartbeat=0) == 1
    assert hourly == [T0.isoformat()]
    assert run_worker(once=True, periodic=True, kinds=only, clock=clock, heartbeat=0) == 0


@pytest.mark.django_db
def test_once_does_not_schedule_unless_asked(hourly, capsys):
    call_command("worker", "--once", "--kind", "test.hourly")
    assert "0 job(s) run" in capsys.readouterr().out
    assert not Job.objects.exists()
    call_command("worker", "--once", "--periodic", "--kind", "test.hourly")
    assert "1 job(s) run" in capsys.readouterr().out
    assert Job.objects.get(kind="test.hourly").status == JobStatus.DONE


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="threads need separate connections; the SQLite test database is in memory",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_slot_enqueue_one_job(hourly, monkeypatch):
    """Both pass the cheap "already there?" check, then race on the insert."""
    import jifen.jobs.periodic as periodic_module

    real_exists_filter = PeriodicSlot.objects.filter
    both_checked = threading.Barrier(2)

    class Gate:
        def filter(self, *args, **kwargs):
            queryset = real_exists_filter(*args, **kwargs)
            exists = queryset.exists()

            class Checked:
                def exists(self_inner):
                    both_checked.wait(timeout=30)
                    return exists

            return Checked()

        def create(self, **kwargs):
            return PeriodicSlot._default_manager.create(**kwargs)

    monkeypatch.setattr(periodic_module.PeriodicSlot, "objects", Gate(), raising=False)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            jobs = schedule_due(now=T0 + dt.timedelta(minutes=1), kinds=["test.hourly"])
            results.append(len(jobs))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.undo()
    assert not errors
    assert sorted(results) == [0, 1]
    assert Job.objects.filter(kind="test.hourly").count() == 1
    assert PeriodicSlot.objects.filter(kind="test.hourly").count() == 1
