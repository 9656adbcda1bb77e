"""Points claims (积分申请), corrections (积分异议/变更) and their review by departments.

A resident (or a window clerk on their behalf) files a :class:`Claim` of one or more
:class:`ClaimItem` (one city rule each). Each item is routed to its responsible department;
the items of one department form one :class:`ReviewTask`, reviewed under a working-day
deadline with the explicit transition table below (django-fsm-2). A task may get exactly one
:class:`MaterialsNotice` (一次性告知); the database refuses a second.

Review transitions (``ReviewTask.state``; anything not listed is refused):

====================  =====================================  ==========================
transition            from                                   to
====================  =====================================  ==========================
accept                submitted                              accepted
request_materials     submitted, accepted (no notice yet)    materials_requested
supplement            materials_requested                    submitted
extend                accepted (not extended yet)            accepted
decide                accepted                               approved / partly_approved
                                                             / rejected
refuse                submitted                              rejected
withdraw              submitted, accepted,                   withdrawn
                      materials_requested
====================  =====================================  ==========================
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from jifen.evidence.models import Evidence
from jifen.facts.models import Fact
from jifen.org.models import Department, Town
from jifen.residents.models import Resident


class ClaimKind(models.TextChoices):
    CLAIM = "claim", _("points claim")
    CORRECTION = "correction", _("points correction")


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    DECIDED = "decided", _("decided")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Channel(models.TextChoices):
    PORTAL = "portal", _("online portal")
    WINDOW = "window", _("service window")


class Outcome(models.TextChoices):
    APPROVED = "approved", _("approved")
    ADJUSTED = "adjusted", _("approved with changes")
    REJECTED = "rejected", _("rejected")


class ReviewState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    MATERIALS_REQUESTED = "materials_requested", _("materials requested")
    APPROVED = "approved", _("approved")
    PARTLY_APPROVED = "partly_approved", _("partly approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


#: States in which a task is still open (not decided, not withdrawn).
OPEN_STATES = (ReviewState.SUBMITTED, ReviewState.ACCEPTED, ReviewState.MATERIALS_REQUESTED)
#: Terminal states that carry a decision.
DECIDED_STATES = (ReviewState.APPROVED, ReviewState.PARTLY_APPROVED, ReviewState.REJECTED)


class Claim(models.Model):
    """One application by one resident: a points claim or a correction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="claims", verbose_name=_("resident")
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=ClaimKind.choices, default=ClaimKind.CLAIM
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT
    )
    #: The application number (``SQ2026000123``; corrections ``GZ…``), set at submission.
    number = models.CharField(_("application number"), max_length=20, blank=True, default="")
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.PORTAL
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="claims_filed",
        verbose_name=_("filed by"),
    )
    filed_at_town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
        verbose_name=_("filed at the window of"),
    )
    #: The half-filled wizard state of a draft (no personal data beyond what the form holds).
    draft = models.JSONField(_("draft"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)
    evidence = models.ManyToManyField(
        Evidence,
        through="ClaimEvidence",
        related_name="claims",
        blank=True,
        verbose_name=_("evidence"),
    )

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="claims_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "withdrawn"]) | ~Q(number=""),
                name="claims_submitted_has_number",
            ),
        ]
        indexes = [models.Index(fields=["resident", "status"], name="claims_resident_status")]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")

    def __str__(self) -> str:
        return self.number or f"draft {self.pk}"


def _no_notice_yet(task: ReviewTask) -> bool:
    return not task.has_notice()


def _not_extended_yet(task: ReviewTask) -> bool:
    return not task.extended


class ReviewTask(FSMModelMixin, models.Model):
    """The items of one claim that one department reviews; see the module's transition table."""

    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("claim")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="review_tasks",
        verbose_name=_("department"),
    )
    state = FSMField(
        _("state"),
        max_length=20,
        choices=ReviewState.choices,
        default=ReviewState.SUBMITTED,
        protected=True,
    )
    created_at = models.DateTimeField(_("created at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    #: The working-day calendar version ``due_on`` was computed with.
    calendar_version = models.PositiveIntegerField(_("calendar version"), null=True, blank=True)
    extended = models.BooleanField(_("extended"), default=False)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: Why the task was refused or rejected; shown to the resident.
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    #: The last day a reminder about the deadline was sent to the department.
    reminded_on = models.DateField(_("reminded on"), null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "department"], name="claims_one_task_per_claim_department"
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state"], name="claims_task_department_state"),
            models.Index(fields=["state", "due_on"], name="claims_task_state_due"),
        ]
        verbose_name = _("review task")
        verbose_name_plural = _("review tasks")

    def __str__(self) -> str:
        return f"{self.claim} → {self.department.code}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def has_notice(self) -> bool:
        return MaterialsNotice.objects.filter(task_id=self.pk).exists()

    # --- the transition table (state changes only; the services do the rest) ------------

    @transition(field=state, source=ReviewState.SUBMITTED, target=ReviewState.ACCEPTED)
    def accept(self) -> None:
        pass

    @transition(
        field=state,
        source=[ReviewState.SUBMITTED, ReviewState.ACCEPTED],
        target=ReviewState.MATERIALS_REQUESTED,
        conditions=[_no_notice_yet],
    )
    def request_materials(self) -> None:
        pass

    @transition(field=state, source=ReviewState.MATERIALS_REQUESTED, target=ReviewState.SUBMITTED)
    def supplement(self) -> None:
        pass

    @transition(
        field=state,
        source=ReviewState.ACCEPTED,
        target=ReviewState.ACCEPTED,
        conditions=[_not_extended_yet],
    )
    def extend(self) -> None:
        pass

    @transition(
        field=state,
        source=ReviewState.ACCEPTED,
        target=RETURN_VALUE(
            ReviewState.APPROVED, ReviewState.PARTLY_APPROVED, ReviewState.REJECTED
        ),
    )
    def decide(self, outcome: str) -> str:
        return outcome

    @transition(field=state, source=ReviewState.SUBMITTED, target=ReviewState.REJECTED)
    def refuse(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_STATES), target=ReviewState.WITHDRAWN)
    def withdraw(self) -> None:
        pass


