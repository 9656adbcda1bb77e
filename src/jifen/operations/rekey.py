"""Re-encrypting the stored personal numbers under the current field key version.

Rotation (docs/operations.md "Key rotation"): add a new version to ``JIFEN_FIELD_KEYS``, make it
``JIFEN_FIELD_KEY_CURRENT`` (new values are written with it at once, old tokens still decrypt
with their own version), run ``jifen rekey`` to re-encrypt every token made with another
version, check with ``jifen rekey --check`` that none is left, and only then remove the old
version from the configuration.

Each batch of rows is locked, rotated and saved in its own transaction, so the command can be
interrupted and run again (it only touches tokens that still need it) while the platform runs.
The blind indexes do not change (their key is separate and not versioned).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from jifen.audit.actors import Actor
from jifen.audit.services import record

ACTOR = Actor.system("command:rekey")
BATCH = 500


@dataclass(frozen=True)
class Target:
    """One encrypted column: model, token attribute, the ``field`` bound in the token."""

    label: str
    model: Callable
    attribute: str
    field: str
    table: str


def targets() -> list[Target]:
    from jifen.residents.models import ResidencePermit, Resident

    return [
        Target(
            "residents.Resident.identity_number",
            Resident,
            "identity_number_token",
            "identity_number",
            "residents_resident",
        ),
        Target("residents.Resident.phone", Resident, "phone_token", "phone", "residents_resident"),
        Target(
            "residents.ResidencePermit.number",
            ResidencePermit,
            "number_token",
            "number",
            "residents_residencepermit",
        ),
    ]


def _stale(target: Target, current: int):
    """Rows of ``target`` whose token was made with another version than ``current``."""
    column = target.attribute
    return (
        target.model.objects.exclude(**{column: ""})
        .exclude(**{f"{column}__startswith": f"v{current}:"})
        .order_by("pk")
    )


def remaining() -> dict[str, int]:
    """Tokens still made with another key version than the current one, per column."""
    from jifen.residents.pii import field_cipher

    current = field_cipher().keyring.current
    return {target.label: _stale(target, current).count() for target in targets()}


def rekey(*, now: dt.datetime, batch: int = BATCH) -> dict[str, int]:
    """Re-encrypt every token not made with the current version; returns counts per column.

    Audited per batch, in the batch's transaction (``crypto.rekeyed``: the column, the number
    of rows, the new version; never a value).
    """
    from jifen.residents.pii import field_cipher

    cipher = field_cipher()
    current = cipher.keyring.current
    done: dict[str, int] = {}
    for target in targets():
        count = 0
        while True:
            with transaction.atomic():
                rows = list(_stale(target, current).select_for_update()[:batch])
                if not rows:
                    break
                for row in rows:
                    token = getattr(row, target.attribute)
                    setattr(
                        row,
                        target.attribute,
                        cipher.rotate(
                            token, table=target.table, row=str(row.pk), field=target.field
                        ),
                    )
                target.model.objects.bulk_update(rows, [target.attribute])
                record(
                    "crypto.rekeyed",
                    actor=ACTOR,
                    occurred_at=now,
                    object_type="crypto.column",
                    object_id=target.label,
                    data={"rows": len(rows), "key_version": current},
                )
                count += len(rows)
        done[target.label] = count
    return done
