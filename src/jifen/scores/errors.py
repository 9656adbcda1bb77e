"""Errors of stored scores: each carries a stable ``code`` and a translated message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ScoreError(Exception):
    """Base class of score errors."""

    code = "score.error"
    message = _("The score could not be computed.")

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"{self.message}{f' ({detail})' if detail else ''}")


class InvalidFacts(ScoreError):
    """The stored facts do not form a valid score profile (``detail`` names the field)."""

    code = "score.invalid_facts"
    message = _("The resident's facts cannot be scored.")


class NoPolicyForDate(ScoreError):
    """No provincial or city policy version is in force on the evaluation date."""

    code = "score.no_policy"
    message = _("No policy version is in force on the evaluation date.")


class PolicyVersionMissing(ScoreError):
    """A stored score names a policy version (or hash) that is no longer loaded."""

    code = "score.policy_missing"
    message = _("The policy version of this score is not available.")
