"""Putting work on the queue.

A job row is created in the caller's transaction: workers read committed rows only, so a job
starts only after the transaction that asked for it commits, and a rollback leaves no job
behind (the outbox pattern; no broker needed).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from jifen.jobs.models import Job
from jifen.jobs.registry import get_handler

DEFAULT_MAX_ATTEMPTS = 3


def enqueue(
    kind: str,
    args: dict[str, Any],
    *,
    now: dt.datetime,
    run_after: dt.datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job:
    """Queue a job of ``kind`` (a registered handler) with JSON ``args``.

    Claimable once the caller's transaction commits and ``run_after`` (default ``now``) has
    passed. Raises ``UnknownJobKind`` for a kind without a handler and ``TypeError`` /
    ``ValueError`` for arguments that are not plain JSON.
    """
    get_handler(kind)
    if not isinstance(args, dict):
        raise TypeError("job arguments must be a JSON object (a dict)")
    json.dumps(args, allow_nan=False)  # refuse what the JSON column would mangle
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    return Job.objects.create(
        kind=kind,
        args=args,
        run_after=run_after or now,
        created_at=now,
        max_attempts=max_attempts,
    )
