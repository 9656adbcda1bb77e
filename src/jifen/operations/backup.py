"""Backup and restore of the whole database, with a manifest that proves the restore.

``backup(path)`` writes the database to ``path`` and a manifest beside it
(``<path>.manifest.json``): the vendor, the file's size and SHA-256, the audit chain head
(sequence and hash) and the row count of every table, all taken from the same consistent
snapshot as the dump:

- PostgreSQL: ``pg_dump -Fc`` of an exported snapshot (``pg_export_snapshot()`` in a
  REPEATABLE READ READ ONLY transaction); the counts and the head are read in that
  transaction, so they describe exactly what the dump holds, while the platform keeps running.
- SQLite: the online backup API (``sqlite3.Connection.backup``), page by page, consistent;
  the counts and the head are read from the copy.

``restore(path)`` refuses a target that has any table, checks the file against the
manifest, restores (``pg_restore --single-transaction --exit-on-error`` into an empty
database; the backup API into a new SQLite file), then verifies the whole audit chain, its
head against the manifest and every table's row count. Any difference is an error.

The backup file holds the encrypted columns as stored: it is no more readable than the
database, but it is only usable with the field keys (kept elsewhere, see docs/operations.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import load_backend

MANIFEST_FORMAT = "jifen-backup/1"
AUDIT_TABLE = "audit_auditentry"
GENESIS = (0, "0" * 64)


class BackupError(Exception):
    """A backup or restore that cannot be done or did not verify; the message says why."""


@dataclass(frozen=True)
class Manifest:
    vendor: str
    created_at: str
    file: str
    size: int
    sha256: str
    audit_sequence: int
    audit_hash: str
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MANIFEST_FORMAT,
                "vendor": self.vendor,
                "created_at": self.created_at,
                "file": self.file,
                "size": self.size,
                "sha256": self.sha256,
                "audit_head": {"sequence": self.audit_sequence, "hash": self.audit_hash},
                "counts": dict(sorted(self.counts.items())),
            },
            indent=2,
        )

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != MANIFEST_FORMAT:
                raise BackupError(f"{path}: not a {MANIFEST_FORMAT} manifest")
            return cls(
                vendor=raw["vendor"],
                created_at=raw["created_at"],
                file=raw["file"],
                size=int(raw["size"]),
                sha256=raw["sha256"],
                audit_sequence=int(raw["audit_head"]["sequence"]),
                audit_hash=raw["audit_head"]["hash"],
                counts={str(k): int(v) for k, v in raw["counts"].items()},
            )
        except FileNotFoundError:
            raise BackupError(f"the manifest {path} is missing") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"{path}: unreadable manifest ({exc})") from None


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def database_alias(url: str | None = None, alias: str = DEFAULT_DB_ALIAS) -> Iterator[str]:
    """The alias to work on: ``alias``, or a temporary one for the database at ``url``."""
    if not url:
        yield alias
        return
    parsed = dj_database_url.parse(url)
    temporary = f"jifen_ops_{uuid.uuid4().hex[:8]}"
    base = dict(connections[alias].settings_dict)
    settings_dict = {**base, **parsed, "OPTIONS": parsed.get("OPTIONS", {})}
    # A connection of its own, not added to settings.DATABASES.
    connections[temporary] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
        settings_dict, temporary
    )
    try:
        yield temporary
    finally:
        with contextlib.suppress(Exception):
            connections[temporary].close()
        with contextlib.suppress(Exception):
            del connections[temporary]


# --- reading counts and the head --------------------------------------------------------------


def _quote(connection: Any, name: str) -> str:
    return connection.ops.quote_name(name)


def _counts_and_head(cursor: Any, connection: Any, tables: list[str]) -> tuple[dict, tuple]:
    counts = {}
    for table in sorted(tables):
        # S608: the table names are the database's own (introspection), quoted.
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(connection, table)}")  # noqa: S608
        counts[table] = int(cursor.fetchone()[0])
    head = GENESIS
    if AUDIT_TABLE in tables:
        cursor.execute(
            # S608: AUDIT_TABLE is this module's constant, the audit model's table name.
            f"SELECT sequence, entry_hash FROM {AUDIT_TABLE} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
        )
        row = cursor.fetchone()
        if row is not None:
            head = (int(row[0]), str(row[1]))
    return counts, head


def _sqlite_counts_and_head(db: sqlite3.Connection) -> tuple[dict, tuple]:
    tables = [
        row[0]
        for row in db.execute(
            # The tables Django's introspection lists (restore compares through it).
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
        )
    ]
    counts = {}
    for table in sorted(tables):
        quoted = '"' + table.replace('"', '""') + '"'
        # S608: the table names are the copy's own (sqlite_master), quoted just above.
        counts[table] = int(db.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0])  # noqa: S608
    head = GENESIS
    if AUDIT_TABLE in tables:
        row = db.execute(
            # S608: AUDIT_TABLE is this module's constant, the audit model's table name.
            f"SELECT sequence, entry_hash FROM {AUDIT_TABLE} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
        ).fetchone()
        if row is not None:
            head = (int(row[0]), str(row[1]))
    return counts, head


# --- PostgreSQL tools ---------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_args(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    args = []
    if settings_dict.get("HOST"):
        args += ["-h", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["-p", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["-U", str(settings_dict["USER"])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    # S603: pg_dump or pg_restore (found by shutil.which) with arguments built here; no shell.
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


# --- backup -------------------------------------------------------------------------------------


def backup(path: Path, *, alias: str = DEFAULT_DB_ALIAS, now: dt.datetime) -> Manifest:
    """Write the database of ``alias`` to ``path`` and its manifest beside it."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} exists already; a backup never overwrites a file")
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = connections[alias]
    vendor = connection.vendor
    try:
        if vendor == "postgresql":
            counts, head = _backup_postgresql(path, alias)
        elif vendor == "sqlite":
            counts, head = _backup_sqlite(path, alias)
        else:
            raise BackupError(f"backup is not written for the {vendor} database")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    manifest = Manifest(
        vendor=vendor,
        created_at=now.isoformat(),
        file=path.name,
        size=path.stat().st_size,
        sha256=file_sha256(path),
        audit_sequence=head[0],
        audit_hash=head[1],
        counts=counts,
    )
    manifest_path(path).write_text(manifest.to_json() + "\n", encoding="utf-8")
    return manifest


