"""Job handlers of the claims app (imported by the jobs app's autodiscovery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jifen.claims.reminders import KIND, run_reminders
from jifen.jobs.registry import periodic
from jifen.jobs.worker import JobContext


@periodic(KIND, every=dt.timedelta(hours=1))
def remind(context: JobContext) -> dict[str, Any]:
    """Deadline reminders and overdue flags, hourly (see :mod:`jifen.claims.reminders`)."""
    return run_reminders(context.now())
