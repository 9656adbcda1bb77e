"""Database triggers that make the audit table append-only, for SQLite and PostgreSQL.

Installed by migration ``0002_append_only_triggers``. The ORM refuses changes too, but only
the database stops raw SQL, other programs and a console session. Both vendors raise an
integrity error (Django's ``IntegrityError``), so callers see the same exception everywhere.

These triggers stop mistakes and casual edits, not the table's owner, who can drop them: in
production the application's role should also lack UPDATE, DELETE and TRUNCATE on the table,
and the hash chain (``jifen audit verify``) detects changes made by whoever could.

Changing this SQL needs a new migration that drops the old triggers and installs the new
ones; migration ``0002`` calls these functions.
"""

from __future__ import annotations

from typing import Any

TABLE = "audit_auditentry"
MESSAGE = "audit log is append-only"

_SQL: dict[str, dict[str, list[str]]] = {
    "sqlite": {
        "install": [
            f"""CREATE TRIGGER audit_auditentry_no_update BEFORE UPDATE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
            f"""CREATE TRIGGER audit_auditentry_no_delete BEFORE DELETE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS audit_auditentry_no_update",
            "DROP TRIGGER IF EXISTS audit_auditentry_no_delete",
        ],
        "names": ["audit_auditentry_no_update", "audit_auditentry_no_delete"],
        "list": [
            "SELECT name FROM sqlite_master"
            " WHERE type = 'trigger' AND tbl_name = 'audit_auditentry'"
        ],
    },
    "postgresql": {
        "install": [
            # restrict_violation (SQLSTATE 23001) is an integrity error, like SQLite's ABORT.
            f"""CREATE FUNCTION audit_auditentry_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION USING
                    MESSAGE = '{MESSAGE}: ' || TG_OP || ' refused on ' || TG_TABLE_NAME,
                    ERRCODE = 'restrict_violation';
            END;
            $$""",
            f"""CREATE TRIGGER audit_auditentry_no_update_delete
            BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION audit_auditentry_refuse_change()""",
            f"""CREATE TRIGGER audit_auditentry_no_truncate
            BEFORE TRUNCATE ON {TABLE}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_auditentry_refuse_change()""",
        ],
        "drop": [
            f"DROP TRIGGER IF EXISTS audit_auditentry_no_truncate ON {TABLE}",
            f"DROP TRIGGER IF EXISTS audit_auditentry_no_update_delete ON {TABLE}",
            "DROP FUNCTION IF EXISTS audit_auditentry_refuse_change()",
        ],
        "names": ["audit_auditentry_no_update_delete", "audit_auditentry_no_truncate"],
        "list": ["SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditentry'::regclass"],
    },
}


def _statements(connection: Any, purpose: str) -> list[str]:
    try:
        return _SQL[connection.vendor][purpose]
    except KeyError:
        # Refuse rather than leave the audit table silently mutable on an unknown database.
        raise NotImplementedError(
            f"append-only triggers are not written for the {connection.vendor} database"
        ) from None


def install_append_only_triggers(connection: Any) -> None:
    """Create the triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection, "install"):
            cursor.execute(sql)


def drop_append_only_triggers(connection: Any) -> None:
    """Drop the triggers (reverse migration, ``flush``, and tests that simulate tampering)."""
    with connection.cursor() as cursor:
        for sql in _statements(connection, "drop"):
            cursor.execute(sql)


def append_only_triggers_installed(connection: Any) -> bool:
    """Whether the audit table has all its append-only triggers on this database."""
    expected = set(_statements(connection, "names"))
    if TABLE not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        cursor.execute(_statements(connection, "list")[0])
        present = {row[0] for row in cursor.fetchall()}
    return expected <= present
