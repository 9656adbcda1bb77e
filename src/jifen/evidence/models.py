"""Evidence files (证明材料) uploaded with a claim: metadata here, the bytes in the evidence store.

The file itself lives under ``JIFEN_EVIDENCE_ROOT`` (outside any static or web root) with a
generated name; its type comes from its content (magic bytes), never from its name.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jifen.residents.models import Resident


class EvidenceType(models.TextChoices):
    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", "JPEG"
    PNG = "image/png", "PNG"


class Evidence(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("resident")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    #: The name the file had on the uploader's device: for display only, never used to decide.
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    content_type = models.CharField(_("type"), max_length=32, choices=EvidenceType.choices)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    #: The generated file name inside the evidence store.
    storage_name = models.CharField(max_length=100, unique=True, editable=False)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    #: Set when retention removed the file; the row stays as a record that it existed.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        indexes = [models.Index(fields=["resident", "uploaded_at"], name="evidence_resident_time")]

    def __str__(self) -> str:
        return f"{self.get_content_type_display()} {self.pk}"

    @property
    def extension(self) -> str:
        return {
            EvidenceType.PDF: "pdf",
            EvidenceType.JPEG: "jpg",
            EvidenceType.PNG: "png",
        }.get(self.content_type, "bin")
