"""Domain errors of the fact store, each with a stable ``code`` and a translated message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class FactError(Exception):
    """Base class: ``code`` is stable (APIs, reports, tests); ``message`` is for people."""

    code = "fact_error"
    default_message = _("The fact was refused.")

    def __init__(self, message: object = None, *, field: str = "") -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        #: Which fact of an :func:`~jifen.facts.services.apply_facts` call was refused.
        self.index: int | None = None
        super().__init__(str(self.message))


class InvalidFact(FactError):
    """The values of a fact are not acceptable (negative quantity, until before date ...)."""

    code = "invalid_fact"
    default_message = _("The fact's values are not valid.")
