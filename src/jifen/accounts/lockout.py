"""Login protection: consecutive-failure lock-out and an hourly ceiling on failures.

Rules (security.md, "Identity and sessions"):

- ``JIFEN_LOGIN_MAX_CONSECUTIVE_FAILURES`` (5) wrong passwords in a row lock the account for
  ``JIFEN_LOGIN_LOCK_MINUTES`` (30). While locked, no password is checked — not even the right
  one — and the attempt is refused with a message that says when to try again.
- At most ``JIFEN_LOGIN_MAX_FAILURES_PER_HOUR`` (100) failures per account per hour: failures
  are counted in a fixed one-hour window that opens at the first failure after the previous
  window closed; reaching the ceiling locks the account until the window closes. With the
  consecutive rule in force an account cannot even get near 100 (at most 5 guesses per lock
  period), so this ceiling is the backstop that still holds if the consecutive threshold is
  raised or a success between failures resets the consecutive count.
- A successful login resets the consecutive count (not the hourly window).

Counters live on the user row and are changed under ``select_for_update`` so that parallel
attempts cannot overshoot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

MAX_CONSECUTIVE_FAILURES = 5
LOCK_MINUTES = 30
MAX_FAILURES_PER_HOUR = 100
WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class LockPolicy:
    max_consecutive: int
    lock_for: dt.timedelta
    max_per_hour: int

    @classmethod
    def from_settings(cls) -> LockPolicy:
        return cls(
            max_consecutive=getattr(
                settings, "JIFEN_LOGIN_MAX_CONSECUTIVE_FAILURES", MAX_CONSECUTIVE_FAILURES
            ),
            lock_for=dt.timedelta(
                minutes=getattr(settings, "JIFEN_LOGIN_LOCK_MINUTES", LOCK_MINUTES)
            ),
            max_per_hour=getattr(
                settings, "JIFEN_LOGIN_MAX_FAILURES_PER_HOUR", MAX_FAILURES_PER_HOUR
            ),
        )


def is_locked(user, now: dt.datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def release_expired_lock(user, now: dt.datetime) -> bool:
    """Clear a lock whose time is over; the consecutive count starts again. True if changed."""
    if user.locked_until is not None and user.locked_until <= now:
        user.locked_until = None
        user.failed_logins = 0
        return True
    return False


def register_failure(user, now: dt.datetime, policy: LockPolicy) -> str | None:
    """Count one wrong password; lock when a limit is reached. Returns the lock reason or None.

    The caller saves the user.
    """
    user.failed_logins += 1
    window_start = user.failure_window_started_at
    if window_start is None or now - window_start >= WINDOW:
        user.failure_window_started_at = now
        user.failures_in_window = 0
    user.failures_in_window += 1

    if user.failures_in_window >= policy.max_per_hour:
        user.locked_until = user.failure_window_started_at + WINDOW
        return "hourly"
    if user.failed_logins >= policy.max_consecutive:
        user.locked_until = now + policy.lock_for
        return "consecutive"
    return None


def register_success(user) -> None:
    user.failed_logins = 0
    user.locked_until = None
