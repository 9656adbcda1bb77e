"""Job handlers of the scores app (imported by the jobs app's autodiscovery)."""

from __future__ import annotations

from typing import Any

from jifen.jobs.registry import handler
from jifen.jobs.worker import JobContext
from jifen.scores.recompute import KIND, run_recompute


@handler(KIND)
def recompute(context: JobContext) -> dict[str, Any]:
    """Recompute scores of the job's residents (see :mod:`jifen.scores.recompute`)."""
    return run_recompute(context)
