"""The audit entry: one row per business action, append-only and hash-chained.

Portable across SQLite and PostgreSQL: plain columns, named constraints, no vendor types.
Rows are written only by :func:`jifen.audit.services.record`; the model and its queryset
refuse updates and deletes, and so does the database (migration ``0002``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from jifen.audit.choices import ActorKind, Result
from jifen.audit.errors import AppendOnlyViolation, AuditWriteError
from jifen.audit.hashing import compute_entry_hash

#: Audit times are shown in China Standard Time (+08:00, no daylight saving since 1991).
CHINA_TZ = ZoneInfo("Asia/Shanghai")

#: ``claim.materials_requested``: lower-case words joined by dots, at least two of them.
ACTION_PATTERN = re.compile(r"\A[a-z_]+(?:\.[a-z_]+)+\Z")

_no_nul = ProhibitNullCharactersValidator()
_sha256_hex = RegexValidator(r"\A[0-9a-f]{64}\Z", _("Expected 64 lower-case hex digits."))


class AuditEntryQuerySet(models.QuerySet):
    """A queryset that cannot change or remove rows: entries are only ever appended."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyViolation("update")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyViolation("delete")

    def _update(self, values: Any) -> int:
        # What Model.save() uses to rewrite a row; save() refuses first, this is the backstop.
        raise AppendOnlyViolation("update")

    def _raw_delete(self, using: str) -> int:
        raise AppendOnlyViolation("delete")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyViolation("bulk_update")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        # Bulk inserts would bypass the chain lock and the per-entry hash.
        raise AppendOnlyViolation("bulk_create (use jifen.audit.services.record)")


class AuditEntry(models.Model):
    """One audited action.

    ``data`` holds structured details of the action. It is stored in clear and kept for
    years: never put personal data in it in clear (no identity or phone numbers, names,
    addresses, criminal or credit details); refer to objects by id instead.
    """

    id = models.BigAutoField(primary_key=True)
    sequence = models.PositiveBigIntegerField(
        _("sequence"), help_text=_("Position in the hash chain: 1, 2, 3 ... without gaps.")
    )
    occurred_at = models.DateTimeField(_("occurred at"), help_text=_("Stored in UTC."))
    action = models.CharField(
        _("action"),
        max_length=100,
        validators=[
            RegexValidator(ACTION_PATTERN, _("Use a namespaced code such as claim.submitted."))
        ],
    )
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_id = models.CharField(
        _("actor"),
        max_length=150,
        validators=[_no_nul],
        help_text=_("A user id, or a named system actor such as feed:public_security."),
    )
    actor_unit = models.CharField(
        _("department or town"), max_length=64, blank=True, validators=[_no_nul]
    )
    object_type = models.CharField(
        _("object type"), max_length=100, blank=True, validators=[_no_nul]
    )
    object_id = models.CharField(_("object id"), max_length=100, blank=True, validators=[_no_nul])
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    source_address = models.GenericIPAddressField(
        _("source address"), null=True, blank=True, unpack_ipv4=True
    )
    request_id = models.CharField(_("request id"), max_length=100, blank=True, validators=[_no_nul])
    data = models.JSONField(
        _("data"),
        default=dict,
        blank=True,
        help_text=_("Details of the action. Never personal data in clear."),
    )
    previous_hash = models.CharField(_("previous hash"), max_length=64, validators=[_sha256_hex])
    entry_hash = models.CharField(_("entry hash"), max_length=64, validators=[_sha256_hex])

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["sequence"]
        get_latest_by = "sequence"
        # Django's internal paths (related lookups, the deletion collector) use the base
        # manager; make it the refusing one too.
        base_manager_name = "objects"
        default_permissions = ("view",)
        constraints = [
            # Two writers that read the same head collide here instead of forking the chain.
            models.UniqueConstraint(fields=["sequence"], name="audit_entry_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(sequence__gte=1), name="audit_entry_sequence_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(actor_kind__in=ActorKind.values),
                name="audit_entry_actor_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(actor_id=""), name="audit_entry_actor_not_empty"
            ),
            models.CheckConstraint(
                condition=models.Q(result__in=Result.values), name="audit_entry_result_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    Exact(Length("previous_hash"), 64), Exact(Length("entry_hash"), 64)
                ),
                name="audit_entry_hashes_are_sha256",
            ),
        ]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_entry_object_idx"),
            models.Index(fields=["actor_kind", "actor_id"], name="audit_entry_actor_idx"),
            models.Index(fields=["action"], name="audit_entry_action_idx"),
            models.Index(fields=["occurred_at"], name="audit_entry_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_kind}:{self.actor_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert a sealed new entry; refuse to write an existing one again."""
        if not self._state.adding:
            raise AppendOnlyViolation("update")
        try:
            sealed = self.entry_hash == compute_entry_hash(self)
        except (TypeError, ValueError):  # incomplete fields cannot even be hashed
            sealed = False
        if not sealed:
            raise AuditWriteError(
                "an audit entry must be sealed by jifen.audit.services.record() before saving"
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyViolation("delete")

    def occurred_at_local(self) -> dt.datetime:
        """The time of the action in China Standard Time; ``isoformat()`` ends in +08:00."""
        return self.occurred_at.astimezone(CHINA_TZ)
