"""Reading and verifying the hash chain."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet

from jifen.audit.hashing import GENESIS_HASH, compute_entry_hash
from jifen.audit.models import AuditEntry

#: Entries fetched per round trip while verifying; keeps memory flat on long chains.
VERIFY_CHUNK_SIZE = 2000


def chain_head(using: str = DEFAULT_DB_ALIAS) -> tuple[int, str]:
    """``(sequence, entry_hash)`` of the last entry, or ``(0, GENESIS_HASH)`` when empty.

    Only meaningful to a writer while it holds :func:`jifen.audit.locking.lock_chain`.
    """
    head = (
        AuditEntry.objects.using(using)
        .order_by("-sequence")
        .values_list("sequence", "entry_hash")
        .first()
    )
    return head if head is not None else (0, GENESIS_HASH)


class ChainProblem(enum.StrEnum):
    """What is wrong at the first broken position of the chain."""

    #: The stored fields do not reproduce the stored hash: the entry was edited.
    CONTENT_CHANGED = "content_changed"
    #: A sequence number is missing: an entry was deleted.
    MISSING_ENTRY = "missing_entry"
    #: ``previous_hash`` is not the hash of the entry before: entries were replaced,
    #: re-hashed or reordered.
    LINK_BROKEN = "link_broken"


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`.

    ``checked`` counts the entries that verified; ``last_sequence`` and ``last_hash`` are
    those of the last one (the head when the chain is intact, which is worth keeping
    outside the database: deleting entries at the very end leaves no gap to detect).
    """

    ok: bool
    checked: int
    last_sequence: int | None
    last_hash: str | None
    broken_sequence: int | None = None
    problem: ChainProblem | None = None
    detail: str = ""

    def __str__(self) -> str:
        verified = f"{self.checked} {'entry' if self.checked == 1 else 'entries'} verified"
        if self.ok:
            if not self.checked:
                return "audit chain OK: no entries"
            return f"audit chain OK: {verified}, head #{self.last_sequence} sha256 {self.last_hash}"
        return (
            f"audit chain BROKEN at entry #{self.broken_sequence}: {self.problem} "
            f"({self.detail}); {verified} before it"
        )


def _predecessor_hash(queryset: QuerySet, sequence: int) -> tuple[int, str | None]:
    """Where a verified range starts: ``(expected_sequence, expected_previous_hash)``.

    When entries before ``sequence`` are missing, ``expected_sequence`` is the first
    missing one (so the caller reports the gap) and the hash is None.
    """
    if sequence == 1:
        return 1, GENESIS_HASH
    before = AuditEntry.objects.using(queryset.db).filter(sequence__lt=sequence)
    previous = before.order_by("-sequence").values_list("sequence", "entry_hash").first()
    if previous is None:
        return 1, None
    if previous[0] != sequence - 1:
        return previous[0] + 1, None
    return sequence, previous[1]


def verify_chain(queryset: QuerySet | None = None) -> ChainReport:
    """Recompute every hash in sequence order; report the first broken position.

    Without ``queryset`` the whole chain is verified. With one, it must select a
    contiguous range of sequences (``AuditEntry.objects.filter(sequence__gte=n)``); the
    link into the range is checked against the entry before it. Stops at the first problem.
    """
    entries = (AuditEntry.objects.all() if queryset is None else queryset).order_by("sequence")
    checked = 0
    last: AuditEntry | None = None
    expected_sequence: int | None = None
    expected_previous: str | None = None

    def broken(sequence: int, problem: ChainProblem, detail: str) -> ChainReport:
        return ChainReport(
            ok=False,
            checked=checked,
            last_sequence=last.sequence if last else None,
            last_hash=last.entry_hash if last else None,
            broken_sequence=sequence,
            problem=problem,
            detail=detail,
        )

    for entry in entries.iterator(chunk_size=VERIFY_CHUNK_SIZE):
        if expected_sequence is None:
            expected_sequence, expected_previous = _predecessor_hash(entries, entry.sequence)
        if entry.sequence != expected_sequence:
            return broken(
                expected_sequence,
                ChainProblem.MISSING_ENTRY,
                f"entry #{expected_sequence} is missing; the next entry is #{entry.sequence}",
            )
        recomputed = compute_entry_hash(entry)
        if recomputed != entry.entry_hash:
            return broken(
                entry.sequence,
                ChainProblem.CONTENT_CHANGED,
                f"stored hash {entry.entry_hash}, recomputed {recomputed}",
            )
        if entry.previous_hash != expected_previous:
            return broken(
                entry.sequence,
                ChainProblem.LINK_BROKEN,
                f"previous_hash {entry.previous_hash}, "
                f"but entry #{entry.sequence - 1} hashes to {expected_previous}",
            )
        checked += 1
        last = entry
        expected_sequence = entry.sequence + 1
        expected_previous = entry.entry_hash

    return ChainReport(
        ok=True,
        checked=checked,
        last_sequence=last.sequence if last else None,
        last_hash=last.entry_hash if last else None,
    )
