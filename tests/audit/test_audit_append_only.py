"""Append-only: the database, the model and the queryset all refuse change and removal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from jifen.audit.actors import Actor
from jifen.audit.errors import AppendOnlyViolation, AuditWriteError
from jifen.audit.hashing import GENESIS_HASH
from jifen.audit.models import AuditEntry
from jifen.audit.triggers import append_only_triggers_installed

T0 = dt.datetime(2025, 3, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
FEED = Actor.system("feed:public_security")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="TRUNCATE triggers exist on PostgreSQL only"
)


@pytest.mark.django_db
def test_the_triggers_are_installed_by_the_migrations():
    assert append_only_triggers_installed(connection)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET action = 'claim.forged'",
        "UPDATE audit_auditentry SET data = '{}' WHERE sequence = 2",
        "DELETE FROM audit_auditentry WHERE sequence = 2",
        "DELETE FROM audit_auditentry",
    ],
)
def test_the_database_refuses_update_and_delete(write_entries, raw_sql, sql):
    write_entries(3)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        raw_sql(sql)
    assert AuditEntry.objects.count() == 3
    assert not AuditEntry.objects.exclude(action="permit.status_changed").exists()


@on_postgresql
@pytest.mark.django_db
def test_postgresql_refuses_truncate(write_entries, raw_sql):
    write_entries(2)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        raw_sql("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db
def test_the_queryset_refuses_update_delete_and_bulk_writes(write_entries):
    entries = write_entries(2)
    with pytest.raises(AppendOnlyViolation):
        AuditEntry.objects.filter(sequence=1).update(action="claim.forged")
    with pytest.raises(AppendOnlyViolation):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEntry.objects.bulk_update(entries, ["action"])
    with pytest.raises(AppendOnlyViolation):
        AuditEntry.objects.bulk_create([AuditEntry()])
    with pytest.raises(AppendOnlyViolation):
        AuditEntry.objects.update_or_create(sequence=1, defaults={"action": "claim.forged"})
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db
def test_the_model_refuses_to_save_an_existing_entry_or_delete_one(write_entries):
    entry = write_entries(1)[0]
    entry.action = "claim.forged"
    with pytest.raises(AppendOnlyViolation):
        entry.save()
    fresh = AuditEntry.objects.get()
    with pytest.raises(AppendOnlyViolation):
        fresh.delete()
    assert AuditEntry.objects.get().action == "permit.status_changed"


@pytest.mark.django_db
def test_the_model_refuses_an_entry_that_record_did_not_seal():
    unsealed = AuditEntry(
        sequence=1,
        occurred_at=T0,
        action="claim.forged",
        actor_kind="system",
        actor_id="feed:public_security",
        result="success",
        previous_hash=GENESIS_HASH,
        entry_hash="a" * 64,
    )
    with pytest.raises(AuditWriteError, match="sealed"):
        unsealed.save()
    with pytest.raises(AuditWriteError):
        AuditEntry.objects.create(**{f: getattr(unsealed, f) for f in ("sequence", "action")})
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_log_and_puts_the_triggers_back(write_entries):
    write_entries(3)
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    assert append_only_triggers_installed(connection)
    # Committed state: the log is append-only again straight away.
    write_entries(1)
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")


@pytest.mark.django_db(transaction=True)
def test_flush_can_be_cancelled(write_entries, monkeypatch, capsys):
    write_entries(2)
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    call_command("flush", verbosity=0)
    assert "Flush cancelled." in capsys.readouterr().out
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_trigger_migration_reverses_cleanly():
    try:
        call_command("migrate", "audit", "0001_audit_entry", verbosity=0)
        assert not append_only_triggers_installed(connection)
    finally:
        call_command("migrate", "audit", verbosity=0)
    assert append_only_triggers_installed(connection)


@pytest.mark.django_db
def test_a_refused_statement_is_a_database_error_on_every_vendor(write_entries, raw_sql):
    # Callers that catch DatabaseError around a request see the refusal too.
    write_entries(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        raw_sql("UPDATE audit_auditentry SET result = 'denied'")
