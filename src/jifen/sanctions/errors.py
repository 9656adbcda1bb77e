"""Errors of fraud sanctions: each carries a stable ``code``, the ``field`` at fault (or
``None``) and a translated message; views and the API answer with ``status``, never a 500.

Codes:

===================================  ====  ======================================================
``sanctions.invalid``                400   a value is refused (``grounds``, ``evidence``,
                                           ``reason``)
``sanctions.not_allowed``            403   the user's role or unit may not do this
``sanctions.same_person``            403   the proposer may not confirm or reject their own
                                           case (two-person rule)
``sanctions.case_open``              409   the resident already has a proposed case
``sanctions.transition_not_allowed`` 409   the case is no longer proposed
===================================  ====  ======================================================
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jifen.errors import DomainError


class SanctionError(DomainError):
    code = "sanctions.error"
    status = 400
    default_message = _("The request cannot be processed.")


class InvalidSanction(SanctionError):
    code = "sanctions.invalid"
    status = 400


class NotAllowed(SanctionError):
    code = "sanctions.not_allowed"
    status = 403


class SamePerson(NotAllowed):
    """The two-person rule: one proposes, a different member of the center confirms."""

    code = "sanctions.same_person"


class CaseAlreadyOpen(SanctionError):
    code = "sanctions.case_open"
    status = 409


class TransitionNotAllowed(SanctionError):
    code = "sanctions.transition_not_allowed"
    status = 409
