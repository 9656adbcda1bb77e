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

from typing import Any

from django.utils.translation import gettext_lazy as _


class SanctionError(Exception):
    code = "sanctions.error"
    status = 400
    default_message = _("The request cannot be processed.")

    def __init__(
        self,
        message: Any = None,
        *,
        field: str | None = None,
        code: str | None = None,
        **params: Any,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": str(self.message)}


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
