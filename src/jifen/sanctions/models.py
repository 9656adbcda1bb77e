"""Fraud sanctions (五.1): a fraud case proposed by one member of staff and confirmed by a
different member of the center (two-person rule), the clearing of the resident's points, and
the record in their credit file.

Fraud case transitions (``FraudCase.state``; anything not listed is refused):

=========  ===========  =========  ==========================================================
step       from         to         who
=========  ===========  =========  ==========================================================
propose    (new)        proposed   a department reviewer (a resident in their scope) or the
                                   center
confirm    proposed     confirmed  a center user who is NOT the proposer (service and the
                                   check constraint ``sanctions_confirmer_not_proposer``)
reject     proposed     rejected   a center user who is not the proposer
=========  ===========  =========  ==========================================================

Confirming clears the resident's points (:class:`PointsClearance`), cancels the places they
obtained (``jifen.rankings`` ``cancel_place``: the next applicants move up), writes a
:class:`CreditRecord` and notifies everyone affected, in one transaction.

**Why a clearance row.** "Cleared to zero" is a sanction decided by people on a date, not a
property of facts: the engine keeps computing what the facts say (so the score stays
reproducible and auditable), and the clearance row says that from ``cleared_on`` the
resident has no usable points. Everything that *uses* points consults it
(:func:`jifen.sanctions.services.clearance_of` / ``cleared_resident_ids``): the score's
status (``ScoreStatus.CLEARED`` through ``jifen.scores.standing``, see the lead's request) and
the scenario blockers. A clearance is permanent in this version (lifting one, e.g. after a
court decision, would be a new row kind, not an edit).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from jifen.evidence.models import Evidence
from jifen.org.models import Department
from jifen.residents.models import Resident


class FraudState(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    CONFIRMED = "confirmed", _("confirmed")
    REJECTED = "rejected", _("rejected")


class FraudCase(FSMModelMixin, models.Model):
    """A case that points were obtained with forged, altered or false materials."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: ``WG2026000001`` (违规), given at the proposal.
    number = models.CharField(_("case number"), max_length=20, unique=True)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="fraud_cases", verbose_name=_("resident")
    )
    state = FSMField(
        _("state"),
        max_length=10,
        choices=FraudState.choices,
        default=FraudState.PROPOSED,
        protected=True,
    )
    grounds = models.TextField(_("grounds"))
    evidence = models.ManyToManyField(
        Evidence, blank=True, related_name="fraud_cases", verbose_name=_("evidence")
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="fraud_cases_proposed",
        verbose_name=_("proposed by"),
    )
    #: The proposer's department (``None`` when the center proposed).
    proposing_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fraud_cases",
        verbose_name=_("proposing department"),
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fraud_cases_confirmed",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fraud_cases_rejected",
        verbose_name=_("rejected by"),
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    #: What the confirmation did: ``[{"ranking", "entry", "enrollment", "moved_up": [...]}]``.
    cancelled_places = models.JSONField(_("cancelled places"), default=list, blank=True)

    class Meta:
        ordering = ["-proposed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("proposed_by")),
                name="sanctions_confirmer_not_proposer",
            ),
            models.CheckConstraint(
                condition=Q(rejected_by__isnull=True) | ~Q(rejected_by=F("proposed_by")),
                name="sanctions_rejecter_not_proposer",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="proposed", confirmed_by__isnull=True, rejected_by__isnull=True)
                    | Q(state="confirmed", confirmed_by__isnull=False, confirmed_at__isnull=False)
                    | Q(state="rejected", rejected_by__isnull=False, rejected_at__isnull=False)
                ),
                name="sanctions_case_state_matches_decision",
            ),
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(state="proposed"),
                name="sanctions_one_open_case_per_resident",
            ),
        ]
        indexes = [models.Index(fields=["state", "proposed_at"], name="sanctions_case_state")]
        verbose_name = _("fraud case")
        verbose_name_plural = _("fraud cases")

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state == FraudState.PROPOSED

    # --- the transition table (state changes only; the services do the rest) ------------

    @transition(field=state, source=FraudState.PROPOSED, target=FraudState.CONFIRMED)
    def confirm(self) -> None:
        pass

    @transition(field=state, source=FraudState.PROPOSED, target=FraudState.REJECTED)
    def reject(self) -> None:
        pass


class PointsClearance(models.Model):
    """The resident's points are cleared (清零) from ``cleared_on`` by a confirmed case."""

    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="points_clearances",
        verbose_name=_("resident"),
    )
    fraud_case = models.OneToOneField(
        FraudCase,
        on_delete=models.PROTECT,
        related_name="clearance",
        verbose_name=_("fraud case"),
    )
    #: The China date from which the resident has no usable points.
    cleared_on = models.DateField(_("cleared on"))
    cleared_at = models.DateTimeField(_("cleared at"))
    #: The current score's total when it was cleared (``None``: no score yet).
    total_before = models.DecimalField(
        _("points before clearing"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    score_before = models.ForeignKey(
        "scores.Score",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("score before clearing"),
    )

    class Meta:
        ordering = ["-cleared_at", "id"]
        indexes = [models.Index(fields=["resident", "cleared_on"], name="sanctions_clear_res")]
        verbose_name = _("points clearance")
        verbose_name_plural = _("points clearances")

    def __str__(self) -> str:
        return f"{self.fraud_case} cleared on {self.cleared_on}"


class CreditKind(models.TextChoices):
    POINTS_FRAUD = "points_fraud", _("points obtained by fraud")


class CreditRecord(models.Model):
    """An entry in the resident's credit file (信用档案)."""

    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="credit_records",
        verbose_name=_("resident"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CreditKind.choices)
    fraud_case = models.ForeignKey(
        FraudCase,
        on_delete=models.PROTECT,
        related_name="credit_records",
        verbose_name=_("fraud case"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["-recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fraud_case", "kind"], name="sanctions_one_credit_record_per_case"
            ),
        ]
        verbose_name = _("credit record")
        verbose_name_plural = _("credit records")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.fraud_case})"
