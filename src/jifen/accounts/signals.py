"""Login and logout leave audit entries; a login stamps the session for its lifetime rules and
records its key, so that logout and disabling the account end every session of the user."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from jifen.accounts import auditing, clock, sessions
from jifen.accounts.models import User, UserSession


def end_all_sessions(user: User) -> int:
    """Delete every recorded session of ``user`` from the session store; returns how many."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user, session_key__in=keys).delete()
    return len(keys)


@receiver(user_logged_in, dispatch_uid="jifen.accounts.login")
def on_login(sender, request, user, **kwargs) -> None:
    # django.contrib.auth.login() has already cycled the session key (no fixation).
    if request is not None and hasattr(request, "session"):
        sessions.stamp_login(request)
        if request.session.session_key is None:
            request.session.save()
        store = import_module(settings.SESSION_ENGINE).SessionStore
        # Forget the keys of this user's sessions that have ended meanwhile (expired).
        stale = [
            key
            for key in UserSession.objects.filter(user=user).values_list("session_key", flat=True)
            if not store().exists(key)
        ]
        UserSession.objects.filter(session_key__in=stale).delete()
        UserSession.objects.update_or_create(
            session_key=request.session.session_key,
            defaults={"user": user, "created_at": clock.now()},
        )
    auditing.user_event("auth.login", request=request, user=user)


@receiver(user_logged_out, dispatch_uid="jifen.accounts.logout")
def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None and user.is_authenticated:
        ended = end_all_sessions(user)
        auditing.user_event("auth.logout", request=request, user=user, data={"sessions": ended})


@receiver(post_save, sender=User, dispatch_uid="jifen.accounts.disabled")
def on_save(sender, instance: User, **kwargs) -> None:
    # A disabled account keeps no session: re-enabling it must not bring them back.
    if not instance.is_active:
        end_all_sessions(instance)
