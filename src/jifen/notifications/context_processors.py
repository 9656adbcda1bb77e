"""``inbox_unread``: the signed-in user's unread notifications, for the navigation bar.

Lazy: a callable (templates call it), queried once and only when a template uses it —
``{% if inbox_unread %}<span class="badge">{{ inbox_unread }}</span>{% endif %}``.
"""

from __future__ import annotations

import functools


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from jifen.notifications.services import unread_count

    return {"inbox_unread": functools.cache(lambda: unread_count(user))}
