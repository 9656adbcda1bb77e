"""Shared steps of the claims services: permissions, locking, transitions, numbers,
deadlines, item validation, notifications."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import django_fsm
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _

from jifen.accounts import access
from jifen.accounts.models import Role, User
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.claims import numbers
from jifen.claims.errors import (
    DeadlineUnavailable,
    DuplicateOpenClaim,
    InvalidClaim,
    NotAllowed,
    TransitionNotAllowed,
)
from jifen.claims.models import (
    Claim,
    ClaimEvidence,
    ClaimItem,
    ReviewState,
    ReviewTask,
)
from jifen.engine.policy import Policy, Rule
from jifen.evidence.models import Evidence
from jifen.residents.models import Resident
from jifen.scores.services import china_date

#: Evidence files per claim (and per supplement), as for uploads (contract: 20 per claim).
MAX_FILES = 20
#: A saved draft (the wizard's state) may not exceed this many bytes of JSON.
MAX_DRAFT_BYTES = 64 * 1024
_HUNDREDTH = Decimal("0.01")
_MAX_QUANTITY = Decimal("999999999999.99")
#: Audit/notification kinds.
NUMBER_PREFIX = {"claim": "SQ", "correction": "GZ"}  # 申请, 更正


@dataclass(frozen=True)
class ClaimItemInput:
    """One claimed rule as the filer gives it.

    ``department`` optionally names one of the rule's routed departments (see
    :mod:`jifen.claims.routing`); ``evidence`` are files for this item only.
    """

    rule: str
    level: str = ""
    quantity: Decimal | int | str | None = None
    date: dt.date | None = None
    until: dt.date | None = None
    statement: str = ""
    department: str = ""
    evidence: Sequence[Evidence] = field(default_factory=tuple)


@dataclass(frozen=True)
class ItemDecision:
    """The reviewer's decision on one item: ``approved``, ``adjusted`` (different level,
    quantity or date, with a reason) or ``rejected`` (with a reason)."""

    item: ClaimItem | int
    outcome: str
    level: str | None = None
    quantity: Decimal | int | str | None = None
    date: dt.date | None = None
    reason: str = ""


# --- who may act ----------------------------------------------------------------------------


def require_filer(user: User, resident: Resident) -> None:
    if not access.may_act_for(user, resident):
        raise NotAllowed(_("You may not file or change claims of this resident."))


def require_reviewer(user: User, task: ReviewTask) -> None:
    """A reviewer of the task's department (or the center) reviews it."""
    ok = (
        user is not None
        and user.is_authenticated
        and user.is_active
        and (
            user.role == Role.CENTER
            or (user.role == Role.REVIEWER and user.department_id == task.department_id)
        )
    )
    if not ok:
        raise NotAllowed(_("Only the responsible department reviews this task."))


def channel_for(user: User, channel: str) -> str:
    wanted = "window" if user.role == Role.CLERK else "portal"
    if channel and channel != wanted:
        raise InvalidClaim(
            _("A resident files online; a window clerk files at the window."), field="channel"
        )
    return wanted


# --- locking and transitions ----------------------------------------------------------------


def lock_task(task: ReviewTask | int) -> ReviewTask:
    pk = task.pk if isinstance(task, ReviewTask) else task
    return (
        ReviewTask.objects.select_for_update(of=("self",))
        .select_related("claim", "claim__resident", "department")
        .get(pk=pk)
    )


def lock_claim(claim: Claim | Any) -> Claim:
    pk = claim.pk if isinstance(claim, Claim) else claim
    return Claim.objects.select_for_update(of=("self",)).select_related("resident").get(pk=pk)


def run_transition(task: ReviewTask, name: str, *args: Any) -> str:
    """Run transition ``name`` of the table; refused ones raise ``TransitionNotAllowed``."""
    before = task.state
    try:
        getattr(task, name)(*args)
    except django_fsm.TransitionNotAllowed:
        raise TransitionNotAllowed(
            _("A task in state “%(state)s” does not allow this step.")
            % {"state": ReviewState(before).label},
            field="state",
        ) from None
    return before


def allowed(task: ReviewTask, name: str) -> bool:
    """Whether transition ``name`` may run now (state and conditions)."""
    return django_fsm.can_proceed(getattr(task, name))


