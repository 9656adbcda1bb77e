"""Re-examinations (积分复核) of published points (三.5).

A resident who disputes one item of their points on a published list files a
:class:`Reexamination` within 3 working days from the first day of publication
(:mod:`jifen.reexaminations.windows`), with complete materials (a statement and at least one
evidence file). It is routed to the department behind the disputed item
(:mod:`jifen.reexaminations.routing`) and answered within 7 working days (``due_on`` with the
calendar version it was computed with). The result is told to the applicant and reported to
the center (``reported_to_center_at``). An upheld request changes the facts, the score and the
ranking, and the center's corrected list is published (``corrected_publication``).

Transitions (``Reexamination.state``; anything not listed is refused):

==========  ===================  ==================  ======================================
step        from                 to                  who
==========  ===================  ==================  ======================================
(file)      —                    submitted           the resident, or their town's clerk
accept      submitted            accepted            the routed department or the center
decide      accepted             upheld / dismissed  the routed department or the center
withdraw    submitted, accepted  withdrawn           the resident, or their town's clerk
==========  ===================  ==================  ======================================

One open (submitted or accepted) re-examination per enrollment and item
(``reexaminations_one_open_per_enrollment_item``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from jifen.evidence.models import Evidence
from jifen.org.models import Department
from jifen.residents.models import Resident


class ReexaminationState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    UPHELD = "upheld", _("upheld")
    DISMISSED = "dismissed", _("dismissed")
    WITHDRAWN = "withdrawn", _("withdrawn")


#: States in which a re-examination is still open.
OPEN_STATES = (ReexaminationState.SUBMITTED, ReexaminationState.ACCEPTED)
#: Terminal states that carry a decision.
DECIDED_STATES = (ReexaminationState.UPHELD, ReexaminationState.DISMISSED)


class Reexamination(FSMModelMixin, models.Model):
    """One request to re-examine one item of one enrollment's published points."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: ``FH2025000001`` (复核); also the ``source_ref`` of the facts an upheld one writes.
    number = models.CharField(_("re-examination number"), max_length=20, unique=True)
    publication = models.ForeignKey(
        "rankings.Publication",
        on_delete=models.PROTECT,
        related_name="reexaminations",
        verbose_name=_("publication"),
    )
    enrollment = models.ForeignKey(
        "scenarios.Enrollment",
        on_delete=models.PROTECT,
        related_name="reexaminations",
        verbose_name=_("enrollment"),
    )
    #: Denormalised from the enrollment (scoping, ``has_open_reexamination``).
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        related_name="reexaminations",
        verbose_name=_("resident"),
    )
    #: The disputed item: a key of the entry's breakdown (``provincial.social_insurance``,
    #: ``city.charity``, ``deductions``).
    item = models.CharField(_("disputed item"), max_length=60)
    statement = models.TextField(_("statement"))
    evidence = models.ManyToManyField(
        Evidence, related_name="reexaminations", blank=True, verbose_name=_("evidence")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="reexaminations",
        verbose_name=_("department"),
    )
    state = FSMField(
        _("state"),
        max_length=10,
        choices=ReexaminationState.choices,
        default=ReexaminationState.SUBMITTED,
        protected=True,
    )
    channel = models.CharField(_("channel"), max_length=8, default="portal")
    filed_at = models.DateTimeField(_("filed at"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    #: The last day it could be filed (the publication's window), for the record.
    filing_deadline = models.DateField(_("last day to file"))
    #: The 7th working day after filing, and the calendar version it was computed with.
    due_on = models.DateField(_("due on"))
    calendar_version = models.PositiveIntegerField(_("calendar version"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: Why it was upheld or dismissed; shown to the applicant and on the corrected list.
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    #: What an upheld one changed: facts written, points / rank / allocation before and after.
    changes = models.JSONField(_("what changed"), default=dict, blank=True)
    corrected_publication = models.ForeignKey(
        "rankings.Publication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections_from_reexaminations",
        verbose_name=_("corrected list"),
    )
    #: 报备: when the result was reported to the center.
    reported_to_center_at = models.DateTimeField(
        _("reported to the center at"), null=True, blank=True
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        ordering = ["-filed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "item"],
                condition=Q(state__in=["submitted", "accepted"]),
                name="reexaminations_one_open_per_enrollment_item",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["upheld", "dismissed"])
                | (Q(decided_at__isnull=False) & ~Q(decision_reason="")),
                name="reexaminations_decided_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state"], name="reexam_department_state"),
            models.Index(fields=["resident", "state"], name="reexam_resident_state"),
            models.Index(fields=["state", "due_on"], name="reexam_state_due"),
        ]
        verbose_name = _("re-examination")
        verbose_name_plural = _("re-examinations")

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # --- the transition table (state changes only; the services do the rest) ------------

    @transition(
        field=state, source=ReexaminationState.SUBMITTED, target=ReexaminationState.ACCEPTED
    )
    def accept(self) -> None:
        pass

    @transition(
        field=state,
        source=ReexaminationState.ACCEPTED,
        target=RETURN_VALUE(ReexaminationState.UPHELD, ReexaminationState.DISMISSED),
    )
    def decide(self, outcome: str) -> str:
        return outcome

    @transition(field=state, source=list(OPEN_STATES), target=ReexaminationState.WITHDRAWN)
    def withdraw(self) -> None:
        pass
