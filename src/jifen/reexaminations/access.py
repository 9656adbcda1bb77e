"""Who sees which re-examinations (the lead re-exports these from ``jifen.accounts.access``).

=================  ==========================================================================
resident           their own
clerk (a town)     those of the residents of their town (they file at the window)
reviewer (a dept)  those routed to their department
center             all
others             none
=================  ==========================================================================
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jifen.accounts.models import Role


def reexaminations_for(user: Any) -> QuerySet:
    from jifen.reexaminations.models import Reexamination

    items = Reexamination.objects.select_related("resident", "department", "enrollment")
    if user is None or not user.is_authenticated or not user.is_active:
        return items.none()
    if user.role == Role.RESIDENT:
        return items.filter(resident_id=user.resident_id)
    if user.role == Role.CLERK:
        return items.filter(resident__town_id=user.town_id)
    if user.role == Role.REVIEWER:
        return items.filter(department_id=user.department_id)
    if user.role == Role.CENTER:
        return items
    return items.none()
