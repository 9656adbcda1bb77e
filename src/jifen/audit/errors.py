"""Errors of the audit log. Each carries a stable ``code``; messages are for developers."""

from __future__ import annotations


class AuditError(Exception):
    """Base class: an audit entry could not be written, or the log was misused."""

    code = "audit.error"


class MissingActor(AuditError, ValueError):
    """No actor, or an anonymous user: an audit entry without an actor is a bug."""

    code = "audit.missing_actor"


class InvalidAuditEntry(AuditError, ValueError):
    """A field of the entry is invalid; ``errors`` maps field names to messages."""

    code = "audit.invalid_entry"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        super().__init__(f"invalid audit entry: {details}")


class AppendOnlyViolation(AuditError):
    """Something tried to change or delete an audit entry."""

    code = "audit.append_only"

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(f"audit log is append-only: {operation} refused")


class AuditWriteError(AuditError):
    """The entry could not be stored faithfully (for example it does not verify after writing)."""

    code = "audit.write_failed"
