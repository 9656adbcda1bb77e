"""Stored scores: the total, subtotals, full explanation, policy versions and hashes, the
dates, the facts used and the status. A score can be recomputed bit for bit from these."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.residents.models import Resident
from jifen.scores.fields import StoredJSONField


class ScoreStatus(models.TextChoices):
    VALID = "valid", _("valid")
    LAPSED = "lapsed", _("lapsed")
    CLEARED = "cleared", _("cleared")


class Score(models.Model):
    """One evaluation of one resident. ``is_current`` marks the score shown for a plain query;
    scenarios keep their own evaluations (their opening date) alongside."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="scores")
    evaluation_date = models.DateField(_("evaluation date"))
    review_date = models.DateField(_("review date"))
    computed_at = models.DateTimeField(_("computed at"))
    status = models.CharField(_("status"), max_length=8, choices=ScoreStatus.choices)
    lapse_reason = models.CharField(_("lapse reason"), max_length=200, blank=True)
    lapsed_since = models.DateField(_("lapsed since"), null=True, blank=True)
    total = models.DecimalField(_("total"), max_digits=7, decimal_places=2)
    provincial_total = models.DecimalField(_("provincial total"), max_digits=7, decimal_places=2)
    city_bonus_total = models.DecimalField(_("city bonus total"), max_digits=7, decimal_places=2)
    deductions_total = models.DecimalField(_("deductions total"), max_digits=9, decimal_places=2)
    result = StoredJSONField(_("result with explanation"))
    provincial_policy = models.CharField(_("provincial policy version"), max_length=60)
    provincial_hash = models.CharField(max_length=64)
    city_policy = models.CharField(_("city policy version"), max_length=60)
    city_hash = models.CharField(max_length=64)
    reference_values = models.BooleanField(_("reference values"))
    fact_ids = models.JSONField(_("facts used"), default=list)
    is_current = models.BooleanField(_("current"), default=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(is_current=True),
                name="scores_one_current_per_resident",
            )
        ]
        indexes = [
            models.Index(fields=["resident", "evaluation_date"], name="scores_resident_date")
        ]
        verbose_name = _("score")
        verbose_name_plural = _("scores")

    def __str__(self) -> str:
        return f"{self.total} ({self.status}, {self.evaluation_date})"
