"""Errors of re-examinations: each carries a stable ``code``, the ``field`` at fault (or
``None``) and a translated message; views and the API answer with ``status``, never a 500.

Codes:

========================================  ====  =================================================
``reexaminations.invalid``                400   a value is refused (``item``, ``enrollment``,
                                                ``changes[0].level`` …)
``reexaminations.materials_incomplete``   400   complete materials are required: a statement
                                                (``statement``) and at least one evidence file
                                                (``evidence``)
``reexaminations.not_allowed``            403   the user may not file / act on this one
``reexaminations.window_not_open``        409   before the first day of publication
``reexaminations.window_closed``          409   after the last day of the 3-working-day window
                                                (the message names that date)
``reexaminations.duplicate_open``         409   an open re-examination of this enrollment and
                                                item exists (``.existing`` is it)
``reexaminations.transition_not_allowed`` 409   the state does not allow this step
``reexaminations.deadline_unavailable``   422   the working-day calendar does not cover the year
``reexaminations.no_responsible_department``
                                          422   no department is behind the disputed item
========================================  ====  =================================================
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jifen.errors import DomainError


class ReexaminationError(DomainError):
    code = "reexaminations.error"
    status = 400
    default_message = _("The re-examination cannot be processed.")


class InvalidReexamination(ReexaminationError):
    code = "reexaminations.invalid"
    status = 400


class MaterialsIncomplete(InvalidReexamination):
    code = "reexaminations.materials_incomplete"


class NotAllowed(ReexaminationError):
    code = "reexaminations.not_allowed"
    status = 403


class WindowNotOpen(ReexaminationError):
    code = "reexaminations.window_not_open"
    status = 409


class WindowClosed(ReexaminationError):
    """Filed after the last day; ``deadline`` is the date it missed."""

    code = "reexaminations.window_closed"
    status = 409

    @property
    def deadline(self):
        return self.params.get("deadline")


class DuplicateOpen(ReexaminationError):
    code = "reexaminations.duplicate_open"
    status = 409


class TransitionNotAllowed(ReexaminationError):
    code = "reexaminations.transition_not_allowed"
    status = 409


class DeadlineUnavailable(ReexaminationError):
    code = "reexaminations.deadline_unavailable"
    status = 422


class NoResponsibleDepartment(ReexaminationError):
    code = "reexaminations.no_responsible_department"
    status = 422
