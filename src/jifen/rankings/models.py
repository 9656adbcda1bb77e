"""Frozen rankings (积分排名), their entries and their publications (积分公示).

A :class:`Ranking` is the list the center froze for one scenario version: the canonical input
snapshot (``inputs``: everything the ranking read), its ``content_hash`` (see
:mod:`jifen.rankings.engine`; re-running the inputs gives the same hash), the cut-off and the
allocation of places. States:

============  ===============================================================================
frozen        frozen, not published yet (a new freeze of the same version supersedes it)
published     on public notice (:class:`Publication`)
final         the publication period is over; the providing department records outcomes
superseded    replaced: by a new freeze, or by a corrected list (``superseded_by``)
============  ===============================================================================

A :class:`RankingEntry` is one enrollment on the list: rank, points, breakdown, tie-break
values, the quota allocated (``quota_key``; ``""`` = waitlisted) and the outcome the
department records (admitted / waitlisted / declined, or cancelled by a sanction).

A :class:`Publication` puts a ranking on public notice from ``starts_on`` to ``ends_on`` (at
least 5 working days); re-examination requests are filed until ``filing_until`` and answered
until ``reexamination_until``; the public list is served until then and taken down after
(``taken_down_at``). A corrected list is a new ranking and a new publication
(``corrected_from``) whose ``change_note`` lists per application number what changed and why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jifen.scores.fields import StoredJSONField


class RankingState(models.TextChoices):
    FROZEN = "frozen", _("frozen")
    PUBLISHED = "published", _("published")
    FINAL = "final", _("final")
    SUPERSEDED = "superseded", _("superseded")


class Allocation(models.TextChoices):
    ADMITTED = "admitted", _("place allocated")
    WAITLISTED = "waitlisted", _("waitlisted")


class Outcome(models.TextChoices):
    ADMITTED = "admitted", _("admitted")
    WAITLISTED = "waitlisted", _("waitlisted")
    DECLINED = "declined", _("declined")
    CANCELLED = "cancelled", _("cancelled")


class Ranking(models.Model):
    """One frozen list of one scenario version."""

    version = models.ForeignKey(
        "scenarios.ScenarioVersion",
        on_delete=models.PROTECT,
        related_name="rankings",
        verbose_name=_("scenario version"),
    )
    #: 1, 2, … per version (a new freeze or a corrected list counts up).
    sequence = models.PositiveIntegerField(_("sequence"))
    state = models.CharField(
        _("state"), max_length=12, choices=RankingState.choices, default=RankingState.FROZEN
    )
    frozen_at = models.DateTimeField(_("frozen at"))
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    #: The canonical input snapshot (``jifen.rankings.engine.make_inputs``): read whole only.
    inputs = StoredJSONField(_("inputs"))
    inputs_hash = models.CharField(_("inputs hash"), max_length=64)
    content_hash = models.CharField(_("content hash"), max_length=64)
    entry_count = models.PositiveIntegerField(_("entries"), default=0)
    admitted_count = models.PositiveIntegerField(_("places allocated"), default=0)
    cutoff_points = models.DecimalField(
        _("cut-off points"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    #: ``{"key": "provincial_total", "value": "52.00", "values": {tie-break: value}}``.
    cutoff_tiebreak = models.JSONField(_("cut-off tie-break"), null=True, blank=True)
    #: Per quota key: ``{"points", "rank", "number", "ties"}`` of its last admitted entry.
    quota_cutoffs = models.JSONField(_("cut-off per quota"), default=dict, blank=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    #: Why this list replaced the one it supersedes (a corrected list).
    correction_reason = models.TextField(_("reason for the correction"), blank=True)
    finalised_at = models.DateTimeField(_("final since"), null=True, blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["version", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "sequence"], name="rankings_sequence_per_version"
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=~Q(state="superseded"),
                name="rankings_one_live_ranking_per_version",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["frozen", "published", "final", "superseded"]),
                name="rankings_ranking_state_valid",
            ),
        ]
        verbose_name = _("ranking")
        verbose_name_plural = _("rankings")

    def __str__(self) -> str:
        return f"{self.version} #{self.sequence} ({self.state})"

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


class RankingEntry(models.Model):
    """One enrollment on a frozen list."""

    ranking = models.ForeignKey(
        Ranking, on_delete=models.PROTECT, related_name="entries", verbose_name=_("ranking")
    )
    enrollment = models.ForeignKey(
        "scenarios.Enrollment",
        on_delete=models.PROTECT,
        related_name="ranking_entries",
        verbose_name=_("enrollment"),
    )
    #: The application number (copied: the public list and its exports read it a lot).
    number = models.CharField(_("application number"), max_length=20)
    rank = models.PositiveIntegerField(_("rank"))
    points = models.DecimalField(_("points"), max_digits=7, decimal_places=2)
    #: ``{"provincial.age": "20.00", …, "deductions": "-5.00"}`` as the enrollment counted it.
    breakdown = models.JSONField(_("breakdown"), default=dict, blank=True)
    #: ``{tie-break: value}`` as ranked.
    tiebreak_values = models.JSONField(_("tie-break values"), default=dict, blank=True)
    #: The quota allocated now (``""``: no place); changes when places are cancelled.
    quota_key = models.CharField(_("quota"), max_length=80, blank=True, default="")
    #: The quota allocated when the list was frozen.
    frozen_quota_key = models.CharField(
        _("quota when frozen"), max_length=80, blank=True, default=""
    )
    moved_up_at = models.DateTimeField(_("moved up at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, blank=True, default=""
    )
    outcome_note = models.TextField(_("note on the outcome"), blank=True)
    recorded_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["ranking", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["ranking", "rank"], name="rankings_entry_rank_unique"),
            models.UniqueConstraint(
                fields=["ranking", "enrollment"], name="rankings_entry_enrollment_unique"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["", "admitted", "waitlisted", "declined", "cancelled"]),
                name="rankings_entry_outcome_valid",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="admitted") | ~Q(quota_key=""),
                name="rankings_entry_admitted_has_quota",
            ),
        ]
        indexes = [models.Index(fields=["ranking", "number"], name="rankings_entry_number")]
        verbose_name = _("ranking entry")
        verbose_name_plural = _("ranking entries")

    def __str__(self) -> str:
        return f"{self.rank}. {self.number}"

    @property
    def allocation(self) -> str:
        return Allocation.ADMITTED if self.quota_key else Allocation.WAITLISTED


class Publication(models.Model):
    """A ranking on public notice (公示)."""

    ranking = models.OneToOneField(
        Ranking, on_delete=models.PROTECT, related_name="publication", verbose_name=_("ranking")
    )
    starts_on = models.DateField(_("published from"))
    ends_on = models.DateField(_("published until"))
    #: Last day to file a re-examination (3rd working day counting ``starts_on``).
    filing_until = models.DateField(_("re-examination requests until"))
    #: Last day re-examinations are answered (7 working days after ``filing_until``); the
    #: public list is served until the later of this and ``ends_on``.
    reexamination_until = models.DateField(_("re-examination answers until"))
    #: The working-day calendar version the dates were computed with.
    calendar_version = models.PositiveIntegerField(_("calendar version"))
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    taken_down_at = models.DateTimeField(_("taken down at"), null=True, blank=True)
    #: ``windows_closed`` or ``corrected``.
    taken_down_reason = models.CharField(_("taken down because"), max_length=20, blank=True)
    corrected_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_by",
        verbose_name=_("corrects"),
    )
    #: ``{"reason": "…", "changes": [{"number", "why", "rank": [old, new], "points": [old,
    #: new], "allocation": [old, new], "items": {item: [old, new]}}]}`` — no personal data.
    change_note = models.JSONField(_("what changed and why"), default=dict, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="rankings_publication_dates_order",
            ),
        ]
        indexes = [
            models.Index(
                fields=["taken_down_at", "reexamination_until"], name="rankings_pub_takedown"
            )
        ]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")

    def __str__(self) -> str:
        return f"{self.ranking} {self.starts_on}–{self.ends_on}"

    @property
    def visible_until(self):
        """The last day the public list is served."""
        return max(self.ends_on, self.reexamination_until)

    def is_visible_on(self, day) -> bool:
        return self.taken_down_at is None and self.starts_on <= day <= self.visible_until
