"""Errors of claims and review: each carries a stable ``code``, the ``field`` at fault (or
``None``) and a translated message. Views and the API turn them into 400/409/422 responses
naming the field; they are never a 500.

HTTP status suggested by ``status`` (the front doors may use it): 400 for bad input, 409 for a
conflict with the current state, 422 for what the policy or configuration refuses.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jifen.errors import DomainError


class ClaimError(DomainError):
    code = "claims.error"
    status = 400
    default_message = _("The claim cannot be processed.")


class InvalidClaim(ClaimError):
    """An item or value the policy refuses (unknown rule, level, negative quantity …)."""

    code = "claims.invalid"
    status = 400


class RuleNotClaimable(InvalidClaim):
    code = "claims.rule_not_claimable"


class RuleSuppliedByFeed(ClaimError):
    """The rule is supplied by a connected department feed: file a correction instead."""

    code = "claims.rule_supplied_by_feed"
    status = 422


class DuplicateOpenClaim(ClaimError):
    """The resident already has an open claim (or correction) for this rule (or fact)."""

    code = "claims.duplicate_open_claim"
    status = 409


class NoResponsibleDepartment(ClaimError):
    """The routing table names no department for the rule: a configuration problem."""

    code = "claims.no_responsible_department"
    status = 422


class TransitionNotAllowed(ClaimError):
    code = "claims.transition_not_allowed"
    status = 409


class MaterialsAlreadyRequested(TransitionNotAllowed):
    code = "claims.materials_already_requested"


class AlreadyExtended(TransitionNotAllowed):
    code = "claims.already_extended"


class NotAllowed(ClaimError):
    """The user may not perform this step on this task or claim (wrong role or unit)."""

    code = "claims.not_allowed"
    status = 403


class DeadlineUnavailable(ClaimError):
    """The working-day calendar does not cover the deadline's year (configuration problem)."""

    code = "claims.deadline_unavailable"
    status = 422

    def __init__(self, message: Any = None, *, year: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("field", "due_on")
        self.year = year
        super().__init__(message, **kwargs)
