"""Whether a resident's points are valid, lapsed (their current residence permit) or cleared
(a confirmed fraud case, measures 五.1: ``sanctions.PointsClearance``).

Measures 三.6: while the permit is suspended or cancelled the points lapse. A resident with no
permit on record has no valid permit either, so their points are lapsed too. The current
permit is the latest issued (the rule of ``jifen.residents.services.current_permit``); it is
read here in two queries for a whole batch of residents, as of the evaluation date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jifen.residents.models import PermitStatus, PermitStatusChange, ResidencePermit
from jifen.scores.models import ScoreStatus

#: Stored when the status change gives no reason (the interface translates these msgids).
REASON_SUSPENDED = "residence permit suspended"
REASON_CANCELLED = "residence permit cancelled"
REASON_NO_PERMIT = "no residence permit on record"
REASON_CLEARED = "points cleared: obtained with false materials"
_DEFAULT_REASONS = {
    PermitStatus.SUSPENDED.value: REASON_SUSPENDED,
    PermitStatus.CANCELLED.value: REASON_CANCELLED,
}
_REASON_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Standing:
    """The status a score gets: valid, or lapsed or cleared with the reason and the date."""

    status: str
    reason: str = ""
    since: dt.date | None = None
    permit_status: str | None = None

    @property
    def lapsed(self) -> bool:
        return self.status == ScoreStatus.LAPSED


def standings(resident_ids: Iterable[uuid.UUID], on: dt.date) -> dict[uuid.UUID, Standing]:
    """Each resident's standing on ``on`` (two queries, whatever the number of residents).

    The batch form of ``jifen.residents.services.permit_status_on``: the latest permit issued
    on or before ``on`` (latest ``issued_on``, then highest id), and its latest status change
    effective on or before ``on`` (later recorded wins on the same day); a permit without
    history rows has its stored status.
    """
    ids = list(resident_ids)
    current: dict[uuid.UUID, Any] = {}
    permits = (
        ResidencePermit.objects.filter(resident_id__in=ids, issued_on__lte=on)
        .order_by("resident_id", "-issued_on", "-id")
        .values_list("id", "resident_id", "status", "status_since", named=True)
    )
    for permit in permits:
        current.setdefault(permit.resident_id, permit)
    latest: dict[uuid.UUID, Any] = {}
    changes = (
        PermitStatusChange.objects.filter(
            permit_id__in=[p.id for p in current.values()], effective_on__lte=on
        )
        .order_by("permit_id", "-effective_on", "-recorded_at", "-id")
        .values_list("permit_id", "status", "effective_on", "reason", named=True)
    )
    for change in changes:
        latest.setdefault(change.permit_id, change)
    result: dict[uuid.UUID, Standing] = {}
    for resident_id in ids:
        permit = current.get(resident_id)
        if permit is None:
            result[resident_id] = Standing(ScoreStatus.LAPSED.value, REASON_NO_PERMIT)
            continue
        change = latest.get(permit.id)
        if change is not None:
            status, since, reason = str(change.status), change.effective_on, change.reason
        else:
            status, since, reason = str(permit.status), permit.status_since, ""
        if status in PermitStatus.lapsing():
            reason = (reason or _DEFAULT_REASONS[status])[:_REASON_LENGTH]
            result[resident_id] = Standing(ScoreStatus.LAPSED.value, reason, since, status)
        else:
            result[resident_id] = Standing(ScoreStatus.VALID.value, permit_status=status)
    # A clearance outweighs the permit: the points stay cleared whatever the permit does.
    from jifen.sanctions.services import cleared_resident_ids

    for resident_id, clearance in cleared_resident_ids(ids, on).items():
        permit_status = result[resident_id].permit_status
        result[resident_id] = Standing(
            ScoreStatus.CLEARED.value, REASON_CLEARED, clearance.cleared_on, permit_status
        )
    return result
