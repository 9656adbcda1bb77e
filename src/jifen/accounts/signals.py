"""Login and logout leave audit entries; a login stamps the session for its lifetime rules."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from jifen.accounts import auditing, sessions


@receiver(user_logged_in, dispatch_uid="jifen.accounts.login")
def on_login(sender, request, user, **kwargs) -> None:
    # django.contrib.auth.login() has already cycled the session key (no fixation).
    if request is not None and hasattr(request, "session"):
        sessions.stamp_login(request)
    auditing.user_event("auth.login", request=request, user=user)


@receiver(user_logged_out, dispatch_uid="jifen.accounts.logout")
def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None and user.is_authenticated:
        auditing.user_event("auth.logout", request=request, user=user)
