"""The fact store: every scoring fact with its source; facts are never edited in place.

A correction supersedes the old fact (``superseded_by``/``superseded_at``) and the history stays
queryable. ``key`` names "the same fact" across feeds and batches: ``education`` for a
single-valued provincial fact, ``skills:title_junior`` for one of several, the sending
department's record id for city facts and deductions (``hrss:contest:2023-118``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.org.models import Department
from jifen.residents.models import Resident


class FactKind(models.TextChoices):
    PROVINCIAL = "provincial", _("provincial fact")
    CITY = "city", _("city fact")
    DEDUCTION = "deduction", _("deduction")


class FactSource(models.TextChoices):
    FEED = "feed", _("department feed")
    CLAIM = "claim", _("approved claim")
    STAFF = "staff", _("staff correction")


class FactQuerySet(models.QuerySet):
    def current(self) -> FactQuerySet:
        """Facts not superseded (what scores are computed from)."""
        return self.filter(superseded_at__isnull=True)


class Fact(models.Model):
    """One fact about one resident, in the vocabulary of the score profile format.

    Provincial facts: ``code`` is the profile field (``education``, ``skills``,
    ``social_insurance_months``, ``residence_months``, ``residence_registered_on``,
    ``birth_date``) and the value sits in ``level`` / ``quantity`` / ``date``. City facts:
    ``code`` is the rule (``charity.blood_donation``). Deductions: the deduction code, with
    ``act`` and ``until``.
    """

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="facts")
    kind = models.CharField(_("kind"), max_length=12, choices=FactKind.choices)
    code = models.CharField(_("rule or field"), max_length=60)
    key = models.CharField(_("fact key"), max_length=120)
    level = models.CharField(_("level"), max_length=40, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    date = models.DateField(_("date"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    act = models.CharField(_("act"), max_length=60, blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="facts")
    source = models.CharField(_("source"), max_length=8, choices=FactSource.choices)
    batch = models.ForeignKey(
        "feeds.FeedBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="facts"
    )
    source_ref = models.CharField(_("source reference"), max_length=120, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )

    objects = FactQuerySet.as_manager()

    class Meta:
        ordering = ["resident", "code", "recorded_at", "id"]
        indexes = [
            models.Index(fields=["resident", "superseded_at"], name="facts_resident_current")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "key"],
                condition=Q(superseded_at__isnull=True),
                name="facts_one_current_fact_per_key",
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=0),
                name="facts_quantity_not_negative",
            ),
        ]
        verbose_name = _("fact")
        verbose_name_plural = _("facts")

    def __str__(self) -> str:
        return f"{self.code} ({self.key})"
