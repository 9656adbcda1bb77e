"""The one authentication backend: Django's password check behind the lock-out rules.

It is the only backend in ``AUTHENTICATION_BACKENDS``, so every login path (the login page,
Django's admin login) goes through the lock-out and writes the audit entries. Successful logins
are audited where the session is created (``signals.py``, on ``user_logged_in``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.http import HttpRequest

from jifen.accounts import auditing, clock, lockout
from jifen.audit.choices import Result


class LockoutBackend(ModelBackend):
    """Username and password, with lock-out after repeated failures (see ``lockout.py``)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        now = clock.now()
        policy = lockout.LockPolicy.from_settings()
        with transaction.atomic():
            user = User._default_manager.select_for_update().filter(username=username).first()
            if user is None:
                # Hash anyway so that an unknown name takes as long as a wrong password.
                User().set_password(password)
                auditing.login_attempt(
                    "auth.login_failed",
                    request=request,
                    user=None,
                    result=Result.FAILURE,
                    data={"reason": "unknown_user"},
                )
                return None
            changed = lockout.release_expired_lock(user, now)
            if lockout.is_locked(user, now):
                if changed:  # pragma: no cover - a released lock is never still locked
                    user.save()
                auditing.login_attempt(
                    "auth.login_failed",
                    request=request,
                    user=user,
                    result=Result.DENIED,
                    data={"reason": "locked", "locked_until": user.locked_until.isoformat()},
                )
                return None
            if not user.check_password(password):
                reason = lockout.register_failure(user, now, policy)
                user.save(
                    update_fields=[
                        "failed_logins",
                        "locked_until",
                        "failure_window_started_at",
                        "failures_in_window",
                    ]
                )
                auditing.login_attempt(
                    "auth.login_failed",
                    request=request,
                    user=user,
                    result=Result.FAILURE,
                    data={"reason": "bad_password", "consecutive": user.failed_logins},
                )
                if reason is not None:
                    auditing.login_attempt(
                        "auth.locked",
                        request=request,
                        user=user,
                        result=Result.SUCCESS,
                        data={
                            "reason": reason,
                            "locked_until": user.locked_until.isoformat(),
                            "consecutive": user.failed_logins,
                            "failures_in_window": user.failures_in_window,
                        },
                    )
                return None
            if not self.user_can_authenticate(user):
                if changed:
                    user.save(update_fields=["failed_logins", "locked_until"])
                auditing.login_attempt(
                    "auth.login_failed",
                    request=request,
                    user=user,
                    result=Result.DENIED,
                    data={"reason": "inactive"},
                )
                return None
            lockout.register_success(user)
            user.save(update_fields=["failed_logins", "locked_until"])
            return user
