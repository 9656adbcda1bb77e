"""Errors of residents and residence permits.

Each carries a stable ``code`` (for APIs, feed reports and tests) and a translated message.
Messages never repeat an identity, phone or permit number: they say what is wrong, not with
what, so they are safe to log and to show in a feed import report.
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class ResidentError(Exception):
    """Base class of the errors of this app."""

    code = "residents.error"
    message = _("The resident could not be saved.")

    def __init__(self, message=None, **params) -> None:
        self.params = params
        text = message if message is not None else self.message
        # Lazy, so a view renders the message in the request's language.
        self.message = format_lazy(text, **params) if params else text
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


class InvalidResidentData(ResidentError):
    """A field of a resident or permit is refused; ``field`` names it, ``reason`` says why.

    ``reason`` is a stable code: for identity numbers one of :class:`jifen.identity.Reason`
    (``length``, ``characters``, ``region``, ``birth_date``, ``future_birth_date``,
    ``check_digit``), otherwise ``required``, ``too_long``, ``format``, ``mismatch``,
    ``future``, ``before_birth``.
    """

    code = "residents.invalid"

    def __init__(self, field: str, reason: str, message) -> None:
        self.field = field
        self.reason = reason
        super().__init__(message)


class DuplicateResident(ResidentError):
    """A resident with this identity number is already registered (field ``identity_number``)."""

    code = "residents.duplicate_identity_number"
    message = _("A resident with this identity number is already registered.")
    field = "identity_number"


class DuplicatePermit(ResidentError):
    """A residence permit with this number already exists (field ``permit_number``)."""

    code = "residents.duplicate_permit_number"
    message = _("A residence permit with this number already exists.")
    field = "permit_number"


class PermitTransitionRefused(ResidentError):
    """The permit cannot move from its current status to the requested one."""

    code = "permits.transition_refused"
    message = _("A residence permit cannot change from “{before}” to “{after}”.")

    def __init__(self, before: str, after: str, message=None) -> None:
        from jifen.residents.models import PermitStatus

        self.before = before
        self.after = after
        super().__init__(
            message,
            before=PermitStatus(before).label,
            after=PermitStatus(after).label,
        )


class PermitStatusUnchanged(PermitTransitionRefused):
    """The permit already has the requested status (a repeated feed row, say).

    A subclass of :class:`PermitTransitionRefused` with its own code, so a feed importer can
    report the row as "unchanged" instead of "rejected".
    """

    code = "permits.status_unchanged"
    message = _("The residence permit already has the status “{after}”.")


class PermitEffectiveDateRefused(ResidentError):
    """The effective date of a status change is before the current status began, or in
    the future; ``reason`` is ``before_status_since`` or ``future``."""

    code = "permits.effective_date_refused"
    field = "effective_on"

    def __init__(self, reason: str, message) -> None:
        self.reason = reason
        super().__init__(message)
