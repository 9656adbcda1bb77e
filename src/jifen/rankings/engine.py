"""The ranking itself, over plain data: order, cut-off, allocation and content hash.

No Django here: :func:`rank` takes the canonical input snapshot (the JSON a frozen
:class:`~jifen.rankings.models.Ranking` stores as ``inputs``) and returns the list. Anyone with
the snapshot can run it again and must get the same list and the same hash
(:func:`content_hash`).

Order (issue 5, contract "jifen.rankings"):

1. points, highest first;
2. the scenario's tie-breaks in their configured order: ``applied_at`` earliest first,
   ``deductions_total`` lowest first, every other tie-break (``provincial_total``,
   ``city_bonus_total``, ``item:provincial.social_insurance`` …) highest first;
3. the application number, ascending: the final total order, so no two entries share a rank.

Allocation (serial dictatorship in rank order): each applicant gets the first of their
preferences that still has a free place; an applicant without preferences (or every applicant
of a scenario without preferences) gets the first quota, in the scenario's order, that is
open to them and has a free place. A quota bound to a town admits only applicants of that
town. Nobody is given a place they did not list. Everyone else is waitlisted.

Cut-off: the points and the tie-break values of the last admitted applicant (overall, and per
quota); ``cutoff_tiebreak`` names the tie-break that separated the last admitted from the first
waitlisted applicant with the same points (``None`` when points alone decided).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ALGORITHM = "jifen.rankings/1"
ADMITTED = "admitted"
WAITLISTED = "waitlisted"
#: An entry passed over by a re-allocation after its place was cancelled.
CANCELLED = "cancelled"


@contextlib.contextmanager
def no_gc():
    """Pause the cyclic garbage collector while building many small objects: its passes,
    triggered by allocation counts, otherwise cost more than the work (nothing here makes
    cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RankingInputError(ValueError):
    """The snapshot is malformed (a bug or a tampered snapshot, never user input)."""


def canonical_json(value: Any) -> bytes:
    """The canonical encoding that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


#: Tie-breaks where the lower value ranks first (as ``jifen.scenarios.content.TIE_BREAKS``).
ASCENDING = frozenset({"applied_at", "deductions_total"})


def is_ascending(tie_break: str) -> bool:
    """Timestamps (``applied_at``) rank earliest first and ``deductions_total`` lowest
    first; every other value (sub-totals, ``item:…``) highest first."""
    return tie_break in ASCENDING or is_timestamp(tie_break)


def is_timestamp(tie_break: str) -> bool:
    """Timestamps are compared as canonical UTC text (``2026-07-01T01:00:00.000000Z``)."""
    return tie_break == "applied_at" or tie_break.endswith("_at")


_PLAIN = re.compile(r"-?[0-9]+\.[0-9]{2}")


def hundredths(value: str | Decimal | int) -> int:
    """``"12.50"`` → 1250 (points are exact in hundredths)."""
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return int(value.replace(".", ""))  # the canonical form: no Decimal needed
    number = Decimal(str(value))
    scaled = number * 100
    if scaled != scaled.to_integral_value():
        raise RankingInputError(f"points with more than two decimals: {value!r}")
    return int(scaled)


def points_text(value: str | Decimal | int) -> str:
    """``"12.5"`` → ``"12.50"``; more than two decimals is refused, never rounded."""
    return f"{Decimal(hundredths(value)) / 100:.2f}"


@dataclass(frozen=True, slots=True)
class Placed:
    """One entry of the ranked list."""

    number: str
    enrollment: str
    rank: int
    points: str
    ties: tuple[str, ...]
    quota: str | None
    status: str  # admitted / waitlisted

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "rank": self.rank,
            "points": self.points,
            "ties": list(self.ties),
            "quota": self.quota,
            "status": self.status,
        }


@dataclass
class RankResult:
    entries: list[Placed]
    cutoff_points: str | None
    cutoff_tiebreak: dict[str, Any] | None
    quota_cutoffs: dict[str, dict[str, Any]]
    filled: dict[str, int]
    hash: str = ""
    inputs_hash: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What the hash covers besides the inputs."""
        return {
            "entries": [e.as_dict() for e in self.entries],
            "cutoff_points": self.cutoff_points,
            "cutoff_tiebreak": self.cutoff_tiebreak,
            "quota_cutoffs": self.quota_cutoffs,
            "filled": self.filled,
        }


# --- the snapshot ---------------------------------------------------------------------------


def make_inputs(
    *,
    scenario: str,
    version: int,
    version_hash: str,
    tie_breaks: Sequence[str],
    quotas: Sequence[Mapping[str, Any]],
    preferences: Mapping[str, Any] | None,
    entries: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The canonical snapshot: entries sorted by application number, values as strings.

    Each entry: ``number``, ``enrollment`` (id), ``score`` (id of the evaluation used),
    ``points``, ``ties`` (one value per tie-break, in order), ``preferences`` (quota keys),
    ``town`` (code, for town-bound quotas).
    """
    with no_gc():
        return _make_inputs(
            scenario, version, version_hash, tie_breaks, quotas, preferences, entries
        )


def _make_inputs(scenario, version, version_hash, tie_breaks, quotas, preferences, entries):
    tie_breaks = [str(t) for t in tie_breaks]
    timestamp = [is_timestamp(k) for k in tie_breaks]
    rows = []
    for entry in entries:
        ties = [str(v) for v in entry["ties"]]
        if len(ties) != len(tie_breaks):
            raise RankingInputError(f"{entry['number']}: one value per tie-break expected")
        rows.append(
            {
                "number": str(entry["number"]),
                "enrollment": str(entry["enrollment"]),
                "score": entry.get("score"),
                "points": points_text(entry["points"]),
                "ties": [
                    t if is_time else points_text(t)
                    for is_time, t in zip(timestamp, ties, strict=True)
                ],
                "preferences": [str(p) for p in entry.get("preferences") or ()],
                "town": entry.get("town"),
            }
        )
    rows.sort(key=lambda r: r["number"])
    for a, b in itertools.pairwise(rows):
        if a["number"] == b["number"]:
            raise RankingInputError(f"duplicate application number {a['number']}")
    return {
        "algorithm": ALGORITHM,
        "scenario": scenario,
        "version": version,
        "version_hash": version_hash,
        "tie_breaks": tie_breaks,
        "quotas": [
            {
                "key": str(q["key"]),
                "label": str(q.get("label", "")),
                "places": int(q["places"]),
                "town": q.get("town"),
            }
            for q in quotas
        ],
        "preferences": dict(preferences) if preferences else None,
        "entries": rows,
    }


# --- order, allocation, cut-off -------------------------------------------------------------


def sort_key_function(tie_breaks: Sequence[str]):
    """The sort key of an entry: points (highest first), the tie-breaks (each in its
    direction), the application number."""
    signs = [None if is_timestamp(t) else 1 if is_ascending(t) else -1 for t in tie_breaks]
    cache: dict[str, int] = {}  # few distinct point values: convert each once

    def number(value: str) -> int:
        found = cache.get(value)
        if found is None:
            found = cache[value] = hundredths(value)
        return found

    def key(row: Mapping[str, Any]) -> tuple:
        ties = [
            value if sign is None else sign * number(value)
            for sign, value in zip(signs, row["ties"], strict=True)
        ]
        return (-number(row["points"]), *ties, row["number"])

    return key


def order(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The entries in rank order (independent of the order of ``inputs["entries"]``)."""
    return sorted(inputs["entries"], key=sort_key_function(inputs["tie_breaks"]))


def allocate(
    ordered: Sequence[Mapping[str, Any]],
    quotas: Sequence[Mapping[str, Any]],
    *,
    skip: frozenset[str] = frozenset(),
) -> list[str | None]:
    """The quota key each entry of ``ordered`` gets (``None``: waitlisted).

    Entries whose number is in ``skip`` (cancelled places) take nothing and are passed over.
    """
    free = {q["key"]: int(q["places"]) for q in quotas}
    town_of = {q["key"]: q.get("town") for q in quotas}
    keys = [q["key"] for q in quotas]
    result: list[str | None] = []
    for row in ordered:
        if row["number"] in skip:
            result.append(None)
            continue
        wanted = row.get("preferences") or keys
        town = row.get("town")
        got = None
        for key in wanted:
            if free.get(key, 0) > 0 and (town_of[key] is None or town_of[key] == town):
                got = key
                free[key] -= 1
                break
        result.append(got)
    return result


def rank(inputs: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> RankResult:
    """Order, allocate and cut off; ``result.hash`` is the content hash of the list."""
    with no_gc():
        return _rank(inputs, skip)


def _rank(inputs: Mapping[str, Any], skip: frozenset[str]) -> RankResult:
    if inputs.get("algorithm") != ALGORITHM:
        raise RankingInputError(f"unknown algorithm {inputs.get('algorithm')!r}")
    tie_breaks = list(inputs["tie_breaks"])
    quotas = list(inputs["quotas"])
    known = {q["key"] for q in quotas}
    ordered = order(inputs)
    for row in ordered:
        unknown = [p for p in row.get("preferences") or () if p not in known]
        if unknown:
            raise RankingInputError(f"{row['number']}: unknown quota {unknown[0]!r}")
    allocation = allocate(ordered, quotas, skip=skip)
    entries = [
        Placed(
            number=row["number"],
            enrollment=row["enrollment"],
            rank=i,
            points=row["points"],
            ties=tuple(row["ties"]),
            quota=quota,
            status=_status(quota, row["number"] in skip),
        )
        for i, (row, quota) in enumerate(zip(ordered, allocation, strict=True), 1)
    ]
    result = RankResult(
        entries=entries,
        cutoff_points=None,
        cutoff_tiebreak=None,
        quota_cutoffs={},
        filled={q["key"]: 0 for q in quotas},
    )
    last_admitted: Placed | None = None
    for entry in entries:
        if entry.quota is None:
            continue
        last_admitted = entry
        result.filled[entry.quota] += 1
        result.quota_cutoffs[entry.quota] = _cutoff(entry, tie_breaks)
    if last_admitted is not None:
        result.cutoff_points = last_admitted.points
        result.cutoff_tiebreak = _deciding_tiebreak(last_admitted, entries, tie_breaks)
    result.inputs_hash = sha256(inputs)
    result.hash = content_hash(result.inputs_hash, result)
    return result


def _status(quota: str | None, skipped: bool) -> str:
    if quota is not None:
        return ADMITTED
    return CANCELLED if skipped else WAITLISTED


def _cutoff(entry: Placed, tie_breaks: Sequence[str]) -> dict[str, Any]:
    return {
        "points": entry.points,
        "rank": entry.rank,
        "number": entry.number,
        "ties": dict(zip(tie_breaks, entry.ties, strict=True)),
    }


def _deciding_tiebreak(
    last: Placed, entries: Sequence[Placed], tie_breaks: Sequence[str]
) -> dict[str, Any]:
    """The cut-off tie-break: the values of the last admitted applicant and, against the
    first waitlisted applicant ranked below with the same points, the tie-break that
    decided (``number`` when every tie-break was equal)."""
    values = dict(zip(tie_breaks, last.ties, strict=True))
    decided_by = None
    value = None
    for other in entries[last.rank :]:
        if other.status != WAITLISTED:
            continue
        if other.points == last.points:
            decided_by, value = "number", last.number
            for key, mine, theirs in zip(tie_breaks, last.ties, other.ties, strict=True):
                if mine != theirs:
                    decided_by, value = key, mine
                    break
        break
    return {"key": decided_by, "value": value, "values": values}


def content_hash(inputs_hash: str, result: RankResult) -> str:
    """SHA-256 over the snapshot's hash, the cut-offs and the list, one line per entry::

    jifen.rankings/1\n<inputs hash>\n<canonical JSON of cut-offs and filled places>\n
    <rank>\t<number>\t<points>\t<quota or ->\t<status>\n   (per entry, in rank order)
    """
    digest = hashlib.sha256()
    head = {
        "cutoff_points": result.cutoff_points,
        "cutoff_tiebreak": result.cutoff_tiebreak,
        "quota_cutoffs": result.quota_cutoffs,
        "filled": result.filled,
    }
    digest.update(f"{ALGORITHM}\n{inputs_hash}\n".encode())
    digest.update(canonical_json(head) + b"\n")
    lines = [
        f"{e.rank}\t{e.number}\t{e.points}\t{e.quota or '-'}\t{e.status}\n" for e in result.entries
    ]
    digest.update("".join(lines).encode())
    return digest.hexdigest()
