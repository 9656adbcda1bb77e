"""The evidence store: a directory outside any web root, files under generated names.

A file is written to a temporary file in the store and renamed into place (never half a file
under its final name). A file written inside a transaction that rolls back is removed: the
store registers a commit hook, and when the database drops that hook (rollback of the
transaction or of the savepoint) the file is deleted.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

#: Defaults when settings.py does not name them (see /work/contract/requests-api.md).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PER_CLAIM = 20
CHUNK = 64 * 1024


def evidence_root() -> Path:
    root = getattr(settings, "JIFEN_EVIDENCE_ROOT", None)
    if root is None:
        root = Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")) / "evidence"
    return Path(root)


def max_bytes() -> int:
    return int(getattr(settings, "JIFEN_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_per_claim() -> int:
    return int(getattr(settings, "JIFEN_EVIDENCE_MAX_PER_CLAIM", DEFAULT_MAX_PER_CLAIM))


def new_storage_name() -> str:
    """A generated name: 32 hex digits, nothing of the uploader's file name."""
    return uuid.uuid4().hex


def path_of(storage_name: str) -> Path:
    if len(storage_name) < 3 or not storage_name.isalnum():
        raise ValueError(f"not a storage name: {storage_name!r}")
    return evidence_root() / storage_name[:2] / storage_name


@dataclass(frozen=True)
class Written:
    path: Path
    size: int
    sha256: str
    head: bytes


class TooLarge(Exception):
    pass


def write(chunks: Iterable[bytes], storage_name: str, *, limit: int) -> Written:
    """Write ``chunks`` under ``storage_name`` atomically; :class:`TooLarge` past ``limit``."""
    final = path_of(storage_name)
    final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, temp_name = tempfile.mkstemp(dir=final.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge
                if len(head) < 16:
                    head = (head + chunk)[:16]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, final)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return Written(final, size, digest.hexdigest(), head)


def remove(storage_name: str) -> None:
    path_of(storage_name).unlink(missing_ok=True)


class _CommitWatch:
    """The commit hook of one file: runs on commit; if dropped unrun (rollback), the file goes."""

    __slots__ = ("__weakref__", "state")

    def __init__(self, state: dict) -> None:
        self.state = state

    def __call__(self) -> None:
        self.state["committed"] = True


def _discard_unless_committed(state: dict, path: Path) -> None:
    if not state["committed"]:
        path.unlink(missing_ok=True)


def remove_on_rollback(path: Path, *, using: str | None = None) -> None:
    """Delete ``path`` if the current transaction (or savepoint) rolls back.

    Django has no rollback hook; a rollback drops the pending ``on_commit`` callbacks of the
    rolled-back block, and the finalizer of the dropped callback deletes the file. Outside a
    transaction the hook runs at once and the file stays.
    """
    state = {"committed": False}
    watch = _CommitWatch(state)
    weakref.finalize(watch, _discard_unless_committed, state, path)
    transaction.on_commit(watch, using=using)
    del watch
