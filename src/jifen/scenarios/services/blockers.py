"""What keeps an enrollment from being ranked until it is resolved (measures 三.7):

=====================================  ===========================================================
``scenarios.blocked.score_lapsed``     the resident's points have lapsed (permit suspended,
                                       cancelled or missing) or were cleared
``scenarios.blocked.open_claim``       a points claim of the resident is still under review
``scenarios.blocked.open_correction``  a correction (积分异议/变更) is still under review
``scenarios.blocked.open_reexamination``  a re-examination (积分复核) of the resident is open
``scenarios.blocked.not_scored``       (set by the evaluation) the score could not be computed
=====================================  ===========================================================

The open re-examination check calls ``jifen.reexaminations.services.has_open_reexamination``
when that app provides it (imported lazily; skipped while it does not exist yet).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jifen.audit.actors import Actor
from jifen.residents.models import Resident
from jifen.scenarios.models import Enrollment, EnrollmentStatus
from jifen.scenarios.services._common import audit, notify_resident

#: Score statuses that block (``cleared``: points cleared after fraud, once scores have it).
BLOCKING_SCORE_STATUSES = ("lapsed", "cleared")
BLOCKER_ACTOR = "job:scenarios.blockers"


def _reason(code: str, message: Any) -> dict[str, str]:
    return {"code": code, "message": str(message)}


def _reexamination_check():
    """``has_open_reexamination(resident) -> bool`` of the re-examinations app, or None."""
    try:
        from jifen.reexaminations.services import has_open_reexamination
    except ImportError:
        return None
    return has_open_reexamination


def _bulk_reexamination_check():
    """``residents_with_open_reexamination(ids) -> set of ids`` if the app offers it (one
    query for a whole evaluation chunk), else None (then one query per resident)."""
    try:
        from jifen.reexaminations.services import residents_with_open_reexamination
    except ImportError:
        return None
    return residents_with_open_reexamination


def blockers_for(
    residents: Iterable[Resident], *, now: dt.datetime
) -> dict[uuid.UUID, list[dict[str, str]]]:
    """Every blocker of each resident, as ``[{"code", "message"}]`` (a handful of queries)."""
    from jifen.claims.models import ClaimItem
    from jifen.scores.models import Score
    from jifen.scores.services import china_date
    from jifen.scores.standing import standings

    residents = list(residents)
    ids = [r.pk for r in residents]
    found: dict[uuid.UUID, list[dict[str, str]]] = {i: [] for i in ids}
    if not ids:
        return found
    current = {
        s.resident_id: s
        for s in Score.objects.filter(resident_id__in=ids, is_current=True).only(
            "resident_id", "status", "lapse_reason"
        )
    }
    unscored = [i for i in ids if i not in current]
    standing = standings(unscored, china_date(now)) if unscored else {}
    for resident_id in ids:
        score = current.get(resident_id)
        if score is not None:
            status, why = score.status, score.lapse_reason
        else:
            state = standing[resident_id]
            status, why = state.status, state.reason
        if status in BLOCKING_SCORE_STATUSES:
            found[resident_id].append(
                _reason(
                    "scenarios.blocked.score_lapsed",
                    _(
                        "Your points are not valid (%(reason)s). Once your residence permit "
                        "is valid again and your points are restored, the block is lifted."
                    )
                    % {"reason": gettext(why) if why else gettext(str(status))},
                )
            )
    open_items: dict[uuid.UUID, dict[str, list[str]]] = {}
    rows = (
        ClaimItem.objects.filter(resident_id__in=ids, is_open=True)
        .order_by("claim__number", "position")
        .values_list("resident_id", "fact_key", "claim__number")
    )
    for resident_id, fact_key, number in rows:
        kind = "correction" if fact_key else "claim"
        numbers = open_items.setdefault(resident_id, {}).setdefault(kind, [])
        if number not in numbers:
            numbers.append(number)
    for resident_id, kinds in open_items.items():
        if "claim" in kinds:
            found[resident_id].append(
                _reason(
                    "scenarios.blocked.open_claim",
                    _("Your points claim %(numbers)s is still under review.")
                    % {"numbers": ", ".join(kinds["claim"])},
                )
            )
        if "correction" in kinds:
            found[resident_id].append(
                _reason(
                    "scenarios.blocked.open_correction",
                    _("Your points correction %(numbers)s is still under review.")
                    % {"numbers": ", ".join(kinds["correction"])},
                )
            )
    has_open = _reexamination_check()
    if has_open is not None:
        bulk = _bulk_reexamination_check()
        reexamined = (
            set(bulk(ids)) if bulk is not None else {r.pk for r in residents if has_open(r)}
        )
        for resident in residents:
            if resident.pk in reexamined:
                found[resident.pk].append(
                    _reason(
                        "scenarios.blocked.open_reexamination",
                        _("Your re-examination request is still open."),
                    )
                )
    return found


def apply_blockers(
    enrollment: Enrollment,
    reasons: list[dict[str, str]],
    *,
    actor: Actor,
    now: dt.datetime,
) -> bool:
    """Set ``enrollment``'s status from ``reasons`` (the caller holds its row lock and saves
    it). A new or changed block is audited ``enrollment.blocked`` and told to the resident
    with the reasons; a lifted one ``enrollment.unblocked``. True when anything changed."""
    if enrollment.status == EnrollmentStatus.WITHDRAWN:
        return False
    codes = sorted(r["code"] for r in reasons)
    before = sorted(r["code"] for r in enrollment.block_reasons or [])
    was_blocked = enrollment.status == EnrollmentStatus.BLOCKED
    enrollment.blockers_checked_at = now
    if reasons:
        changed = not was_blocked or codes != before
        enrollment.status = EnrollmentStatus.BLOCKED
        enrollment.block_reasons = reasons
        if changed:
            enrollment.updated_at = now
            audit(
                "enrollment.blocked",
                actor=actor,
                obj=enrollment,
                now=now,
                data={"number": enrollment.number, "reasons": codes},
            )
            notify_resident(
                enrollment,
                kind="enrollment.blocked",
                subject=_("Your application %(number)s cannot be ranked yet")
                % {"number": enrollment.number},
                body=_(
                    "Your application %(number)s to %(scenario)s is kept from the ranking "
                    "until this is resolved: %(reasons)s"
                )
                % {
                    "number": enrollment.number,
                    "scenario": enrollment.scenario.name,
                    "reasons": " ".join(r["message"] for r in reasons),
                },
                now=now,
            )
        return changed
    if not was_blocked:
        return False
    enrollment.block_reasons = []
    enrollment.status = settled_status(enrollment)
    enrollment.updated_at = now
    audit(
        "enrollment.unblocked",
        actor=actor,
        obj=enrollment,
        now=now,
        data={"number": enrollment.number, "before": before, "after": enrollment.status},
    )
    notify_resident(
        enrollment,
        kind="enrollment.unblocked",
        subject=_("Your application %(number)s can be ranked") % {"number": enrollment.number},
        body=_("Nothing keeps your application %(number)s from the ranking any more.")
        % {"number": enrollment.number},
        now=now,
    )
    return True


def settled_status(enrollment: Enrollment) -> str:
    """The status of an enrollment with no blocker: its evaluation's, or submitted."""
    if enrollment.evaluated_at is None:
        return EnrollmentStatus.SUBMITTED
    return (
        EnrollmentStatus.INELIGIBLE if enrollment.eligibility_reasons else EnrollmentStatus.ELIGIBLE
    )


def refresh_blockers(
    enrollment: Enrollment,
    *,
    now: dt.datetime,
    actor: Actor | None = None,
) -> Enrollment:
    """Check ``enrollment``'s blockers again now and update its status (see the module)."""
    actor = actor or Actor.system(BLOCKER_ACTOR)
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("resident", "scenario")
            .get(pk=enrollment.pk)
        )
        if enrollment.status == EnrollmentStatus.WITHDRAWN:
            return enrollment
        reasons = blockers_for([enrollment.resident], now=now)[enrollment.resident_id]
        reasons = _keep_evaluation_blockers(enrollment, reasons)
        apply_blockers(enrollment, reasons, actor=actor, now=now)
        enrollment.save(
            update_fields=["status", "block_reasons", "blockers_checked_at", "updated_at"]
        )
    return enrollment


def _keep_evaluation_blockers(
    enrollment: Enrollment, reasons: list[dict[str, str]]
) -> list[dict[str, str]]:
    """A ``not_scored`` block is set by the evaluation and lifted only by the next one."""
    kept = [
        r for r in enrollment.block_reasons or [] if r.get("code") == "scenarios.blocked.not_scored"
    ]
    return reasons + kept
