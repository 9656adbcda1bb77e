"""``jifen backup`` / ``jifen restore``: a backup restored into an empty database has the same
row counts and the same audit chain head; a non-empty target, a damaged file or a manifest
that does not match are refused.

SQLite: the online backup API, restored into a new file. PostgreSQL: pg_dump/pg_restore into
scratch databases this module creates and drops. Each part skips on the other database.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jifen.audit.chain import chain_head
from jifen.audit.services import record
from jifen.operations.backup import manifest_path
from jifen.residents.models import Resident
from tests.factories import FACTORY_ACTOR, NOW, make_resident

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backup API part")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump/pg_restore part"
)
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def populate(count: int = 3) -> tuple[int, str]:
    for _ in range(count):
        make_resident()
    record("test.backup_marker", actor=FACTORY_ACTOR, occurred_at=NOW, object_id="x")
    return chain_head()


def read_manifest(path):
    return json.loads(manifest_path(path).read_text())


def check_manifest(path, head):
    manifest = read_manifest(path)
    assert manifest["audit_head"] == {"sequence": head[0], "hash": head[1]}
    assert manifest["counts"]["residents_resident"] == Resident.objects.count()
    assert manifest["counts"]["audit_auditentry"] == head[0]
    return manifest


# --- SQLite -------------------------------------------------------------------------------------


@on_sqlite
def test_sqlite_backup_restores_into_a_new_file_with_the_same_counts_and_chain_head(tmp_path):
    head = populate()
    backup_file = tmp_path / "jifen.backup"
    call_command("backup", str(backup_file))
    manifest = check_manifest(backup_file, head)
    assert manifest["vendor"] == "sqlite"

    target = tmp_path / "restored.sqlite3"
    call_command("restore", str(backup_file), database_url=f"sqlite:///{target}")

    restored = sqlite3.connect(target)
    try:
        assert restored.execute("SELECT COUNT(*) FROM residents_resident").fetchone()[0] == (
            Resident.objects.count()
        )
        assert (
            restored.execute(
                "SELECT sequence, entry_hash FROM audit_auditentry ORDER BY sequence DESC LIMIT 1"
            ).fetchone()
            == head
        )
        # The append-only triggers came with the copy.
        triggers = {
            row[0]
            for row in restored.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
        assert "audit_auditentry_no_update" in triggers
    finally:
        restored.close()


@on_sqlite
def test_sqlite_restore_refuses_a_database_that_has_tables(tmp_path):
    populate(1)
    backup_file = tmp_path / "jifen.backup"
    call_command("backup", str(backup_file))
    target = tmp_path / "busy.sqlite3"
    busy = sqlite3.connect(target)
    busy.execute("CREATE TABLE something (id integer)")
    busy.commit()
    busy.close()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup_file), database_url=f"sqlite:///{target}")


@on_sqlite
def test_restore_refuses_a_damaged_backup_file(tmp_path):
    populate(1)
    backup_file = tmp_path / "jifen.backup"
    call_command("backup", str(backup_file))
    data = bytearray(backup_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup_file.write_bytes(bytes(data))
    target = tmp_path / "restored.sqlite3"
    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command("restore", str(backup_file), database_url=f"sqlite:///{target}")
    assert not target.exists()


@on_sqlite
def test_restore_reports_a_head_that_differs_from_the_manifest(tmp_path):
    head = populate(1)
    backup_file = tmp_path / "jifen.backup"
    call_command("backup", str(backup_file))
    # A manifest whose head is not the file's (entries cut off at the end leave no gap; the
    # head kept in the manifest is what catches it).
    manifest = read_manifest(backup_file)
    manifest["audit_head"]["sequence"] = head[0] + 1
    manifest_path(backup_file).write_text(json.dumps(manifest))
    target = tmp_path / "restored.sqlite3"
    with pytest.raises(CommandError, match="audit head"):
        call_command("restore", str(backup_file), database_url=f"sqlite:///{target}")


def test_backup_never_overwrites_a_file(tmp_path):
    existing = tmp_path / "jifen.backup"
    existing.write_text("keep me")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", str(existing))
    assert existing.read_text() == "keep me"


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
def scratch_database():
    """An empty PostgreSQL database beside the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings.get('PASSWORD') or ''}@"
        f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    )
    yield url
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@on_postgresql
def test_postgresql_backup_restores_into_an_empty_database_with_the_same_counts_and_head(
    tmp_path, scratch_database
):
    import psycopg

    head = populate()
    backup_file = tmp_path / "jifen.dump"
    call_command("backup", str(backup_file))
    manifest = check_manifest(backup_file, head)
    assert manifest["vendor"] == "postgresql"
    assert backup_file.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    call_command("restore", str(backup_file), database_url=scratch_database)

    with psycopg.connect(scratch_database.replace("postgres://", "postgresql://")) as restored:
        rows = restored.execute("SELECT COUNT(*) FROM residents_resident").fetchone()[0]
        assert rows == Resident.objects.count()
        assert (
            restored.execute(
                "SELECT sequence, entry_hash FROM audit_auditentry ORDER BY sequence DESC LIMIT 1"
            ).fetchone()
            == head
        )
        # The append-only trigger came with the restore.
        triggers = {
            r[0]
            for r in restored.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditentry'::regclass"
            )
        }
        assert "audit_auditentry_no_update_delete" in triggers


@on_postgresql
def test_postgresql_restore_refuses_a_database_that_has_tables(tmp_path):
    populate(1)
    backup_file = tmp_path / "jifen.dump"
    call_command("backup", str(backup_file))
    # The test database itself is the non-empty target.
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(backup_file))
    assert chain_head()[0] >= 1
