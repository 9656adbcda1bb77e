"""Residents (新市民) and their Zhejiang residence permits (居住证) with status history."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from jifen.identity import mask_identity_number, mask_name, mask_phone
from jifen.org.models import Town
from jifen.residents.pii import field_cipher


class Sex(models.TextChoices):
    MALE = "male", _("male")
    FEMALE = "female", _("female")


class Resident(models.Model):
    """A new citizen. The primary key is a UUID so that encrypted fields can be bound to the
    row before it is first saved (the ciphertext's associated data names the row)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    identity_number_token = models.TextField(_("identity number (encrypted)"))
    identity_number_index = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=50)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices)
    phone_token = models.TextField(_("phone (encrypted)"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="residents", verbose_name=_("town")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")

    def __str__(self) -> str:
        return f"{mask_name(self.name)} ({self.masked_identity_number})"

    def _decrypt(self, token: str, field: str) -> str:
        return field_cipher().decrypt(
            token, table="residents_resident", row=str(self.id), field=field
        )

    def _encrypt(self, value: str, field: str) -> str:
        return field_cipher().encrypt(
            value, table="residents_resident", row=str(self.id), field=field
        )

    @property
    def identity_number(self) -> str:
        """The full number: only for the few staff views that need it (and audit that view)."""
        return self._decrypt(self.identity_number_token, "identity_number")

    @property
    def phone(self) -> str:
        return self._decrypt(self.phone_token, "phone") if self.phone_token else ""

    @property
    def masked_identity_number(self) -> str:
        return mask_identity_number(self.identity_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def current_permit(self) -> ResidencePermit | None:
        """The latest issued permit (None without one); uses prefetched permits if present."""
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "permits" in cache:
            permits = sorted(cache["permits"], key=lambda p: (p.issued_on, str(p.pk)))
            return permits[-1] if permits else None
        return self.permits.order_by("-issued_on", "-pk").first()

    @property
    def points_lapsed(self) -> bool:
        """Whether the current permit is suspended or cancelled (measures 三.6)."""
        permit = self.current_permit
        return permit is not None and permit.points_lapsed


class PermitStatus(models.TextChoices):
    VALID = "valid", _("valid")
    AWAITING_ENDORSEMENT = "awaiting_endorsement", _("awaiting endorsement")
    SUSPENDED = "suspended", _("suspended")
    CANCELLED = "cancelled", _("cancelled")

    @classmethod
    def lapsing(cls) -> frozenset[str]:
        """Statuses under which points lapse (measures 三.6)."""
        return frozenset({cls.SUSPENDED, cls.CANCELLED})


class ResidencePermit(models.Model):
    """A Zhejiang residence permit; the resident's current permit is the latest issued."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="permits")
    number_token = models.TextField(_("permit number (encrypted)"))
    number_index = models.CharField(max_length=64, unique=True)
    issuing_town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="+", verbose_name=_("issuing town")
    )
    issued_on = models.DateField(_("issued on"))
    status = models.CharField(
        _("status"), max_length=24, choices=PermitStatus.choices, default=PermitStatus.VALID
    )
    status_since = models.DateField(_("status since"))

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = _("residence permit")
        verbose_name_plural = _("residence permits")

    def __str__(self) -> str:
        return f"{self.masked_number} ({self.get_status_display()})"

    @property
    def number(self) -> str:
        return field_cipher().decrypt(
            self.number_token, table="residents_residencepermit", row=str(self.id), field="number"
        )

    @property
    def masked_number(self) -> str:
        number = self.number
        return number[:2] + "*" * max(len(number) - 4, 0) + number[-2:]

    @property
    def points_lapsed(self) -> bool:
        return self.status in PermitStatus.lapsing()


class PermitChangeSource(models.TextChoices):
    FEED = "feed", _("public-security feed")
    STAFF = "staff", _("staff action")


class PermitStatusChange(models.Model):
    """One dated change of a permit's status, with where it came from and why."""

    permit = models.ForeignKey(ResidencePermit, on_delete=models.PROTECT, related_name="history")
    status = models.CharField(_("status"), max_length=24, choices=PermitStatus.choices)
    restored = models.BooleanField(
        _("restored"), default=False, help_text=_("a return to valid after a lapse")
    )
    effective_on = models.DateField(_("effective on"))
    source = models.CharField(_("source"), max_length=8, choices=PermitChangeSource.choices)
    source_ref = models.CharField(_("source reference"), max_length=120, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["effective_on", "recorded_at", "id"]
        verbose_name = _("permit status change")
        verbose_name_plural = _("permit status history")

    def __str__(self) -> str:
        return f"{self.status} {self.effective_on}"
