"""Domain errors of the simulations: a stable ``code``, the ``field`` at fault, a message."""

from __future__ import annotations

from typing import Any


class SimulationError(Exception):
    code = "simulations.error"
    status = 400

    def __init__(self, message: Any, *, field: str = "", code: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NotAllowed(SimulationError):
    code = "simulations.not_allowed"
    status = 403


class InvalidDraft(SimulationError):
    code = "simulations.invalid_draft"
    status = 422
