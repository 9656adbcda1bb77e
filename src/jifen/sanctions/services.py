"""Fraud sanctions (五.1): propose, confirm (two-person rule), reject; the clearance queries.

Each step: check the user → ``transaction.atomic`` + ``select_for_update`` of the case → the
transition of :class:`~jifen.sanctions.models.FraudCase` → save → audit → notifications (in
the same transaction: the outbox delivers after the commit).

Confirming, in ONE transaction:

1. the case becomes ``confirmed`` (audit ``fraud.confirmed``);
2. the points are cleared: a :class:`PointsClearance` from the China date of ``now`` with the
   total before (audit ``points.cleared``); the current score is recomputed after the commit
   (its status becomes ``cleared`` once ``jifen.scores.standing`` consults the clearance);
3. every place the resident obtained — a ranking entry with an allocation (admitted) that is
   not cancelled yet — is cancelled through ``jifen.rankings`` ``cancel_place``, which moves
   the next applicants up per the scenario's allocation rules; who moved up is kept in
   ``cancelled_places``;
4. a :class:`CreditRecord` ``points_fraud`` (audit ``credit.recorded``);
5. the resident is told (points cleared, places cancelled, credit record) and the proposer
   the outcome; ``cancel_place`` itself tells each applicant who moved up (and the resident
   about each place).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import django_fsm
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import Role, User
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.claims import numbers
from jifen.evidence.models import Evidence
from jifen.residents.models import Resident
from jifen.sanctions.errors import (
    CaseAlreadyOpen,
    InvalidSanction,
    NotAllowed,
    SamePerson,
    TransitionNotAllowed,
)
from jifen.sanctions.models import (
    CreditKind,
    CreditRecord,
    FraudCase,
    FraudState,
    PointsClearance,
)
from jifen.scores.services import china_date

#: Application-number prefix of fraud cases (违规).
NUMBER_PREFIX = "WG"
MAX_FILES = 20
MAX_TEXT = 4000

__all__ = [
    "clearance_of",
    "cleared_resident_ids",
    "confirm",
    "credit_records_for",
    "fraud_cases_for",
    "propose",
    "reject",
]


# --- queries --------------------------------------------------------------------------------


def clearance_of(resident: Any, on: dt.date | None = None) -> PointsClearance | None:
    """The clearance in force for ``resident`` on ``on`` (default: any), else ``None``."""
    clearances = PointsClearance.objects.filter(resident_id=getattr(resident, "pk", resident))
    if on is not None:
        clearances = clearances.filter(cleared_on__lte=on)
    return clearances.order_by("cleared_on", "pk").first()


def cleared_resident_ids(resident_ids: Iterable[Any], on: dt.date) -> dict[Any, PointsClearance]:
    """Of ``resident_ids``, those whose points are cleared on ``on`` → their (first)
    clearance. One query, whatever the number of residents (for ``scores.standing``)."""
    found: dict[Any, PointsClearance] = {}
    rows = PointsClearance.objects.filter(
        resident_id__in=list(resident_ids), cleared_on__lte=on
    ).order_by("resident_id", "cleared_on", "pk")
    for clearance in rows:
        found.setdefault(clearance.resident_id, clearance)
    return found


def _role(user: Any) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return user.role


def fraud_cases_for(user: Any) -> QuerySet[FraudCase]:
    """Fraud cases: the center all; a reviewer those their department proposed; nobody else
    (a resident learns of a confirmed case by notification and in their credit file)."""
    role = _role(user)
    cases = FraudCase.objects.select_related("resident", "proposed_by", "proposing_department")
    if role == Role.CENTER:
        return cases
    if role == Role.REVIEWER:
        return cases.filter(proposing_department_id=user.department_id)
    return cases.none()


def credit_records_for(user: Any) -> QuerySet[CreditRecord]:
    """Credit records: the resident their own, the center all, nobody else."""
    role = _role(user)
    records = CreditRecord.objects.select_related("resident", "fraud_case")
    if role == Role.RESIDENT:
        return records.filter(resident_id=user.resident_id)
    if role == Role.CENTER:
        return records
    return records.none()


# --- steps ----------------------------------------------------------------------------------


def propose(
    *,
    resident: Resident,
    user: User,
    grounds: str,
    evidence: Sequence[Evidence] = (),
    now: dt.datetime,
) -> FraudCase:
    """Propose a fraud case against ``resident``: a reviewer (for a resident in their
    department's scope) or the center. One open case per resident
    (``sanctions.case_open``). Audited ``fraud.proposed``; the center is told."""
    from jifen.accounts.access import residents_for

    role = _role(user)
    if role not in (Role.REVIEWER, Role.CENTER):
        raise NotAllowed(_("Only a department reviewer or the center proposes a fraud case."))
    if not residents_for(user).filter(pk=resident.pk).exists():
        raise NotAllowed(_("This resident is outside your department's scope."))
    grounds = _text(grounds, field="grounds")
    files = _files(evidence, resident)
    try:
        with transaction.atomic():
            Resident.objects.select_for_update().filter(pk=resident.pk).first()
            if FraudCase.objects.filter(resident=resident, state=FraudState.PROPOSED).exists():
                raise _case_open()
            case = FraudCase.objects.create(
                number=_next_number(now),
                resident=resident,
                grounds=grounds,
                proposed_by=user,
                proposing_department_id=user.department_id if role == Role.REVIEWER else None,
                proposed_at=now,
            )
            case.evidence.set(files)
            _notify_center(
                case,
                exclude=user,
                kind="fraud.proposed",
                subject=_("Fraud case %(number)s awaits confirmation") % {"number": case.number},
                body=_(
                    "%(who)s proposed fraud case %(number)s. A member of the center other than "
                    "the proposer confirms or rejects it."
                )
                % {"who": _who(user), "number": case.number},
                now=now,
            )
            _audit(
                "fraud.proposed",
                user=user,
                obj=case,
                now=now,
                data={
                    "case": case.number,
                    "resident": str(resident.pk),
                    "department": case.proposing_department.code
                    if case.proposing_department
                    else None,
                    "evidence": [str(f.pk) for f in files],
                },
            )
    except IntegrityError as exc:
        if "sanctions_one_open_case_per_resident" in str(exc) or "resident" in str(exc):
            raise _case_open() from exc
        raise
    return case


def confirm(case: FraudCase, *, user: User, reason: str = "", now: dt.datetime) -> FraudCase:
    """Confirm a proposed case (a center user other than the proposer): clear the points,
    cancel the places obtained (the next applicants move up), write the credit record and
    notify everyone affected — all in one transaction (see the module)."""
    _require_decider(user, case)
    reason = _text(reason, field="reason", required=False)
    today = china_date(now)
    with transaction.atomic():
        case = _lock(case)
        _require_decider(user, case)
        before = _transition(case, "confirm")
        case.confirmed_by = user
        case.confirmed_at = now
        case.decision_reason = reason
        resident = case.resident
        places = _cancel_places(case, user=user, now=now)
        case.cancelled_places = places
        case.save()
        clearance = _clear_points(case, today=today, now=now)
        credit = CreditRecord.objects.create(
            resident=resident,
            kind=CreditKind.POINTS_FRAUD,
            fraud_case=case,
            recorded_at=now,
            recorded_by=user,
            text=str(
                _(
                    "Points obtained with forged, altered or false materials (fraud case "
                    "%(number)s, confirmed on %(date)s): points cleared, %(places)s place(s) "
                    "cancelled."
                )
                % {"number": case.number, "date": today.isoformat(), "places": len(places)}
            ),
        )
        _notify_affected(case, places, clearance=clearance, now=now)
        from jifen.scores.services import request_recompute

        request_recompute([resident.pk], reason="points.cleared", now=now)
        _audit(
            "fraud.confirmed",
            user=user,
            obj=case,
            now=now,
            data={
                "case": case.number,
                "resident": str(resident.pk),
                "before": before,
                "after": case.state,
                "proposed_by": case.proposed_by_id,
                "places": [
                    {k: p[k] for k in ("ranking", "entry", "enrollment", "moved_up")}
                    for p in places
                ],
            },
        )
        _audit(
            "points.cleared",
            user=user,
            obj=clearance,
            now=now,
            data={
                "case": case.number,
                "resident": str(resident.pk),
                "cleared_on": today.isoformat(),
                "total_before": str(clearance.total_before)
                if clearance.total_before is not None
                else None,
                "score_before": clearance.score_before_id,
            },
        )
        _audit(
            "credit.recorded",
            user=user,
            obj=credit,
            now=now,
            data={"case": case.number, "resident": str(resident.pk), "kind": credit.kind},
        )
    return case


def reject(case: FraudCase, *, user: User, reason: str, now: dt.datetime) -> FraudCase:
    """Reject a proposed case (a center user other than the proposer), with a reason.
    Nothing happens to the resident. Audited ``fraud.rejected``; the proposer is told."""
    _require_decider(user, case)
    reason = _text(reason, field="reason")
    with transaction.atomic():
        case = _lock(case)
        _require_decider(user, case)
        before = _transition(case, "reject")
        case.rejected_by = user
        case.rejected_at = now
        case.decision_reason = reason
        case.save()
        _notify_user(
            case.proposed_by,
            kind="fraud.rejected",
            subject=_("Fraud case %(number)s was rejected") % {"number": case.number},
            body=_("The center rejected fraud case %(number)s: %(reason)s")
            % {"number": case.number, "reason": reason},
            now=now,
        )
        _audit(
            "fraud.rejected",
            user=user,
            obj=case,
            now=now,
            data={
                "case": case.number,
                "resident": str(case.resident_id),
                "before": before,
                "after": case.state,
                "proposed_by": case.proposed_by_id,
            },
        )
    return case


# --- the parts of a confirmation ------------------------------------------------------------


def _clear_points(case: FraudCase, *, today: dt.date, now: dt.datetime) -> PointsClearance:
    from jifen.scores.models import Score

    score = Score.objects.filter(resident_id=case.resident_id, is_current=True).first()
    return PointsClearance.objects.create(
        resident_id=case.resident_id,
        fraud_case=case,
        cleared_on=today,
        cleared_at=now,
        total_before=score.total if score is not None else None,
        score_before=score,
    )


def _cancel_places(case: FraudCase, *, user: User, now: dt.datetime) -> list[dict[str, Any]]:
    """Cancel each place the resident obtained; returns what happened, per place."""
    from jifen.sanctions import places

    return places.cancel_all(case, user=user, now=now)


def _notify_affected(
    case: FraudCase, places: list[dict[str, Any]], *, clearance: PointsClearance, now: dt.datetime
) -> None:
    from jifen.notifications.services import notify

    cancelled = "".join(
        "\n" + str(_("Place cancelled: %(label)s (application %(number)s).") % p)
        for p in ({"label": p["label"], "number": p["enrollment"]} for p in places)
    )
    notify(
        resident=case.resident,
        kind="fraud.confirmed",
        subject=str(_("Your points have been cleared")),
        body=str(
            _(
                "It was established that points were obtained with forged, altered or false "
                "materials (case %(number)s). Your points are cleared from %(date)s and the "
                "benefits obtained with them are cancelled; the case is recorded in your "
                "credit file.%(places)s"
            )
            % {
                "number": case.number,
                "date": clearance.cleared_on.isoformat(),
                "places": cancelled,
            }
        ),
        link="/me/",
        now=now,
    )
    _notify_user(
        case.proposed_by,
        kind="fraud.confirmed",
        subject=_("Fraud case %(number)s was confirmed") % {"number": case.number},
        body=_(
            "Fraud case %(number)s was confirmed: points cleared, %(places)s place(s) cancelled, "
            "credit record written."
        )
        % {"number": case.number, "places": len(places)},
        now=now,
    )


# --- helpers --------------------------------------------------------------------------------


def _require_decider(user: Any, case: FraudCase) -> None:
    if _role(user) != Role.CENTER:
        raise NotAllowed(_("Only a member of the center confirms or rejects a fraud case."))
    if user.pk == case.proposed_by_id:
        raise SamePerson(
            _(
                "You proposed this case: a different member of the center must confirm or "
                "reject it."
            ),
            field="user",
        )


def _lock(case: FraudCase) -> FraudCase:
    return (
        FraudCase.objects.select_for_update(of=("self",))
        .select_related("resident", "proposed_by")
        .get(pk=case.pk)
    )


def _transition(case: FraudCase, name: str) -> str:
    before = case.state
    try:
        getattr(case, name)()
    except django_fsm.TransitionNotAllowed:
        raise TransitionNotAllowed(
            _("A case in state “%(state)s” does not allow this step.")
            % {"state": FraudState(before).label},
            field="state",
        ) from None
    return before


def _text(value: Any, *, field: str, required: bool = True) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidSanction(_("Text expected."), field=field)
    text = (value or "").strip()
    if required and not text:
        raise InvalidSanction(_("Please give the grounds or reason."), field=field)
    if len(text) > MAX_TEXT:
        raise InvalidSanction(_("At most %(limit)s characters.") % {"limit": MAX_TEXT}, field=field)
    return text


def _files(evidence: Iterable[Evidence], resident: Resident) -> list[Evidence]:
    files = list(dict.fromkeys(evidence or ()))
    if len(files) > MAX_FILES:
        raise InvalidSanction(_("At most %(n)s files.") % {"n": MAX_FILES}, field="evidence")
    for file in files:
        if not isinstance(file, Evidence) or file.resident_id != resident.pk:
            raise InvalidSanction(_("A file does not belong to this resident."), field="evidence")
        if file.deleted_at is not None:
            raise InvalidSanction(_("A file has been deleted."), field="evidence")
    return files


def _case_open() -> CaseAlreadyOpen:
    return CaseAlreadyOpen(
        _("This resident already has a fraud case awaiting confirmation."), field="resident"
    )


def _next_number(now: dt.datetime) -> str:
    return numbers.next_number(NUMBER_PREFIX, now)


def _who(user: User) -> str:
    if user.department_id:
        return user.department.name
    return str(_("The center"))


def _notify_user(user: User, *, kind: str, subject: Any, body: Any, now: dt.datetime) -> None:
    from jifen.notifications.services import notify

    notify(user=user, kind=kind, subject=str(subject), body=str(body), link="", now=now)


def _notify_center(
    case: FraudCase, *, exclude: User | None, kind: str, subject: Any, body: Any, now: dt.datetime
) -> None:
    users = User.objects.filter(role=Role.CENTER, is_active=True)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    for member in users.order_by("pk"):
        _notify_user(member, kind=kind, subject=subject, body=body, now=now)


def _audit(action: str, *, user: User, obj: Any, now: dt.datetime, data: dict) -> None:
    record(action, actor=Actor.for_user(user), occurred_at=now, obj=obj, data=data)
