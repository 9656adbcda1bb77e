"""Policy versions drafted, approved and published through the platform.

A :class:`PolicyVersion` holds one version of one tier's indicator table as the *canonical
YAML text* of the same mapping a file of ``policies/`` holds (:mod:`jifen.policies.content`),
validated by :func:`jifen.engine.policy.parse_policy` exactly as a file is.

Transitions (``PolicyVersion.state``; anything not listed is refused):

=========  =========  =========  ==============================================================
step       from       to         who
=========  =========  =========  ==============================================================
draft      (new)      draft      a center user (the proposer), from the version in force or an
                                 imported file
edit       draft      draft      a center user
approve    draft      approved   a center user who is NOT the proposer (service and the check
                                 constraint ``policies_approver_not_proposer``); records the
                                 approving document (number, date) and the effective date
publish    approved   published  a center user; from then on the version is part of
                                 ``jifen.scores.policies.current_policies()`` and takes effect
                                 on its effective date
=========  =========  =========  ==============================================================

Drafts and approved versions never affect scores; a published version's text never changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PolicyState(models.TextChoices):
    DRAFT = "draft", _("draft")
    APPROVED = "approved", _("approved")
    PUBLISHED = "published", _("published")


class PolicyVersion(models.Model):
    """One version of one tier's indicator table, as drafted, approved and published."""

    #: The version's id inside the content (``tongxiang-2026-03-01``); unique.
    policy_id = models.CharField(_("policy version"), max_length=100, unique=True)
    scope = models.CharField(_("scope"), max_length=50)
    tier = models.CharField(_("tier"), max_length=20)
    state = models.CharField(
        _("state"), max_length=10, choices=PolicyState.choices, default=PolicyState.DRAFT
    )
    #: The version the draft started from (the version in force then), by id.
    base_policy = models.CharField(_("base version"), max_length=100, blank=True)
    #: Canonical YAML text of the content (see :mod:`jifen.policies.content`).
    text = models.TextField(_("content"))
    #: ``jifen.engine.policy.content_hash`` of the content.
    content_hash = models.CharField(_("content hash"), max_length=64)
    effective_from = models.DateField(_("effective from"))

    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="policy_versions_proposed",
        verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policy_versions_approved",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    document_number = models.CharField(_("approving document number"), max_length=100, blank=True)
    document_date = models.DateField(_("approving document date"), null=True, blank=True)

    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policy_versions_published",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ("-pk",)
        indexes = [models.Index(fields=["state", "scope"], name="policies_state_scope")]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("proposed_by")),
                name="policies_approver_not_proposer",
            ),
            models.CheckConstraint(
                condition=Q(state=PolicyState.DRAFT)
                | (
                    Q(
                        approved_by__isnull=False,
                        approved_at__isnull=False,
                        document_date__isnull=False,
                    )
                    & ~Q(document_number="")
                ),
                name="policies_approval_recorded",
            ),
            models.CheckConstraint(
                condition=~Q(state=PolicyState.PUBLISHED)
                | Q(published_by__isnull=False, published_at__isnull=False),
                name="policies_publication_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} ({self.state})"

    @property
    def is_draft(self) -> bool:
        return self.state == PolicyState.DRAFT
