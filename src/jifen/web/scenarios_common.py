"""Shared by the scenario pages (portal, workbench, public lists): error fields, labels of the
points items, China-time formatting, and the errors of the four domain apps."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from jifen.rankings.errors import RankingError
from jifen.reexaminations.errors import ReexaminationError
from jifen.sanctions.errors import SanctionError
from jifen.scenarios.errors import ScenarioError
from jifen.web.claims_portal import FieldErrors

CHINA_FMT = "%Y-%m-%d %H:%M:%S"
#: Every domain error of issue 5 (each has ``code``, ``field``, ``message``, ``status``).
DOMAIN_ERRORS = (ScenarioError, RankingError, ReexaminationError, SanctionError)
_INDEX = re.compile(r"\[\d+\].*$")
#: Content fields edited as one text area (an error inside them is shown at the area).
LIST_FIELDS = ("quotas", "tie_breaks", "score_basis.items", "preferences", "changes")


def field_key(name: str | None) -> str:
    """A service's field path as the form's field name: ``content.eligibility.min_total`` →
    ``eligibility_min_total``; ``content.quotas[1].places`` → ``quotas``;
    ``preferences[2]`` → ``preferences``; ``details.child_birth_date`` → ``child_birth_date``."""
    if not name:
        return "general"
    name = name.removeprefix("content.").removeprefix("details.")
    for prefix in LIST_FIELDS:
        if name == prefix or name.startswith((prefix + "[", prefix + ".")):
            return prefix.replace(".", "_")
    return _INDEX.sub("", name).replace(".", "_") or "general"


def add_error(errors: FieldErrors, exc: Any) -> None:
    """Add a domain error under its form field (the full path is kept in the message when a
    list field is at fault, so the line is named)."""
    field = getattr(exc, "field", None)
    key = field_key(field)
    message = str(getattr(exc, "message", exc))
    if field and "[" in field:
        message = f"{field.removeprefix('content.')}: {message}"
    errors.add(key, message)


def shown(value: dt.datetime | None) -> str:
    from jifen.scenarios.content import CHINA

    return value.astimezone(CHINA).strftime(CHINA_FMT) if value else ""


def item_labels(on: dt.date) -> dict[str, str]:
    """Labels of the points items in force on ``on`` (the public lists' column names)."""
    from jifen.rankings.exports import item_labels as labels

    try:
        return labels(on)
    except Exception:  # no policy in force: show the codes
        return {}


def breakdown_rows(breakdown: dict[str, Any] | None, on: dt.date) -> list[tuple[str, str, str]]:
    """``[(code, label, points)]`` of a breakdown, in the policy's order."""
    labels = item_labels(on)
    order = {code: i for i, code in enumerate(labels)}
    codes = sorted((breakdown or {}), key=lambda c: (order.get(c, len(order)), c))
    return [(c, labels.get(c, c), str((breakdown or {})[c])) for c in codes]
