"""Department API tokens: created once (printed once), stored as SHA-256 only, revocable.

Tokens are 256 random bits (``secrets``), so an unsalted SHA-256 is enough to make a stolen
table useless; a prefix (``jft_``) lets secret scanners recognise a leaked token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.db import transaction

from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.feeds.models import DepartmentToken
from jifen.org.models import Department

TOKEN_PREFIX = "jft_"  # noqa: S105 - a public prefix, not a secret
#: Longest token we bother hashing; anything longer is not one of ours.
MAX_TOKEN_LENGTH = 200


def hash_token(raw: str) -> str:
    """The stored form of a token: SHA-256 in hex."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    department: Department, *, label: str, now: dt.datetime, actor: Actor
) -> tuple[DepartmentToken, str]:
    """A new token for ``department``; returns the row and the raw token (shown once)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    label = label.strip()[: DepartmentToken._meta.get_field("label").max_length]
    with transaction.atomic():
        token = DepartmentToken.objects.create(
            department=department, label=label, token_hash=hash_token(raw), created_at=now
        )
        record(
            "feed.token_created",
            actor=actor,
            occurred_at=now,
            obj=token,
            data={"department": department.code, "label": label},
        )
    return token, raw


def revoke_token(token: DepartmentToken, *, now: dt.datetime, actor: Actor) -> DepartmentToken:
    """Revoke ``token`` (idempotent: a revoked token stays revoked at its first time)."""
    with transaction.atomic():
        token = DepartmentToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        record(
            "feed.token_revoked",
            actor=actor,
            occurred_at=now,
            obj=token,
            data={"department": token.department.code, "label": token.label},
        )
    return token


def find_token(raw: str) -> DepartmentToken | None:
    """The token row matching ``raw`` (revoked or not), or None.

    The row is found by its hash through the unique index, then the hashes are compared in
    constant time, so neither step reveals how much of a guess was right.
    """
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(raw)
    token = DepartmentToken.objects.select_related("department").filter(token_hash=digest).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token


def mark_used(token: DepartmentToken, *, now: dt.datetime) -> None:
    """Record when the token was last used (not audited: the request it served is)."""
    DepartmentToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
