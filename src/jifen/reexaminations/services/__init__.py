"""Re-examination services (积分复核): filing and withdrawal (``filing``), acceptance and the
decision (``review``). ``has_open_reexamination`` is what the scenario blockers ask."""

from __future__ import annotations

from typing import Any

from jifen.reexaminations.services.filing import file_reexamination, withdraw
from jifen.reexaminations.services.review import FactChange, accept, decide


def has_open_reexamination(resident: Any) -> bool:
    """Whether ``resident`` (a Resident or its pk) has a re-examination still open
    (submitted or accepted): it blocks them from being ranked until it is decided."""
    from jifen.reexaminations.models import OPEN_STATES, Reexamination

    pk = getattr(resident, "pk", resident)
    return Reexamination.objects.filter(resident_id=pk, state__in=OPEN_STATES).exists()


__all__ = [
    "FactChange",
    "accept",
    "decide",
    "file_reexamination",
    "has_open_reexamination",
    "withdraw",
]
