"""``inbox_unread``: the signed-in user's unread notifications, for the navigation bar.

Lazy: the count is queried only when a template uses it.
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from jifen.notifications.services import unread_count

    return {"inbox_unread": SimpleLazyObject(lambda: unread_count(user))}
