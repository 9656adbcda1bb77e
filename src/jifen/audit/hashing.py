"""The canonical form of an audit entry and its SHA-256 hash.

One function, :func:`compute_entry_hash`, serves both the writer and the verifier, so the two
can never disagree about what is hashed. The hash covers every stored field except ``id``
(assigned by the database after the hash is known; ``sequence`` is the chain order) and
``entry_hash`` itself. ``previous_hash`` is covered, which is what chains the entries.

Only values that survive a round trip through both databases unchanged may enter the hash:
``data`` is restricted to JSON without floats (see :func:`check_json_data`), times are
stored in UTC with microseconds, and addresses are normalised before they are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Protocol

#: ``previous_hash`` of the first entry of the chain.
GENESIS_HASH = "0" * 64

#: The fields in the canonical form, in the order of the model (the JSON keys are sorted).
HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "action",
    "actor_kind",
    "actor_id",
    "actor_unit",
    "object_type",
    "object_id",
    "result",
    "source_address",
    "request_id",
    "data",
    "previous_hash",
)


class HashableEntry(Protocol):
    """What :func:`compute_entry_hash` reads: an ``AuditEntry``, saved or not."""

    sequence: int
    occurred_at: dt.datetime
    action: str
    actor_kind: str
    actor_id: str
    actor_unit: str
    object_type: str
    object_id: str
    result: str
    source_address: str | None
    request_id: str
    data: Any
    previous_hash: str


def canonical_time(value: dt.datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. ``2025-03-01T02:03:04.000005+00:00``."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"occurred_at must be an aware datetime, not {value!r}")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_json(entry: HashableEntry) -> bytes:
    """The bytes that are hashed: sorted keys, no whitespace, UTF-8 (not ASCII-escaped)."""
    payload: dict[str, Any] = {name: getattr(entry, name) for name in HASHED_FIELDS}
    payload["sequence"] = int(payload["sequence"])
    payload["occurred_at"] = canonical_time(entry.occurred_at)
    # Choice fields may hold enum members; hash their plain string value.
    payload["actor_kind"] = str(entry.actor_kind)
    payload["result"] = str(entry.result)
    text = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def compute_entry_hash(entry: HashableEntry) -> str:
    """SHA-256 (hex) of the canonical form of ``entry``: used to write and to verify."""
    return hashlib.sha256(canonical_json(entry)).hexdigest()


def check_json_data(value: Any, path: str = "data") -> None:
    """Refuse what would not hash the same after a round trip through the database.

    Allowed: dicts with string keys, lists, strings, integers, booleans and None. Floats are
    refused because PostgreSQL's jsonb keeps numbers as decimals (``1e16`` comes back as the
    integer ``10000000000000000``), so their hash would change; use integers (points in
    hundredths) or strings. NUL characters are refused because PostgreSQL cannot store them.
    Raises ``ValueError`` naming the path of the first offending value.
    """
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path}: NUL characters cannot be stored")
        return
    if isinstance(value, float):
        raise ValueError(f"{path}: floats are not allowed (use an integer or a string)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings, not {type(key).__name__}")
            check_json_data(key, f"{path} key {key!r}")
            check_json_data(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_json_data(item, f"{path}[{index}]")
        return
    raise ValueError(f"{path}: {type(value).__name__} is not JSON data")
