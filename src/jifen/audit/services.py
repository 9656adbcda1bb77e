"""Writing the audit log: :func:`record`, the only way an entry is created."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.http import HttpRequest
from django.utils.ipv6 import clean_ipv6_address

from jifen.audit import chain, locking
from jifen.audit.actors import Actor
from jifen.audit.choices import Result
from jifen.audit.errors import AuditWriteError, InvalidAuditEntry, MissingActor
from jifen.audit.hashing import GENESIS_HASH, canonical_time, check_json_data, compute_entry_hash
from jifen.audit.models import AuditEntry

#: A request id we accept from a proxy header: short and free of control characters.
REQUEST_ID_PATTERN = re.compile(r"\A[A-Za-z0-9._:\-]{1,100}\Z")


def record(
    action: str,
    *,
    actor: Actor,
    occurred_at: dt.datetime,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    result: Result | str = Result.SUCCESS,
    data: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    source_address: str | None = None,
    request_id: str | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> AuditEntry:
    """Append one entry to the audit log, inside the caller's transaction.

    ``action`` is a namespaced code (``claim.materials_requested``); ``actor`` says who
    acted (:meth:`Actor.for_user` or :meth:`Actor.system`); the object is either ``obj``
    (a saved model instance: its ``app_label.model`` and primary key) or ``object_type``
    and ``object_id``. ``occurred_at`` must be an aware datetime; it is stored in UTC.
    ``request`` supplies the source address (``REMOTE_ADDR``) and request id
    (``request.request_id`` set by middleware, else the ``X-Request-ID`` header set by the
    proxy); explicit ``source_address`` and ``request_id`` take precedence.

    ``data`` must be JSON without floats and must not hold personal data in clear: the log
    is kept for years and read by auditors. Refer to residents and documents by id.

    Runs in a savepoint of the caller's transaction and holds the chain lock until that
    transaction ends, so call it as the last database step. Every failure raises
    (``MissingActor``, ``InvalidAuditEntry``, a database error ...): the caller's
    transaction must roll back, because an action that cannot be audited must not happen.
    """
    if actor is None:
        raise MissingActor("an audit entry needs an actor (Actor.for_user or Actor.system)")
    if not isinstance(actor, Actor):
        raise MissingActor(f"actor must be an Actor, not {type(actor).__name__}")
    object_type, object_id = _object_reference(obj, object_type, object_id)
    if request is not None:
        if source_address is None:
            source_address = request.META.get("REMOTE_ADDR") or None
        if request_id is None:
            request_id = _request_id_of(request)

    entry = AuditEntry(
        occurred_at=occurred_at,
        action=action,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_unit=actor.unit,
        object_type=object_type,
        object_id=object_id,
        result=result,
        source_address=source_address,
        request_id=request_id or "",
        data={} if data is None else data,
    )
    _validate(entry)

    with transaction.atomic(using=using):
        locking.lock_chain(using)
        head_sequence, head_hash = chain.chain_head(using)
        entry.sequence = head_sequence + 1
        entry.previous_hash = head_hash
        entry.entry_hash = compute_entry_hash(entry)
        entry.save(using=using)
        # Read the row back: an entry that would not verify must never be committed.
        stored = AuditEntry.objects.using(using).get(pk=entry.pk)
        if compute_entry_hash(stored) != entry.entry_hash:
            raise AuditWriteError(
                f"audit entry #{entry.sequence} does not reproduce its hash after storing"
            )
    return entry


def _object_reference(
    obj: models.Model | None, object_type: str | None, object_id: str | int | None
) -> tuple[str, str]:
    if obj is None:
        return object_type or "", "" if object_id is None else str(object_id)
    if object_type is not None or object_id is not None:
        raise InvalidAuditEntry({"obj": ["give obj, or object_type and object_id, not both"]})
    if obj.pk is None:
        raise InvalidAuditEntry({"obj": ["the object must be saved before it is audited"]})
    return obj._meta.label_lower, str(obj.pk)


def _request_id_of(request: HttpRequest) -> str:
    candidate = getattr(request, "request_id", None) or request.META.get("HTTP_X_REQUEST_ID")
    # The header comes from outside: drop anything that is not a plain identifier.
    if isinstance(candidate, str) and REQUEST_ID_PATTERN.match(candidate):
        return candidate
    return ""


def _normalise_address(value: str) -> str:
    """The form both databases give back, so the hash survives the round trip."""
    if ":" in value:
        return clean_ipv6_address(value, unpack_ipv4=True)
    return str(ipaddress.IPv4Address(value))


def _validate(entry: AuditEntry) -> None:
    """Check every field before the chain is locked; raise ``InvalidAuditEntry``."""
    errors: dict[str, list[str]] = {}
    try:
        canonical_time(entry.occurred_at)
        entry.occurred_at = entry.occurred_at.astimezone(dt.UTC)
    except ValueError as exc:
        errors["occurred_at"] = [str(exc)]
    try:
        check_json_data(entry.data)
        # Tuples become lists here, exactly as they come back from the database.
        entry.data = json.loads(json.dumps(entry.data, ensure_ascii=False))
    except (ValueError, TypeError) as exc:
        errors["data"] = [str(exc)]
    if entry.source_address:
        try:
            entry.source_address = _normalise_address(str(entry.source_address))
        except ValueError:
            errors["source_address"] = [f"{entry.source_address!r} is not an IP address"]
    try:
        entry.result = Result(entry.result)
    except ValueError:
        errors["result"] = [f"{entry.result!r} is not one of {', '.join(Result.values)}"]
    try:
        # Placeholders for the chain fields, which are set under the lock.
        entry.sequence, entry.previous_hash, entry.entry_hash = 1, GENESIS_HASH, GENESIS_HASH
        entry.full_clean(
            exclude=[*errors, "sequence", "previous_hash", "entry_hash"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        errors.update({field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()})
    if errors:
        raise InvalidAuditEntry(errors)
