"""The wall clock of the request layer (login, sessions, pages).

Domain services take ``now`` as an argument; the request layer is where "now" is read, and it
reads it here so that one seam exists for tests that need to move time (a lock that ends after
30 minutes, a session idle for 31 minutes) without a time-travel library.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

CHINA = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current time, aware (UTC)."""
    return timezone.now()


def china_today() -> dt.date:
    """Today's date in China (the platform's dates are Asia/Shanghai calendar days)."""
    return now().astimezone(CHINA).date()