def close_claim_if_done(claim: Claim, now: dt.datetime) -> None:
    """A claim whose tasks are all closed is decided (withdrawn if none was decided)."""
    states = list(claim.tasks.values_list("state", flat=True))
    if not states or any(
        s in (ReviewState.SUBMITTED, ReviewState.ACCEPTED, ReviewState.MATERIALS_REQUESTED)
        for s in states
    ):
        return
    decided = any(s != ReviewState.WITHDRAWN for s in states)
    claim.status = "decided" if decided else "withdrawn"
    claim.closed_at = now
    claim.updated_at = now
    claim.save(update_fields=["status", "closed_at", "updated_at"])


# --- numbers --------------------------------------------------------------------------------


def next_number(kind: str, now: dt.datetime) -> str:
    """The next application number of ``kind`` in the China year of ``now``: ``SQ2026000123``."""
    return numbers.next_number(NUMBER_PREFIX[kind], now)


# --- deadlines and policy -------------------------------------------------------------------


def procedure(now: dt.datetime) -> dict[str, int]:
    from jifen.claims.routing import city_policy

    return dict(city_policy(china_date(now)).procedure)


def compute_deadline(start: dt.date, workdays: int, now: dt.datetime):
    """``(due_on, calendar_version)`` from the database calendar; a year it does not cover
    raises :class:`DeadlineUnavailable` (the calendar records it for the center)."""
    from jifen.calendars.services import deadline
    from jifen.workdays.errors import CalendarError

    try:
        result = deadline(start, workdays, now=now)
    except CalendarError as exc:
        year = getattr(exc, "year", None)
        raise DeadlineUnavailable(
            _(
                "The deadline cannot be computed: the working-day calendar does not cover "
                "%(year)s. This is a configuration problem; the center has been told."
            )
            % {"year": year},
            year=year,
        ) from exc
    return result.due_on, result.calendar_version


# --- item values ----------------------------------------------------------------------------


