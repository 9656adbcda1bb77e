"""Job handlers of the oversight app (imported by the jobs app's autodiscovery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jifen.jobs.registry import periodic
from jifen.jobs.worker import JobContext
from jifen.oversight import reports  # noqa: F401 - registers the monthly report job

KIND = "oversight.refresh"


@periodic(KIND, every=dt.timedelta(hours=1))
def refresh(context: JobContext) -> dict[str, Any]:
    """Refresh the oversight summary tables, hourly (see :mod:`jifen.oversight.summaries`)."""
    from jifen.oversight.summaries import refresh_all

    return refresh_all(now=context.now())
