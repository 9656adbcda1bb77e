"""Role checks for API views: a refused role is a 403 and an ``access.denied`` entry."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from jifen.accounts import auditing
from jifen.accounts.access import role_of


class RoleAllowed(BasePermission):
    """Allows signed-in users whose role is in the view's ``allowed_roles``."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers "not authenticated"; nobody to attribute an entry to
        if role_of(request.user) in view.allowed_roles:
            return True
        auditing.access_denied(request, reason="role")
        return False