def clean_quantity(value: Any, *, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise InvalidClaim(_("The quantity must be a number."), field=field)
    try:
        quantity = Decimal(str(value))
        exact = quantity.is_finite() and quantity == quantity.quantize(_HUNDREDTH)
    except (InvalidOperation, ValueError):
        exact = False
    if not exact:
        raise InvalidClaim(
            _("The quantity must be a number with at most two decimal places."), field=field
        )
    if quantity < 0:
        raise InvalidClaim(_("The quantity must not be negative."), field=field)
    if quantity > _MAX_QUANTITY:
        raise InvalidClaim(_("The quantity is too large."), field=field)
    return quantity


def clean_date(value: Any, *, field: str, today: dt.date, required: bool) -> dt.date | None:
    if value is None or value == "":
        if required:
            raise InvalidClaim(_("The date is required for this rule."), field=field)
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidClaim(_("Dates are written YYYY-MM-DD."), field=field) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidClaim(_("Dates are written YYYY-MM-DD."), field=field)
    if value > today:
        raise InvalidClaim(_("The date cannot be in the future."), field=field)
    return value


def clean_rule_values(
    rule: Rule,
    *,
    level: str | None,
    quantity: Any,
    date: Any,
    prefix: str,
    today: dt.date,
) -> tuple[str, Decimal | None, dt.date | None]:
    """Check a level / quantity / date against ``rule`` (the engine's own checks, plus:
    quantity ≥ 0, date not in the future). ``prefix`` names the field (``items[0]``)."""
    level = (level or "").strip()
    if rule.levels is not None:
        if not level:
            raise InvalidClaim(
                _("Choose a level (one of: %(levels)s).") % {"levels": ", ".join(rule.levels)},
                field=f"{prefix}.level",
            )
        if level not in rule.levels:
            raise InvalidClaim(
                _("Unknown level %(level)s (one of: %(levels)s).")
                % {"level": level, "levels": ", ".join(rule.levels)},
                field=f"{prefix}.level",
            )
    elif level:
        raise InvalidClaim(_("This rule has no levels."), field=f"{prefix}.level")
    quantity = clean_quantity(quantity, field=f"{prefix}.quantity")
    if rule.kind == "per_unit" and quantity is None:
        raise InvalidClaim(_("Give the quantity for this rule."), field=f"{prefix}.quantity")
    if rule.kind != "per_unit" and quantity is not None:
        raise InvalidClaim(_("This rule takes no quantity."), field=f"{prefix}.quantity")
    date = clean_date(
        date, field=f"{prefix}.date", today=today, required=rule.window_years is not None
    )
    return level, quantity, date


def clean_text(value: Any, *, field: str, required: bool, limit: int = 4000) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise InvalidClaim(_("Text expected."), field=field)
    if required and not text:
        raise InvalidClaim(_("Please give a reason."), field=field)
    if len(text) > limit:
        raise InvalidClaim(_("At most %(limit)s characters.") % {"limit": limit}, field=field)
    return text


def clean_evidence(
    evidence: Iterable[Evidence], resident: Resident, *, field: str = "evidence"
) -> list[Evidence]:
    files = list(dict.fromkeys(evidence or ()))
    if len(files) > MAX_FILES:
        raise InvalidClaim(
            _("At most %(n)s files per claim.") % {"n": MAX_FILES},
            field=field,
            code="claims.too_many_files",
        )
    for file in files:
        if not isinstance(file, Evidence) or file.resident_id != resident.pk:
            raise InvalidClaim(
                _("A file does not belong to this resident."),
                field=field,
                code="claims.foreign_evidence",
            )
        if file.deleted_at is not None:
            raise InvalidClaim(_("A file has been deleted."), field=field)
    return files


def link_evidence(
    claim: Claim,
    files: Iterable[Evidence],
    *,
    user: User,
    now: dt.datetime,
    item: ClaimItem | None = None,
    notice: Any = None,
) -> None:
    known = set(claim.evidence_links.values_list("evidence_id", flat=True))
    ClaimEvidence.objects.bulk_create(
        [
            ClaimEvidence(
                claim=claim, evidence=f, item=item, notice=notice, added_at=now, added_by=user
            )
            for f in files
            if f.pk not in known
        ]
    )


def check_draft_data(data: Any) -> dict:
    if not isinstance(data, dict):
        raise InvalidClaim(_("The draft must be a JSON object."), field="draft")
    try:
        size = len(json.dumps(data, ensure_ascii=False, default=str).encode())
    except (TypeError, ValueError):
        raise InvalidClaim(_("The draft must be a JSON object."), field="draft") from None
    if size > MAX_DRAFT_BYTES:
        raise InvalidClaim(_("The draft is too large."), field="draft")
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def duplicate_from(exc: IntegrityError) -> DuplicateOpenClaim | None:
    text = str(exc)
    if "claims_one_open_item_per_resident_rule" in text or (
        "claims_claimitem" in text and "rule" in text
    ):
        return DuplicateOpenClaim(
            _("You already have an open claim for this rule; wait for its decision."),
            field="items",
        )
    if "claims_one_open_correction_per_fact" in text or "fact_key" in text:
        return DuplicateOpenClaim(
            _("You already have an open correction for this item."), field="fact"
        )
    return None


# --- audit and notifications ----------------------------------------------------------------


def audit(
    action: str,
    *,
    user: User | None = None,
    actor: Actor | None = None,
    obj: Any,
    now: dt.datetime,
    data: dict[str, Any],
) -> None:
    record(action, actor=actor or Actor.for_user(user), occurred_at=now, obj=obj, data=data)


def task_data(task: ReviewTask, before: str, **extra: Any) -> dict[str, Any]:
    return {
        "claim": str(task.claim_id),
        "number": task.claim.number,
        "task": task.pk,
        "department": task.department.code,
        "before": before,
        "after": task.state,
        **extra,
    }


def claim_link(claim: Claim) -> str:
    return f"/me/claims/{claim.pk}/"


def task_link(task: ReviewTask) -> str:
    return f"/workbench/review/{task.pk}/"


def notify_resident(claim: Claim, *, kind: str, subject: str, body: str, now: dt.datetime) -> None:
    from jifen.notifications.services import notify

    notify(
        resident=claim.resident,
        kind=kind,
        subject=str(subject),
        body=str(body),
        link=claim_link(claim),
        now=now,
    )


def notify_department(
    task: ReviewTask, *, kind: str, subject: str, body: str, now: dt.datetime
) -> int:
    from jifen.notifications.services import notify

    reviewers = User.objects.filter(
        role=Role.REVIEWER, department_id=task.department_id, is_active=True
    ).order_by("pk")
    count = 0
    for reviewer in reviewers:
        notify(
            user=reviewer,
            kind=kind,
            subject=str(subject),
            body=str(body),
            link=task_link(task),
            now=now,
        )
        count += 1
    return count


def open_states() -> tuple[str, ...]:
    return (ReviewState.SUBMITTED, ReviewState.ACCEPTED, ReviewState.MATERIALS_REQUESTED)


def policy_rule(policy: Policy, code: str) -> Rule | None:
    return policy.rules.get(code)
