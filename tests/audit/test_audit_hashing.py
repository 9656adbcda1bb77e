"""The canonical form: one function for writing and verifying, stable across releases."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import pytest

from jifen.audit.hashing import (
    GENESIS_HASH,
    canonical_json,
    canonical_time,
    check_json_data,
    compute_entry_hash,
)
from jifen.audit.models import AuditEntry


def sample_entry(**changes) -> AuditEntry:
    fields = {
        "sequence": 7,
        "occurred_at": dt.datetime(2025, 3, 1, 10, 3, 4, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
        "action": "claim.materials_requested",
        "actor_kind": "user",
        "actor_id": "42",
        "actor_unit": "wutong",
        "object_type": "claims.claim",
        "object_id": "9001",
        "result": "success",
        "source_address": "10.0.0.1",
        "request_id": "req-1",
        "data": {"items": ["身份证明", "劳动合同"], "count": 2},
        "previous_hash": GENESIS_HASH,
    }
    return AuditEntry(**{**fields, **changes})


def test_the_canonical_form_is_sorted_compact_utf8_json_with_utc_microseconds():
    text = canonical_json(sample_entry()).decode("utf-8")
    payload = json.loads(text)
    assert list(payload) == sorted(payload)
    assert ", " not in text and ": " not in text
    assert "身份证明" in text  # not \\u-escaped
    assert payload["occurred_at"] == "2025-03-01T02:03:04.000005+00:00"
    assert "id" not in payload and "entry_hash" not in payload
    assert payload["previous_hash"] == GENESIS_HASH


def test_the_hash_of_a_known_entry_never_changes():
    # Pinned: changing the canonical form would make every stored chain unverifiable.
    pinned = "ea971589e8568649704798fe3aa1888edb05312167c019c807189cf3da96bcd9"
    assert compute_entry_hash(sample_entry()) == pinned
    # The recipe an auditor can redo with nothing but the standard library.
    payload = {
        "action": "claim.materials_requested",
        "actor_id": "42",
        "actor_kind": "user",
        "actor_unit": "wutong",
        "data": {"count": 2, "items": ["身份证明", "劳动合同"]},
        "object_id": "9001",
        "object_type": "claims.claim",
        "occurred_at": "2025-03-01T02:03:04.000005+00:00",
        "previous_hash": "0" * 64,
        "request_id": "req-1",
        "result": "success",
        "sequence": 7,
        "source_address": "10.0.0.1",
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == pinned


@pytest.mark.parametrize(
    "change",
    [
        {"sequence": 8},
        {"occurred_at": dt.datetime(2025, 3, 1, 2, 3, 4, 6, tzinfo=dt.UTC)},
        {"action": "claim.approved"},
        {"actor_kind": "system"},
        {"actor_id": "43"},
        {"actor_unit": "puyuan"},
        {"object_type": "claims.evidence"},
        {"object_id": "9002"},
        {"result": "denied"},
        {"source_address": None},
        {"request_id": "req-2"},
        {"data": {"items": ["身份证明"], "count": 2}},
        {"previous_hash": "f" * 64},
    ],
    ids=lambda change: next(iter(change)),
)
def test_every_field_is_covered_by_the_hash(change):
    assert compute_entry_hash(sample_entry(**change)) != compute_entry_hash(sample_entry())


def test_the_same_moment_in_another_zone_hashes_the_same():
    utc = dt.datetime(2025, 3, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert compute_entry_hash(sample_entry(occurred_at=utc)) == compute_entry_hash(sample_entry())


def test_a_naive_time_cannot_be_hashed():
    with pytest.raises(ValueError, match="aware"):
        canonical_time(dt.datetime(2025, 3, 1, 2, 3, 4))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"points": 12.5}, "floats"),
        ({"nested": [{"x": 1e16}]}, r"data\.nested\[0\]\.x: floats"),
        ({1: "a"}, "keys must be strings"),
        ({"text": "a\x00b"}, "NUL"),
        ({"when": dt.date(2025, 1, 1)}, "date is not JSON data"),
        ({"ids": {1, 2}}, "set is not JSON data"),
    ],
)
def test_data_that_would_not_survive_the_database_is_refused(value, message):
    with pytest.raises(ValueError, match=message):
        check_json_data(value)


def test_plain_json_data_is_accepted():
    check_json_data({"a": [1, "二", True, None, {"b": -(2**70)}], "t": (1, 2)})
