"""Job handlers of the rankings app (imported by the jobs app's autodiscovery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jifen.jobs.registry import periodic
from jifen.jobs.worker import JobContext
from jifen.rankings.services.publication import TAKE_DOWN_JOB, take_down_due


@periodic(TAKE_DOWN_JOB, every=dt.timedelta(hours=1))
def take_down(context: JobContext) -> dict[str, Any]:
    """Take down the public lists whose publication and re-examination windows are over."""
    return {"taken_down": take_down_due(now=context.now())}
