"""Session lifetime: idle timeout and absolute lifetime, for every signed-in user.

At login the session gets two stamps (seconds since the epoch): when the user logged in and
when they were last seen. :class:`SessionLifetimeMiddleware` ends a session idle for longer than
``JIFEN_SESSION_IDLE_SECONDS`` (30 minutes: residents 30, staff 15–30 by the baseline) or older
than ``JIFEN_SESSION_ABSOLUTE_SECONDS`` (12 hours), whatever the activity. A session without
stamps (created before this rule, or by anything but a login) is ended too: fail closed.

"Last seen" is rewritten at most once a minute so that not every request writes the session.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from jifen.accounts import auditing, clock

LOGIN_AT = "jifen_login_at"
SEEN_AT = "jifen_seen_at"
IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 60 * 60
SEEN_RESOLUTION = 60


def idle_seconds() -> int:
    return int(getattr(settings, "JIFEN_SESSION_IDLE_SECONDS", IDLE_SECONDS))


def absolute_seconds() -> int:
    return int(getattr(settings, "JIFEN_SESSION_ABSOLUTE_SECONDS", ABSOLUTE_SECONDS))


def stamp_login(request: HttpRequest) -> None:
    """Called at login (after Django rotated the session key)."""
    now = clock.now().timestamp()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def expiry_reason(session, now: float) -> str | None:
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int | float) or not isinstance(seen_at, int | float):
        return "unstamped"
    if now - login_at > absolute_seconds():
        return "absolute"
    if now - seen_at > idle_seconds():
        return "idle"
    return None


class SessionLifetimeMiddleware:
    """Ends expired sessions; place it after the authentication and message middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = clock.now().timestamp()
            reason = expiry_reason(request.session, now)
            if reason is not None:
                auditing.user_event(
                    "auth.session_expired", request=request, user=user, data={"reason": reason}
                )
                request.session.flush()
                anonymous = AnonymousUser()
                request.user = anonymous

                async def auser() -> AnonymousUser:
                    return anonymous

                request.auser = auser
                messages.info(
                    request, _("Your session has ended. Please log in again."), fail_silently=True
                )
            elif now - request.session[SEEN_AT] >= SEEN_RESOLUTION:
                request.session[SEEN_AT] = now
        return self.get_response(request)
