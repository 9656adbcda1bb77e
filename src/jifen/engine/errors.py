"""Errors of the scoring engine. Each names where the problem is and why."""

from __future__ import annotations


class PolicyError(ValueError):
    """A policy file is refused: names the file, the path inside it and the reason."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        self.file = file
        self.path = path
        self.reason = reason
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {reason}")


class ProfileError(ValueError):
    """A score profile is invalid: names the field (``city[2].date``) and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NoPolicyInForce(LookupError):
    """No policy version of a tier is in force on the requested date."""
