"""Job handlers of the claims app (imported by the jobs app's autodiscovery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jifen.claims.reminders import KIND, run_reminders
from jifen.jobs.registry import handler
from jifen.jobs.worker import JobContext

try:  # the periodic scheduler of the jobs app
    from jifen.jobs.registry import periodic
except ImportError:  # pragma: no cover - until the scheduler lands
    periodic = None


def remind(context: JobContext) -> dict[str, Any]:
    """Deadline reminders and overdue flags (see :mod:`jifen.claims.reminders`)."""
    return run_reminders(context.now())


remind = handler(KIND)(remind)
if periodic is not None:
    remind = periodic(KIND, every=dt.timedelta(hours=1))(remind)