def _backup_postgresql(path: Path, alias: str) -> tuple[dict, tuple]:
    pg_dump = _pg_tool("pg_dump")
    connection = connections[alias]
    if connection.in_atomic_block:
        raise BackupError("a backup needs its own transaction (called inside one)")
    connection.ensure_connection()
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        # One snapshot for the dump, the counts and the head.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables = connection.introspection.table_names(cursor)
        counts, head = _counts_and_head(cursor, connection, tables)
        args, env = _pg_args(connection.settings_dict)
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={path}",
                *args,
                "--dbname",
                str(connection.settings_dict["NAME"]),
            ],
            env,
        )
    return counts, head


def _backup_sqlite(path: Path, alias: str) -> tuple[dict, tuple]:
    connection = connections[alias]
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
        return _sqlite_counts_and_head(target)
    finally:
        target.close()


# --- restore ------------------------------------------------------------------------------------


def check_file(path: Path) -> Manifest:
    """The manifest of ``path``, after checking the file's size and SHA-256 against it."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    manifest = Manifest.load(manifest_path(path))
    if path.stat().st_size != manifest.size or file_sha256(path) != manifest.sha256:
        raise BackupError(f"{path} does not match its manifest (damaged or replaced)")
    return manifest


def restore(path: Path, *, alias: str = DEFAULT_DB_ALIAS) -> Manifest:
    """Restore ``path`` into the empty database of ``alias`` and verify it (see module doc)."""
    path = Path(path)
    manifest = check_file(path)
    connection = connections[alias]
    if connection.vendor != manifest.vendor:
        raise BackupError(
            f"the backup is of a {manifest.vendor} database; the target is {connection.vendor}"
        )
    if connection.vendor == "postgresql":
        _require_empty(alias)
        connection.close()
        args, env = _pg_args(connection.settings_dict)
        _run(
            [
                _pg_tool("pg_restore"),
                "--exit-on-error",
                "--single-transaction",
                *args,
                "--dbname",
                str(connection.settings_dict["NAME"]),
                str(path),
            ],
            env,
        )
    elif connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        if connection.is_in_memory_db():
            raise BackupError("restore into a database file, not an in-memory database")
        if Path(name).exists():
            _require_empty(alias)
        connection.close()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(name)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        raise BackupError(f"restore is not written for the {connection.vendor} database")
    verify_restored(manifest, alias=alias)
    return manifest


def _require_empty(alias: str) -> None:
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if tables:
        raise BackupError(
            f"the target database is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}); "
            "restore only into a new, empty database"
        )


def verify_restored(manifest: Manifest, *, alias: str = DEFAULT_DB_ALIAS) -> None:
    """Compare the database of ``alias`` with ``manifest``; verify the whole audit chain."""
    from jifen.audit.chain import verify_chain
    from jifen.audit.models import AuditEntry

    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts, head = _counts_and_head(cursor, connection, tables)
    problems = []
    for table in sorted(set(manifest.counts) | set(counts)):
        expected, found = manifest.counts.get(table), counts.get(table)
        if expected != found:
            problems.append(f"{table}: {found} rows, the backup had {expected}")
    if head != (manifest.audit_sequence, manifest.audit_hash):
        problems.append(
            f"audit head #{head[0]} {head[1]}, the backup had "
            f"#{manifest.audit_sequence} {manifest.audit_hash}"
        )
    if AUDIT_TABLE in tables:
        report = verify_chain(AuditEntry.objects.using(alias))
        if not report.ok:
            problems.append(str(report))
    if problems:
        raise BackupError("the restored database does not match the backup: " + "; ".join(problems))
