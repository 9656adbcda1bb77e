"""Why an upload was refused: a stable ``reason`` code, the form ``field`` and a message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: The reasons an upload can be refused (stable codes, used by the API and the pages).
REASONS = ("type", "size", "empty", "count")


class EvidenceError(Exception):
    """Base of the evidence errors."""


class EvidenceRefused(EvidenceError):
    """An upload that is not stored: ``reason`` is one of :data:`REASONS`."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.message = message

    @property
    def code(self) -> str:
        return f"evidence.{self.reason}"

    def __str__(self) -> str:
        return str(self.message)


class EvidenceUnavailable(EvidenceError):
    """The file of a stored evidence row cannot be served (removed by retention, or missing)."""

    code = "evidence.unavailable"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or str(_("This file is no longer available.")))