class ClaimItem(models.Model):
    """One claimed rule (or one disputed fact) of a claim, routed to one department."""

    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="items", verbose_name=_("claim")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    #: Denormalised from the claim for the "one open item per rule" constraint.
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="claim_items")
    rule = models.CharField(_("rule"), max_length=60)
    #: Corrections: the key of the disputed fact.
    fact_key = models.CharField(_("fact key"), max_length=120, blank=True)
    disputed_fact = models.ForeignKey(
        Fact, on_delete=models.PROTECT, null=True, blank=True, related_name="disputes"
    )
    level = models.CharField(_("level"), max_length=40, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    date = models.DateField(_("date"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)
    statement = models.TextField(_("statement"), blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="claim_items")
    task = models.ForeignKey(ReviewTask, on_delete=models.PROTECT, related_name="items")
    is_open = models.BooleanField(_("open"), default=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    approved_level = models.CharField(_("approved level"), max_length=40, blank=True)
    approved_quantity = models.DecimalField(
        _("approved quantity"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    approved_date = models.DateField(_("approved date"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    fact = models.ForeignKey(
        Fact, on_delete=models.PROTECT, null=True, blank=True, related_name="claim_items"
    )

    class Meta:
        ordering = ["claim", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "rule"],
                condition=Q(is_open=True, fact_key=""),
                name="claims_one_open_item_per_resident_rule",
            ),
            models.UniqueConstraint(
                fields=["resident", "fact_key"],
                condition=Q(is_open=True) & ~Q(fact_key=""),
                name="claims_one_open_correction_per_fact",
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=0),
                name="claims_item_quantity_not_negative",
            ),
        ]
        verbose_name = _("claim item")
        verbose_name_plural = _("claim items")

    def __str__(self) -> str:
        return f"{self.claim} #{self.position} {self.rule}"


class MaterialsNotice(models.Model):
    """The one materials notice (一次性告知) of a task: everything missing, listed at once."""

    task = models.OneToOneField(
        ReviewTask,
        on_delete=models.PROTECT,
        related_name="materials_notice",
        verbose_name=_("review task"),
    )
    items = models.JSONField(_("missing materials"))
    note = models.TextField(_("note"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"))
    supplemented_at = models.DateTimeField(_("supplemented at"), null=True, blank=True)
    supplemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    supplement_note = models.TextField(_("supplement note"), blank=True)

    class Meta:
        constraints = [
            # The OneToOne already refuses a second notice; named so the error is recognisable.
            models.UniqueConstraint(fields=["task"], name="claims_one_materials_notice_per_task"),
        ]
        verbose_name = _("materials notice")
        verbose_name_plural = _("materials notices")

    def __str__(self) -> str:
        return f"notice for {self.task}"


class ClaimEvidence(models.Model):
    """An evidence file attached to a claim: to the whole claim, to one item, or as the
    supplement answering a materials notice."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence_links")
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="claim_links")
    item = models.ForeignKey(
        ClaimItem, on_delete=models.PROTECT, null=True, blank=True, related_name="evidence_links"
    )
    notice = models.ForeignKey(
        MaterialsNotice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_links",
    )
    added_at = models.DateTimeField(_("added at"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "evidence"], name="claims_evidence_once_per_claim"
            ),
        ]
        verbose_name = _("claim evidence")
        verbose_name_plural = _("claim evidence")

    def __str__(self) -> str:
        return f"{self.claim} ← {self.evidence_id}"


class NumberCounter(models.Model):
    """The last application number given per prefix and year (``SQ`` 2026 → 123)."""

    prefix = models.CharField(max_length=4)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="claims_counter_prefix_year")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}{self.year}: {self.last}"
