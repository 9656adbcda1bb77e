"""Writing the fact store: :func:`apply_fact` (one fact) and :func:`apply_facts` (a batch with
the same outcomes, in a few queries per thousand facts), the only ways a fact is recorded.

Facts are never edited in place. A new value for a key the resident already has supersedes the
current fact (``superseded_at`` / ``superseded_by``), so the history stays queryable; the same
value again changes nothing. The caller records the business action in the audit log (the
feed batch, the claim approval): a fact carries its own source (``batch``, ``source_ref``), and
one entry per fact would flood the log with a million-row batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from jifen.facts.errors import InvalidFact
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.feeds.models import FeedBatch
from jifen.org.models import Department
from jifen.residents.models import Resident

ACCEPTED = "accepted"
UNCHANGED = "unchanged"
SUPERSEDED = "superseded"
#: The outcomes of :func:`apply_fact`, also the outcomes counted in a feed batch report.
OUTCOMES = (ACCEPTED, UNCHANGED, SUPERSEDED)

#: What makes two facts "the same fact with the same value". Department, source and batch are
#: provenance, not value: the same value confirmed by a later batch stays the original fact.
VALUE_FIELDS = ("kind", "code", "level", "quantity", "date", "until", "act")

#: Each failed attempt means another writer committed a fact of this key; give up after this
#: many (a key written by that many writers at once is a fault, not a race).
MAX_ATTEMPTS = 10
#: Facts written per round trip by :func:`apply_facts`.
BULK_CHUNK = 500
_HUNDREDTH = Decimal("0.01")
#: The column holds 14 digits with 2 decimals.
_MAX_QUANTITY = Decimal("999999999999.99")


def apply_fact(
    resident: Resident,
    *,
    kind: str,
    code: str,
    key: str,
    level: str = "",
    quantity: Decimal | int | None = None,
    date: dt.date | None = None,
    until: dt.date | None = None,
    act: str = "",
    department: Department,
    source: str,
    batch: FeedBatch | None = None,
    source_ref: str = "",
    now: dt.datetime,
) -> str:
    """Record one fact about ``resident``; returns ``"accepted"``, ``"unchanged"`` or
    ``"superseded"``.

    ``key`` names "the same fact" (``education``, ``skills:title_junior``,
    ``hrss:CT-2023-118``). When the resident has a current fact with that key: identical
    values (:data:`VALUE_FIELDS`) → ``"unchanged"`` and nothing is written; different values →
    the current fact is superseded by a new one → ``"superseded"``. Without a current fact the
    new one is ``"accepted"``. Raises :class:`InvalidFact` for values the store refuses.

    The current fact is locked (``select_for_update``) while it is compared and replaced.
    Writers that found no current fact (or one a concurrent writer superseded meanwhile) are
    ordered by the unique constraint on current facts: the loser rolls back to a savepoint and
    compares with the winner's fact.
    """
    values = _clean_values(
        kind=kind,
        code=code,
        key=key,
        level=level,
        quantity=quantity,
        date=date,
        until=until,
        act=act,
        source=source,
        now=now,
    )
    # No savepoint of its own: nothing below fails except the insert, which has one.
    with transaction.atomic(savepoint=False):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # Ordered by pk only: the model's default ordering joins the resident, and FOR UPDATE
            # would then lock the resident's row too (and deadlock two writers).
            current = (
                Fact.objects.select_for_update(of=("self",))
                .filter(resident=resident, key=key, superseded_at__isnull=True)
                .order_by("pk")
                .first()
            )
            if current is not None and _same_value(current, values):
                return UNCHANGED
            try:
                # A savepoint: when a concurrent writer committed a new current fact for this
                # key meanwhile, the insert fails on the unique constraint; roll back to here
                # and compare with that fact instead.
                with transaction.atomic():
                    return _write(
                        resident, current, values, department, source, batch, source_ref, now
                    )
            except IntegrityError:
                if attempt == MAX_ATTEMPTS:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class NewFact:
    """One fact for :func:`apply_facts`: the arguments of :func:`apply_fact` but ``now`` and
    ``batch``, which the whole call shares."""

    resident: Resident
    kind: str
    code: str
    key: str
    department: Department
    source: str
    level: str = ""
    quantity: Decimal | int | None = None
    date: dt.date | None = None
    until: dt.date | None = None
    act: str = ""
    source_ref: str = ""


def apply_facts(
    facts: Sequence[NewFact], *, batch: FeedBatch | None = None, now: dt.datetime
) -> list[str]:
    """Record many facts at once; returns the outcome of each, in order.

    Each fact gets exactly the outcome :func:`apply_fact` would give it (``"accepted"``,
    ``"unchanged"``, ``"superseded"``) and the same rows are written, but in a few queries per
    :data:`BULK_CHUNK` facts. The ``(resident, key)`` pairs must be distinct (one fact per key
    and call). Every fact is checked before anything is written: :class:`InvalidFact` names
    the first refused one in ``index`` and nothing is written. The whole call is atomic.
    """
    cleaned = []
    pairs: set[tuple] = set()
    for index, fact in enumerate(facts):
        try:
            values = _clean_values(
                kind=fact.kind,
                code=fact.code,
                key=fact.key,
                level=fact.level,
                quantity=fact.quantity,
                date=fact.date,
                until=fact.until,
                act=fact.act,
                source=fact.source,
                now=now,
            )
            pair = (fact.resident.pk, fact.key)
            if pair in pairs:
                raise InvalidFact(_("A key is given twice for one resident."), field="key")
        except InvalidFact as exc:
            exc.index = index
            raise
        pairs.add(pair)
        cleaned.append((fact, values))
    outcomes: list[str] = []
    with transaction.atomic():
        for start in range(0, len(cleaned), BULK_CHUNK):
            chunk = cleaned[start : start + BULK_CHUNK]
            try:
                with transaction.atomic():
                    outcomes.extend(_apply_chunk(chunk, batch, now))
            except IntegrityError:
                # A concurrent writer committed a current fact for one of these keys after
                # they were read: redo this chunk one fact at a time, each with its retry.
                outcomes.extend(
                    apply_fact(
                        fact.resident,
                        **values,
                        department=fact.department,
                        source=fact.source,
                        batch=batch,
                        source_ref=fact.source_ref,
                        now=now,
                    )
                    for fact, values in chunk
                )
    return outcomes


def _apply_chunk(
    chunk: list[tuple[NewFact, dict]], batch: FeedBatch | None, now: dt.datetime
) -> list[str]:
    currents = {
        (f.resident_id, f.key): f
        for f in Fact.objects.select_for_update(of=("self",))
        .filter(
            resident_id__in={fact.resident.pk for fact, _ in chunk},
            key__in={fact.key for fact, _ in chunk},
            superseded_at__isnull=True,
        )
        .order_by("pk")
        .only("pk", "resident_id", "key", *VALUE_FIELDS)
    }
    outcomes: list[str] = []
    created: list[Fact] = []
    replaced: list[Fact] = []
    for fact, values in chunk:
        current = currents.get((fact.resident.pk, fact.key))
        if current is not None and _same_value(current, values):
            outcomes.append(UNCHANGED)
            continue
        new = Fact(
            resident=fact.resident,
            department=fact.department,
            source=fact.source,
            batch=batch,
            source_ref=fact.source_ref,
            recorded_at=now,
            **values,
        )
        created.append(new)
        if current is None:
            outcomes.append(ACCEPTED)
        else:
            replaced.append(current)
            outcomes.append(SUPERSEDED)
    if replaced:
        # Free the "one current fact per key" slots first; the links follow the insert.
        Fact.objects.filter(pk__in=[old.pk for old in replaced]).update(superseded_at=now)
    Fact.objects.bulk_create(created)
    if replaced:
        # Each replaced fact points at the new current fact of its key (one per key, by the
        # constraint): one statement instead of a CASE per row.
        successor = Fact.objects.filter(
            resident_id=OuterRef("resident_id"), key=OuterRef("key"), superseded_at__isnull=True
        ).values("pk")[:1]
        Fact.objects.filter(pk__in=[old.pk for old in replaced]).update(
            superseded_by=Subquery(successor)
        )
    return outcomes


def _write(
    resident: Resident,
    current: Fact | None,
    values: dict,
    department: Department,
    source: str,
    batch: FeedBatch | None,
    source_ref: str,
    now: dt.datetime,
) -> str:
    if current is not None:
        # Free the "one current fact per key" slot first; the link follows the insert.
        current.superseded_at = now
        current.save(update_fields=["superseded_at"])
    fact = Fact.objects.create(
        resident=resident,
        department=department,
        source=source,
        batch=batch,
        source_ref=source_ref,
        recorded_at=now,
        **values,
    )
    if current is None:
        return ACCEPTED
    Fact.objects.filter(pk=current.pk).update(superseded_by=fact)
    current.superseded_by = fact
    return SUPERSEDED


def _same_value(fact: Fact, values: dict) -> bool:
    for name in VALUE_FIELDS:
        stored = getattr(fact, name)
        wanted = values[name]
        if name == "quantity" and stored is not None and wanted is not None:
            if Decimal(stored) != wanted:
                return False
        elif stored != wanted:
            return False
    return True


def _clean_values(
    *,
    kind: str,
    code: str,
    key: str,
    level: str,
    quantity: Decimal | int | None,
    date: dt.date | None,
    until: dt.date | None,
    act: str,
    source: str,
    now: dt.datetime,
) -> dict:
    if kind not in FactKind.values:
        raise InvalidFact(_("Unknown fact kind."), field="kind")
    if source not in FactSource.values:
        raise InvalidFact(_("Unknown fact source."), field="source")
    if not code or len(code) > Fact._meta.get_field("code").max_length:
        raise InvalidFact(_("A fact needs a rule or field code."), field="code")
    if not key or len(key) > Fact._meta.get_field("key").max_length:
        raise InvalidFact(_("A fact needs a key of at most 120 characters."), field="key")
    if len(level) > Fact._meta.get_field("level").max_length:
        raise InvalidFact(_("The level code is too long."), field="level")
    if len(act) > Fact._meta.get_field("act").max_length:
        raise InvalidFact(_("The act identifier is too long."), field="act")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidFact(_("The time of recording must be timezone-aware."), field="now")
    if quantity is not None:
        if isinstance(quantity, bool) or not isinstance(quantity, int | Decimal):
            raise InvalidFact(_("The quantity must be a number."), field="quantity")
        try:
            quantity = Decimal(quantity)
            exact = quantity.is_finite() and quantity == quantity.quantize(_HUNDREDTH)
        except InvalidOperation:
            exact = False
        if not exact:
            raise InvalidFact(
                _("The quantity must be a number with at most two decimal places."),
                field="quantity",
            )
        if quantity < 0:
            raise InvalidFact(_("The quantity must not be negative."), field="quantity")
        if quantity > _MAX_QUANTITY:
            raise InvalidFact(_("The quantity is too large."), field="quantity")
    for name, value in (("date", date), ("until", until)):
        if value is not None and (isinstance(value, dt.datetime) or not isinstance(value, dt.date)):
            raise InvalidFact(_("Dates must be calendar dates."), field=name)
    if until is not None and date is not None and until < date:
        raise InvalidFact(_("The end of a listing cannot be before its start."), field="until")
    return {
        "kind": kind,
        "code": code,
        "key": key,
        "level": level,
        "quantity": quantity,
        "date": date,
        "until": until,
        "act": act,
    }
