"""Department data feeds (部门数据对接): each import is a batch with a stored row-by-row report."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.org.models import Department


class BatchStatus(models.TextChoices):
    APPLIED = "applied", _("applied")
    REFUSED = "refused", _("refused (file unreadable, nothing applied)")


class FeedBatch(models.Model):
    """One file received from one feed. The same content twice is one batch (idempotent)."""

    feed = models.CharField(_("feed"), max_length=40)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="batches")
    file_name = models.CharField(_("file name"), max_length=200)
    checksum = models.CharField(_("SHA-256 of the content"), max_length=64)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    format = models.CharField(_("format"), max_length=8, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=BatchStatus.choices)
    received_at = models.DateTimeField(_("received at"))
    actor = models.CharField(_("sent by"), max_length=80)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    superseded = models.PositiveIntegerField(_("superseded"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    registered = models.PositiveIntegerField(_("residents registered"), default=0)
    refusal_reason = models.TextField(_("why the file was refused"), blank=True)
    refusal_reason_zh = models.TextField(_("why the file was refused (Chinese)"), blank=True)
    report = models.JSONField(_("row-by-row report"), default=list)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "checksum"],
                condition=Q(status="applied"),
                name="feeds_batch_applied_once",
            )
        ]
        verbose_name = _("feed batch")
        verbose_name_plural = _("feed batches")

    def __str__(self) -> str:
        return f"{self.feed} {self.file_name} ({self.received_at:%Y-%m-%d})"


class DepartmentToken(models.Model):
    """An API token of one department; only its SHA-256 is stored (tokens are 256-bit random)."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tokens")
    label = models.CharField(_("label"), max_length=80)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("department API token")
        verbose_name_plural = _("department API tokens")

    def __str__(self) -> str:
        return f"{self.department.code}: {self.label}"
