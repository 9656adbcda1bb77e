"""Errors of scenarios and enrollments: each carries a stable ``code``, the ``field`` at fault
(or ``None``) and a translated message; views and the API answer 400/403/409/422 naming the
field (``status`` suggests which), never a 500.

Codes:

==================================  ====  =========================================================
``scenarios.invalid``               400   a definition or enrollment value is refused; ``field``
                                          names it (``content.tie_breaks[2]``, ``preferences[1]``)
``scenarios.not_allowed``           403   the user's role or unit may not do this
``scenarios.not_open_yet``          409   before ``open_from`` (the message gives both datetimes)
``scenarios.closed``                409   at or after ``open_until`` (the period is
                                          ``[open_from, open_until)``)
``scenarios.not_published``         409   the scenario has no published version
``scenarios.already_enrolled``      409   one enrollment per resident and scenario;
                                          ``.enrollment`` is the existing one
``scenarios.version_immutable``     409   a published version's definition cannot change
``scenarios.transition_not_allowed``409   e.g. publishing a version that is not a draft
``scenarios.no_policy``             422   no policy in force on the evaluation date
==================================  ====  =========================================================
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from jifen.errors import DomainError


class ScenarioError(DomainError):
    code = "scenarios.error"
    status = 400
    default_message = _("The request cannot be processed.")


class InvalidScenario(ScenarioError):
    """A definition value refused (``field`` like ``content.open_until``)."""

    code = "scenarios.invalid"
    status = 400


class InvalidEnrollment(ScenarioError):
    """An enrollment value refused (``details.child_birth_date``, ``preferences[0]``)."""

    code = "scenarios.invalid"
    status = 400


class NotAllowed(ScenarioError):
    code = "scenarios.not_allowed"
    status = 403


class NotOpenYet(ScenarioError):
    code = "scenarios.not_open_yet"
    status = 409


class Closed(ScenarioError):
    code = "scenarios.closed"
    status = 409


class NotPublished(ScenarioError):
    code = "scenarios.not_published"
    status = 409


class AlreadyEnrolled(ScenarioError):
    """The resident already has an enrollment in this scenario (``enrollment``)."""

    code = "scenarios.already_enrolled"
    status = 409

    def __init__(self, message: Any = None, *, enrollment: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("field", "scenario")
        self.enrollment = enrollment
        super().__init__(message, **kwargs)


class VersionImmutable(ScenarioError):
    code = "scenarios.version_immutable"
    status = 409


class TransitionNotAllowed(ScenarioError):
    code = "scenarios.transition_not_allowed"
    status = 409


class NoPolicy(ScenarioError):
    code = "scenarios.no_policy"
    status = 422
