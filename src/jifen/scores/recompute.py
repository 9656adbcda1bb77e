"""The bulk recompute as a restartable job: all residents, a town's, one, or a list of ids.

Residents are taken in primary-key order in batches (default 1000). Each batch is one
transaction that stores the scores (:func:`jifen.scores.services.recompute_batch`) and the
job's checkpoint — the last resident id done — together, so an interrupted run resumes after
the last committed batch and never scores a batch twice or skips one.

Job arguments (JSON)::

    {"scope": "all" | "town" | "resident" | "ids", "town": "wutong", "resident": "<uuid>",
     "resident_ids": ["<uuid>", ...], "on": "2025-06-01", "current": true,
     "batch_size": 1000, "reason": "feed", "part": [0, 2]}

``part`` (optional) restricts the job to one of N equal ranges of resident ids, so that N
processes can share a large recompute (``jifen scores recompute --processes N``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from jifen.audit.actors import Actor
from jifen.jobs.worker import JobContext
from jifen.residents.models import Resident
from jifen.scores.services import RECOMPUTE_ACTOR, BatchOutcome, recompute_batch

KIND = "scores.recompute"
DEFAULT_BATCH = 1000
#: Failures kept in the job's result (the count is always complete).
FAILURES_KEPT = 100


def scope_args(
    *,
    town: str | None = None,
    resident: uuid.UUID | str | None = None,
    resident_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The scope part of the arguments: everyone unless a town, a resident or ids is given."""
    if resident_ids is not None:
        return {
            "scope": "ids",
            "resident_ids": sorted(str(uuid.UUID(str(i))) for i in resident_ids),
        }
    if resident is not None:
        return {"scope": "resident", "resident": str(uuid.UUID(str(resident)))}
    if town is not None:
        return {"scope": "town", "town": town}
    return {"scope": "all"}


def part_bounds(index: int, count: int) -> tuple[uuid.UUID, uuid.UUID | None]:
    """Part ``index`` of ``count`` equal ranges of the (random, uniform) UUID key space."""
    space = 1 << 128
    low = uuid.UUID(int=index * space // count)
    high = uuid.UUID(int=(index + 1) * space // count) if index + 1 < count else None
    return low, high


def residents_in_scope(args: dict[str, Any]) -> QuerySet[Resident]:
    """The residents a recompute job covers (``part: [i, n]`` narrows to one key range)."""
    scope = args.get("scope") or ("ids" if "resident_ids" in args else "all")
    residents = Resident.objects.all()
    if scope == "town":
        residents = residents.filter(town__code=args["town"])
    elif scope == "resident":
        residents = residents.filter(pk=args["resident"])
    elif scope == "ids":
        residents = residents.filter(pk__in=[uuid.UUID(i) for i in args["resident_ids"]])
    elif scope != "all":
        raise ValueError(f"unknown recompute scope {scope!r}")
    if args.get("part"):
        low, high = part_bounds(*args["part"])
        residents = residents.filter(pk__gte=low)
        if high is not None:
            residents = residents.filter(pk__lt=high)
    return residents.order_by("pk")


def run_recompute(context: JobContext) -> dict[str, Any]:
    """The ``scores.recompute`` handler: resume from the checkpoint, batch by batch."""
    args = context.args
    on = dt.date.fromisoformat(args["on"])
    current = bool(args.get("current", True))
    size = int(args.get("batch_size") or DEFAULT_BATCH)
    actor = Actor.system(RECOMPUTE_ACTOR)
    residents = residents_in_scope(args)

    checkpoint = context.checkpoint
    after = checkpoint.get("after")
    done = int(checkpoint.get("done", 0))
    counts: dict[str, int] = dict(checkpoint.get("counts", {}))
    failures: list[dict[str, str]] = list(checkpoint.get("failures", []))
    context.progress(done, done + _remaining(residents, after))

    while True:
        page = residents if after is None else residents.filter(pk__gt=uuid.UUID(after))
        ids = list(page.values_list("pk", flat=True)[:size])
        if not ids:
            break
        last = str(ids[-1])

        def stored(outcome: BatchOutcome, last: str = last, upto: int = done + len(ids)) -> None:
            for key, value in outcome.counts().items():
                counts[key] = counts.get(key, 0) + value
            for resident_id, error in outcome.failures.items():
                if len(failures) < FAILURES_KEPT:
                    failures.append(
                        {"resident": str(resident_id), "code": error.code, "detail": error.detail}
                    )
            context.save_checkpoint(
                {"after": last, "done": upto, "counts": counts, "failures": failures},
                done=upto,
            )

        with transaction.atomic():
            recompute_batch(
                ids, on=on, now=context.now(), actor=actor, current=current, on_stored=stored
            )
        after = last
        done += len(ids)
    return {"on": on.isoformat(), "residents": done, **counts, "failures": failures}


def _remaining(residents: QuerySet[Resident], after: str | None) -> int:
    if after is not None:
        residents = residents.filter(pk__gt=uuid.UUID(after))
    return residents.count()
