"""verify_chain and ``jifen audit verify``: intact chains pass, tampering is located."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jifen.audit.chain import ChainProblem, verify_chain
from jifen.audit.hashing import compute_entry_hash
from jifen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_an_empty_chain_verifies():
    report = verify_chain()
    assert report.ok and report.checked == 0
    assert str(report) == "audit chain OK: no entries"


def test_an_intact_chain_verifies(write_entries):
    entries = write_entries(5)
    report = verify_chain()
    assert report.ok
    assert report.checked == 5
    assert (report.last_sequence, report.last_hash) == (5, entries[-1].entry_hash)
    assert report.broken_sequence is None


@pytest.mark.tampers_audit_chain
def test_a_changed_entry_is_reported_with_its_sequence(write_entries, triggers_dropped, raw_sql):
    write_entries(5)
    with triggers_dropped():
        raw_sql("UPDATE audit_auditentry SET object_id = %s WHERE sequence = 3", ["999"])
    report = verify_chain()
    assert not report.ok
    assert report.broken_sequence == 3
    assert report.problem == ChainProblem.CONTENT_CHANGED
    assert report.checked == 2
    assert report.last_sequence == 2


@pytest.mark.tampers_audit_chain
def test_a_changed_time_is_detected(write_entries, triggers_dropped, raw_sql):
    write_entries(3)
    later = dt.datetime(2025, 3, 2, tzinfo=dt.UTC)
    with triggers_dropped():
        raw_sql("UPDATE audit_auditentry SET occurred_at = %s WHERE sequence = 1", [later])
    report = verify_chain()
    assert (report.ok, report.broken_sequence) == (False, 1)


@pytest.mark.tampers_audit_chain
def test_a_deleted_middle_entry_is_reported_as_a_gap(write_entries, triggers_dropped, raw_sql):
    write_entries(5)
    with triggers_dropped():
        raw_sql("DELETE FROM audit_auditentry WHERE sequence = 3")
    report = verify_chain()
    assert not report.ok
    assert report.broken_sequence == 3
    assert report.problem == ChainProblem.MISSING_ENTRY
    assert "#4" in report.detail


@pytest.mark.tampers_audit_chain
def test_deleted_first_entries_are_reported(write_entries, triggers_dropped, raw_sql):
    write_entries(4)
    with triggers_dropped():
        raw_sql("DELETE FROM audit_auditentry WHERE sequence <= 2")
    report = verify_chain()
    assert (report.ok, report.broken_sequence, report.problem) == (
        False,
        1,
        ChainProblem.MISSING_ENTRY,
    )


@pytest.mark.tampers_audit_chain
def test_a_rewritten_and_rehashed_entry_breaks_the_next_link(
    write_entries, triggers_dropped, raw_sql
):
    """A forger who recomputes the edited entry's hash is caught by the entry after it."""
    write_entries(4)
    forged = AuditEntry.objects.get(sequence=2)
    forged.object_id = "999"
    with triggers_dropped():
        raw_sql(
            "UPDATE audit_auditentry SET object_id = %s, entry_hash = %s WHERE sequence = 2",
            ["999", compute_entry_hash(forged)],
        )
    report = verify_chain()
    assert not report.ok
    assert report.broken_sequence == 3
    assert report.problem == ChainProblem.LINK_BROKEN


@pytest.mark.tampers_audit_chain
def test_swapped_entries_are_detected(write_entries, triggers_dropped, raw_sql):
    write_entries(4)
    with triggers_dropped():
        raw_sql("UPDATE audit_auditentry SET sequence = 100 WHERE sequence = 2")
        raw_sql("UPDATE audit_auditentry SET sequence = 2 WHERE sequence = 3")
        raw_sql("UPDATE audit_auditentry SET sequence = 3 WHERE sequence = 100")
    report = verify_chain()
    assert (report.ok, report.broken_sequence) == (False, 2)


@pytest.mark.tampers_audit_chain
def test_a_range_is_verified_and_linked_to_the_entry_before_it(
    write_entries, triggers_dropped, raw_sql
):
    write_entries(6)
    assert verify_chain(AuditEntry.objects.filter(sequence__gte=4)).checked == 3
    with triggers_dropped():
        raw_sql("DELETE FROM audit_auditentry WHERE sequence = 3")
    report = verify_chain(AuditEntry.objects.filter(sequence__gte=4))
    assert (report.ok, report.broken_sequence, report.problem) == (
        False,
        3,
        ChainProblem.MISSING_ENTRY,
    )


def test_the_command_prints_the_head_of_an_intact_chain(write_entries, capsys):
    entries = write_entries(3)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert "audit chain OK: 3 entries verified" in out
    assert entries[-1].entry_hash in out


@pytest.mark.tampers_audit_chain
def test_the_command_fails_on_a_broken_chain(write_entries, triggers_dropped, raw_sql):
    write_entries(3)
    with triggers_dropped():
        raw_sql("UPDATE audit_auditentry SET result = 'denied' WHERE sequence = 2")
    with pytest.raises(CommandError, match=r"BROKEN at entry #2: content_changed") as raised:
        call_command("audit", "verify")
    assert raised.value.returncode == 1


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="runs the CLI on its own SQLite file; once is enough"
)
def test_jifen_audit_verify_exits_non_zero_when_tampered(tmp_path):
    env = {**os.environ, "JIFEN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    jifen = [sys.executable, "-m", "jifen.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*jifen, *args], env=env, capture_output=True, text=True, check=False)

    assert run("migrate", "--no-input", "-v0").returncode == 0
    script = (
        "import datetime as dt\n"
        "from jifen.audit.actors import Actor\n"
        "from jifen.audit.services import record\n"
        "for i in range(3):\n"
        "    record('job.finished', actor=Actor.system('job:recompute'),\n"
        "           occurred_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), data={'i': i})\n"
    )
    assert run("shell", "-c", script).returncode == 0
    intact = run("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "3 entries verified" in intact.stdout

    database = sqlite3.connect(tmp_path / "jifen.sqlite3")
    with database:
        database.execute("DROP TRIGGER audit_auditentry_no_update")
        database.execute("UPDATE audit_auditentry SET data = '{\"i\": 7}' WHERE sequence = 2")
    database.close()
    broken = run("audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at entry #2" in broken.stderr
