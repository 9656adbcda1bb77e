"""Job handlers of the operations app (imported by the jobs app's autodiscovery)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jifen.jobs.registry import periodic
from jifen.jobs.worker import JobContext
from jifen.operations.retention import JOB_KIND, apply_retention


@periodic(JOB_KIND, every=dt.timedelta(days=1), offset=dt.timedelta(hours=-5))
def evidence_retention(context: JobContext) -> dict[str, Any]:
    """Delete the evidence files whose retention period ended; daily at 03:00 China time."""
    return apply_retention(now=context.now()).as_dict()
