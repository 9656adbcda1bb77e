"""Re-examination services (积分复核). ``has_open_reexamination`` is what the scenario
blockers ask."""

from __future__ import annotations

from typing import Any


def has_open_reexamination(resident: Any) -> bool:
    """Whether ``resident`` (a Resident or its pk) has a re-examination still open
    (submitted or accepted): it blocks them from being ranked until it is decided."""
    from jifen.reexaminations.models import OPEN_STATES, Reexamination

    pk = getattr(resident, "pk", resident)
    return Reexamination.objects.filter(resident_id=pk, state__in=OPEN_STATES).exists()


__all__ = ["has_open_reexamination"]
