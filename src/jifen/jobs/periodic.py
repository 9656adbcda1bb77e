"""Periodic jobs: each due slot of a ``@periodic`` kind is enqueued once, by whichever worker
gets there first.

A slot is the start of the current period (``every`` counted from a fixed epoch). Enqueuing
inserts a :class:`~jifen.jobs.models.PeriodicSlot` row and the job in one transaction; the
unique key ``(kind, slot)`` refuses a second worker's insert, on SQLite and PostgreSQL alike
(on PostgreSQL the second insert waits for the first transaction, then fails).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.db import DatabaseError, IntegrityError, transaction

from jifen.jobs.models import Job, PeriodicSlot
from jifen.jobs.queue import enqueue
from jifen.jobs.registry import Schedule, periodic_kinds

logger = logging.getLogger(__name__)

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def slot_of(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """The start of the slot ``now`` falls in."""
    origin = EPOCH + schedule.offset
    periods = (now - origin) // schedule.every
    return origin + periods * schedule.every


def schedule_due(*, now: dt.datetime, kinds: Sequence[str] | None = None) -> list[Job]:
    """Enqueue the current slot of every periodic kind (of ``kinds``) not enqueued yet."""
    created: list[Job] = []
    for kind, schedule in sorted(periodic_kinds().items()):
        if kinds and kind not in kinds:
            continue
        slot = slot_of(schedule, now)
        if PeriodicSlot.objects.filter(kind=kind, slot=slot).exists():
            continue
        try:
            with transaction.atomic():
                entry = PeriodicSlot.objects.create(kind=kind, slot=slot, created_at=now)
                job = enqueue(kind, {"slot": slot.isoformat()}, now=now)
                entry.job = job
                entry.save(update_fields=["job"])
        except IntegrityError:
            continue  # another worker enqueued this slot
        except DatabaseError:  # SQLite busy: the next poll tries again
            logger.debug("periodic %s: slot %s not enqueued this time", kind, slot)
            continue
        logger.info("periodic %s: enqueued job #%s for %s", kind, job.pk, slot.isoformat())
        created.append(job)
    return created
