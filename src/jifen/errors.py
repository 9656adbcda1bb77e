"""The base of the domain errors of the workflow apps (claims, scenarios, rankings,
re-examinations, sanctions, policy versions).

Each error carries a stable ``code`` (for the API, tests and logs), the ``field`` at fault
(or ``None``), a translated ``message`` and the HTTP ``status`` the front doors answer with:
400 for bad input, 403 for a step the user may not take, 409 for a conflict with the current
state, 422 for what the policy or configuration refuses. Views and the API turn them into
responses naming the field; they are never a 500.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
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
