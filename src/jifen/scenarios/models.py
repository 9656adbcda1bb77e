"""Application scenarios (积分应用场景) and enrollments (积分应用申请).

A :class:`Scenario` is a public service put under points (school places, public rental
housing …), run by its providing department. Its rules are versioned like policies: a
:class:`ScenarioVersion` holds the whole definition as canonical JSON (``content``, see
:mod:`jifen.scenarios.content`) with its SHA-256 (``content_hash``). A published version is
immutable (its content, hash and dates never change; it can only be withdrawn), and what was
published is what is applied: every :class:`Enrollment` keeps the version it was made under.
The quotas of a version are also stored as :class:`Quota` rows (derived from the content at
publication) so that rankings and pages can query them.

An :class:`Enrollment` is one resident's application to one scenario; the database refuses
a second one (``scenarios_one_enrollment_per_resident``). Its status:

=============  ============================================================================
submitted      made inside the open period; not evaluated yet
blocked        a lapsed score, an open claim or correction, or an open re-examination keeps
               it from being ranked until resolved (``block_reasons`` says why)
eligible       evaluated: meets every eligibility condition (rankable)
ineligible     evaluated: fails one or more conditions (``eligibility_reasons``)
withdrawn      withdrawn by the resident (or the window clerk) during the open period
=============  ============================================================================
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.org.models import Department, Town
from jifen.residents.models import Resident
from jifen.scores.models import Score


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    WITHDRAWN = "withdrawn", _("withdrawn")


class EnrollmentStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    BLOCKED = "blocked", _("blocked")
    ELIGIBLE = "eligible", _("eligible")
    INELIGIBLE = "ineligible", _("ineligible")
    WITHDRAWN = "withdrawn", _("withdrawn")


#: Statuses of a live (not withdrawn) enrollment.
ACTIVE_STATUSES = (
    EnrollmentStatus.SUBMITTED,
    EnrollmentStatus.BLOCKED,
    EnrollmentStatus.ELIGIBLE,
    EnrollmentStatus.INELIGIBLE,
)


class Scenario(models.Model):
    """A service put under points, provided by one department."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="scenarios",
        verbose_name=_("providing department"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("application scenario")
        verbose_name_plural = _("application scenarios")

    def __str__(self) -> str:
        return self.name

    def published_version(self) -> ScenarioVersion | None:
        return self.versions.filter(status=VersionStatus.PUBLISHED).first()


class ScenarioVersion(models.Model):
    """One version of a scenario's definition. Immutable once published."""

    scenario = models.ForeignKey(
        Scenario, on_delete=models.PROTECT, related_name="versions", verbose_name=_("scenario")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    #: The whole definition, canonical (see ``jifen.scenarios.content``).
    content = models.JSONField(_("definition"))
    #: SHA-256 of the canonical JSON of ``content`` (set for drafts too; fixed at publication).
    content_hash = models.CharField(_("content hash"), max_length=64)
    # Denormalised from the content (queried by pages and jobs).
    open_from = models.DateTimeField(_("open from"))
    open_until = models.DateTimeField(_("open until"))
    evaluation_date = models.DateField(_("evaluation date"))
    review_date = models.DateField(_("review date"))
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)

    #: Fields a published version may never change.
    FROZEN_FIELDS = (
        "scenario_id",
        "number",
        "content",
        "content_hash",
        "open_from",
        "open_until",
        "evaluation_date",
        "review_date",
        "published_at",
        "published_by_id",
    )

    class Meta:
        ordering = ["scenario", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "number"], name="scenarios_version_number_per_scenario"
            ),
            models.UniqueConstraint(
                fields=["scenario"],
                condition=Q(status="published"),
                name="scenarios_one_published_version",
            ),
            models.CheckConstraint(
                condition=Q(open_from__lt=models.F("open_until")),
                name="scenarios_version_open_period_order",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="scenarios_version_published_has_date",
            ),
        ]
        verbose_name = _("scenario version")
        verbose_name_plural = _("scenario versions")

    def __str__(self) -> str:
        return f"{self.scenario.code} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        """Refuse any change to the definition of a version that has left the draft state."""
        if self.pk is not None:
            stored = (
                type(self)
                .objects.filter(pk=self.pk)
                .values("status", *[f for f in self.FROZEN_FIELDS])
                .first()
            )
            if stored is not None and stored["status"] != VersionStatus.DRAFT:
                changed = [f for f in self.FROZEN_FIELDS if getattr(self, f) != stored[f]]
                if changed:
                    from jifen.scenarios.errors import VersionImmutable

                    raise VersionImmutable(
                        _("A published scenario version cannot be changed (%(fields)s).")
                        % {"fields": ", ".join(changed)},
                        field=changed[0],
                    )
        super().save(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @property
    def tie_breaks(self) -> list[str]:
        return list(self.content.get("tie_breaks", []))

    @property
    def score_basis(self) -> dict:
        return dict(self.content.get("score_basis", {"kind": "total"}))

    @property
    def eligibility(self) -> dict:
        return dict(self.content.get("eligibility") or {})

    @property
    def preferences_max(self) -> int:
        prefs = self.content.get("preferences")
        return int(prefs["max"]) if prefs else 0


class Quota(models.Model):
    """The places of one quota key of a version (``school:wutong-1`` → 40 places)."""

    version = models.ForeignKey(
        ScenarioVersion, on_delete=models.PROTECT, related_name="quotas", verbose_name=_("version")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    key = models.CharField(_("key"), max_length=80)
    label = models.CharField(_("label"), max_length=200)
    places = models.PositiveIntegerField(_("places"))
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "key"], name="scenarios_quota_key_per_version"
            ),
            models.CheckConstraint(
                condition=Q(places__gt=0), name="scenarios_quota_places_positive"
            ),
        ]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")

    def __str__(self) -> str:
        return f"{self.key} ({self.places})"


class Enrollment(models.Model):
    """One resident's application to one scenario, under the version published then."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: The application number shown on the published list (``YY2026000001``).
    number = models.CharField(_("application number"), max_length=20, unique=True)
    scenario = models.ForeignKey(
        Scenario, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("scenario")
    )
    version = models.ForeignKey(
        ScenarioVersion,
        on_delete=models.PROTECT,
        related_name="enrollments",
        verbose_name=_("version"),
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("resident")
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=8, default="portal")
    #: Applicant details the eligibility needs (``{"child_birth_date": "2019-05-01", …}``).
    details = models.JSONField(_("applicant details"), default=dict, blank=True)
    #: Quota keys in order of preference.
    preferences = models.JSONField(_("preferences"), default=list, blank=True)
    #: When the application was made (the last tie-break).
    applied_at = models.DateTimeField(_("applied at"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.SUBMITTED,
    )
    #: Why it is blocked: ``[{"code": "scenarios.blocked.open_claim", "message": "…"}]``.
    block_reasons = models.JSONField(_("blocked because"), default=list, blank=True)
    blockers_checked_at = models.DateTimeField(_("blockers checked at"), null=True, blank=True)
    #: The exact evaluation used (on the version's evaluation date, deductions from its
    #: review date); not the resident's current score.
    score = models.ForeignKey(
        Score, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    #: The points that count under the version's score basis.
    points = models.DecimalField(_("points"), max_digits=7, decimal_places=2, null=True, blank=True)
    #: ``{"provincial.age": "20.00", …, "deductions": "-5.00"}`` (strings, hundredths).
    breakdown = models.JSONField(_("breakdown"), default=dict, blank=True)
    #: The value of each tie-break of the version, as ranked (``{"provincial_total": "41.50",
    #: "item:provincial.social_insurance": "12.00", "applied_at": "2026-…+08:00"}``).
    tie_values = models.JSONField(_("tie-break values"), default=dict, blank=True)
    #: Conditions not met: ``[{"code": "scenarios.ineligible.min_total", "message": "…"}]``.
    eligibility_reasons = models.JSONField(_("eligibility reasons"), default=list, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["scenario", "applied_at", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "resident"], name="scenarios_one_enrollment_per_resident"
            ),
        ]
        indexes = [
            models.Index(fields=["version", "status"], name="scenarios_enrollment_status"),
            models.Index(fields=["resident", "status"], name="scenarios_enrollment_resident"),
        ]
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")

    def __str__(self) -> str:
        return self.number

    @property
    def is_active(self) -> bool:
        return self.status != EnrollmentStatus.WITHDRAWN
