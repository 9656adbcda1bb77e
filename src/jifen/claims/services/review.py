"""Reviewing a task: accept (受理, sets the deadline), refuse, the one materials notice
(一次性告知), the resident's supplement, the one extension (延长), and the decision (facts,
score recompute). Each step locks the task, runs the transition table of
:class:`~jifen.claims.models.ReviewTask`, audits with the before/after state and tells the
resident, all in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.claims import routing
from jifen.claims.errors import (
    AlreadyExtended,
    InvalidClaim,
    MaterialsAlreadyRequested,
    TransitionNotAllowed,
)
from jifen.claims.models import (
    ClaimItem,
    ClaimKind,
    MaterialsNotice,
    Outcome,
    ReviewState,
    ReviewTask,
)
from jifen.claims.services._common import (
    ItemDecision,
    audit,
    clean_evidence,
    clean_rule_values,
    clean_text,
    close_claim_if_done,
    compute_deadline,
    link_evidence,
    lock_task,
    notify_resident,
    procedure,
    require_filer,
    require_reviewer,
    run_transition,
)
from jifen.evidence.models import Evidence
from jifen.facts.errors import InvalidFact
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.facts.services import apply_fact
from jifen.scores.services import china_date, request_recompute

logger = logging.getLogger(__name__)

#: At most this many missing materials in one notice, each at most 200 characters.
MAX_NOTICE_ITEMS = 30


def accept(task: ReviewTask, *, user: User, now: dt.datetime) -> ReviewTask:
    """Accept (受理) a submitted task: due 10 working days later (the city policy's
    ``review_workdays``) on the database calendar, whose version is stored. A year the
    calendar does not cover raises ``DeadlineUnavailable`` (field ``due_on``)."""
    require_reviewer(user, task)
    # The deadline first, outside the transaction: a calendar gap is recorded for the center
    # even though the acceptance is refused.
    workdays = procedure(now)["review_workdays"]
    due_on, version = compute_deadline(china_date(now), workdays, now)
    with transaction.atomic():
        task = lock_task(task)
        require_reviewer(user, task)
        before = run_transition(task, "accept")
        task.accepted_at = now
        task.accepted_by = user
        task.due_on = due_on
        task.calendar_version = version
        task.reminded_on = None
        task.overdue_flagged_at = None
        task.save()
        audit(
            "claim.accepted",
            user=user,
            obj=task,
            now=now,
            data=_data(task, before, due_on=due_on.isoformat(), calendar_version=version),
        )
        notify_resident(
            task.claim,
            kind="claim.accepted",
            subject=_("Your application %(number)s has been accepted")
            % {"number": task.claim.number},
            body=_(
                "%(department)s accepted your application %(number)s on %(date)s. "
                "The review will be completed by %(due)s."
            )
            % {
                "department": task.department.name,
                "number": task.claim.number,
                "date": china_date(now).isoformat(),
                "due": due_on.isoformat(),
            },
            now=now,
        )
    return task


def refuse(task: ReviewTask, *, user: User, reason: str, now: dt.datetime) -> ReviewTask:
    """Refuse to accept a submitted task (not in the department's remit, nothing to review);
    the reason is shown to the resident. Audited ``claim.refused``."""
    require_reviewer(user, task)
    reason = clean_text(reason, field="reason", required=True)
    with transaction.atomic():
        task = lock_task(task)
        require_reviewer(user, task)
        before = run_transition(task, "refuse")
        task.decided_at = now
        task.decided_by = user
        task.decision_reason = reason
        task.save()
        task.items.update(is_open=False, outcome=Outcome.REJECTED, decision_reason=reason)
        close_claim_if_done(task.claim, now)
        audit("claim.refused", user=user, obj=task, now=now, data=_data(task, before))
        notify_resident(
            task.claim,
            kind="claim.decided",
            subject=_("Your application %(number)s was not accepted")
            % {"number": task.claim.number},
            body=_("%(department)s did not accept your application %(number)s: %(reason)s")
            % {
                "department": task.department.name,
                "number": task.claim.number,
                "reason": reason,
            },
            now=now,
        )
    return task


def request_materials(
    task: ReviewTask, *, user: User, items: Sequence[str], note: str = "", now: dt.datetime
) -> MaterialsNotice:
    """The one materials notice (一次性告知) of a task: everything missing, listed at once.

    A second notice for the same task is refused (``claims.materials_already_requested``;
    the database's one-notice-per-task constraint backs the check). Audited
    ``claim.materials_requested``; the resident is told the list.
    """
    require_reviewer(user, task)
    wanted = _notice_items(items)
    note = clean_text(note, field="note", required=False)
    try:
        with transaction.atomic():
            task = lock_task(task)
            require_reviewer(user, task)
            if task.has_notice():
                raise _already_requested()
            before = run_transition(task, "request_materials")
            task.save()
            notice = MaterialsNotice.objects.create(
                task=task, items=wanted, note=note, issued_by=user, issued_at=now
            )
            audit(
                "claim.materials_requested",
                user=user,
                obj=task,
                now=now,
                data=_data(task, before, notice=notice.pk, items=len(wanted)),
            )
            listing = "\n".join(f"{i}. {text}" for i, text in enumerate(wanted, 1))
            notify_resident(
                task.claim,
                kind="claim.materials_requested",
                subject=_("Materials needed for your application %(number)s")
                % {"number": task.claim.number},
                body=_(
                    "%(department)s needs the following materials for your application "
                    "%(number)s (this is the complete list):\n%(list)s\n%(note)s"
                )
                % {
                    "department": task.department.name,
                    "number": task.claim.number,
                    "list": listing,
                    "note": note,
                },
                now=now,
            )
    except IntegrityError as exc:
        if "materials" in str(exc).lower() or "task_id" in str(exc):
            raise _already_requested() from exc
        raise
    return notice


def _already_requested() -> MaterialsAlreadyRequested:
    return MaterialsAlreadyRequested(
        _("The materials notice has been sent already; a task gets only one."),
        field="items",
    )


def _notice_items(items: Sequence[str]) -> list[str]:
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise InvalidClaim(_("List the missing materials."), field="items")
    wanted = []
    for index, text in enumerate(items):
        text = clean_text(text, field=f"items[{index}]", required=False, limit=200)
        if text:
            wanted.append(text)
    if not wanted:
        raise InvalidClaim(_("List at least one missing material."), field="items")
    if len(wanted) > MAX_NOTICE_ITEMS:
        raise InvalidClaim(
            _("At most %(n)s materials in one notice.") % {"n": MAX_NOTICE_ITEMS}, field="items"
        )
    return wanted


def supplement(
    task: ReviewTask,
    *,
    user: User,
    evidence: Sequence[Evidence] = (),
    note: str = "",
    now: dt.datetime,
) -> ReviewTask:
    """The resident (or their town's clerk) answers the materials notice with files and a
    note; the task returns to ``submitted`` for acceptance. Audited ``claim.supplemented``."""
    note = clean_text(note, field="note", required=False)
    with transaction.atomic():
        task = lock_task(task)
        require_filer(user, task.claim.resident)
        files = clean_evidence(evidence, task.claim.resident)
        if not files and not note:
            raise InvalidClaim(_("Add the requested files or a note."), field="evidence")
        before = run_transition(task, "supplement")
        task.save()
        notice = task.materials_notice
        notice.supplemented_at = now
        notice.supplemented_by = user
        notice.supplement_note = note
        notice.save(update_fields=["supplemented_at", "supplemented_by", "supplement_note"])
        link_evidence(task.claim, files, user=user, now=now, notice=notice)
        audit(
            "claim.supplemented",
            user=user,
            obj=task,
            now=now,
            data=_data(task, before, notice=notice.pk, files=len(files)),
        )
    return task


def extend(task: ReviewTask, *, user: User, reason: str, now: dt.datetime) -> ReviewTask:
    """Extend an accepted task's deadline once, by 5 working days (the city policy's
    ``review_extension_workdays``) from the current due date, with a reason. A second
    extension is refused (``claims.already_extended``). Audited ``claim.extended``."""
    require_reviewer(user, task)
    reason = clean_text(reason, field="reason", required=True)
    current = ReviewTask.objects.get(pk=task.pk)
    if current.extended:
        raise _already_extended()
    if current.state != ReviewState.ACCEPTED or current.due_on is None:
        raise TransitionNotAllowed(_("Only an accepted task can be extended."), field="state")
    workdays = procedure(now)["review_extension_workdays"]
    due_on, version = compute_deadline(current.due_on, workdays, now)
    with transaction.atomic():
        task = lock_task(task)
        require_reviewer(user, task)
        if task.extended:
            raise _already_extended()
        if task.due_on != current.due_on:  # changed meanwhile: compute from the new date
            raise TransitionNotAllowed(_("The task changed meanwhile; try again."), field="state")
        previous_due = task.due_on
        before = run_transition(task, "extend")
        task.extended = True
        task.extension_reason = reason
        task.extended_at = now
        task.extended_by = user
        task.due_on = due_on
        task.calendar_version = version
        task.reminded_on = None
        task.overdue_flagged_at = None
        task.save()
        audit(
            "claim.extended",
            user=user,
            obj=task,
            now=now,
            data=_data(
                task,
                before,
                due_before=previous_due.isoformat(),
                due_on=due_on.isoformat(),
                calendar_version=version,
            ),
        )
        notify_resident(
            task.claim,
            kind="claim.extended",
            subject=_("The review of your application %(number)s was extended")
            % {"number": task.claim.number},
            body=_(
                "%(department)s extended the review of your application %(number)s to "
                "%(due)s: %(reason)s"
            )
            % {
                "department": task.department.name,
                "number": task.claim.number,
                "due": due_on.isoformat(),
                "reason": reason,
            },
            now=now,
        )
    return task


def _already_extended() -> AlreadyExtended:
    return AlreadyExtended(_("The deadline has been extended once already."), field="reason")


def decide(
    task: ReviewTask,
    *,
    user: User,
    decisions: Sequence[ItemDecision],
    reason: str = "",
    now: dt.datetime,
) -> ReviewTask:
    """Decide every item of an accepted task: approve, adjust (another level / quantity /
    date, with a reason) or reject (with a reason).

    Approved and adjusted items become facts (source ``claim``, reference the application
    number, department the task's) through ``apply_fact``; an approved correction supersedes
    the disputed fact. The task ends ``approved`` (all approved as claimed), ``rejected``
    (all rejected) or ``partly_approved``; the resident's score is recomputed after commit
    and the resident is told the points or the reasons. Audited ``claim.decided``.
    """
    require_reviewer(user, task)
    reason = clean_text(reason, field="reason", required=False)
    today = china_date(now)
    with transaction.atomic():
        task = lock_task(task)
        require_reviewer(user, task)
        if task.state != ReviewState.ACCEPTED:
            run_transition(task, "decide", ReviewState.APPROVED)  # raises: not allowed
        claim = task.claim
        items = {item.pk: item for item in task.items.select_for_update().order_by("position")}
        plan = _plan(items, decisions, today=today, now=now)
        outcomes = [outcome for _, outcome, *_ in plan]
        if all(o == Outcome.APPROVED for o in outcomes):
            overall = ReviewState.APPROVED
        elif all(o == Outcome.REJECTED for o in outcomes):
            overall = ReviewState.REJECTED
        else:
            overall = ReviewState.PARTLY_APPROVED
        for item, outcome, level, quantity, date, item_reason in plan:
            item.outcome = outcome
            item.decision_reason = item_reason
            item.is_open = False
            if outcome != Outcome.REJECTED:
                item.approved_level = level
                item.approved_quantity = quantity
                item.approved_date = date
                item.fact = _record_fact(item, claim, task, level, quantity, date, now)
            item.save()
        before = run_transition(task, "decide", overall)
        task.decided_at = now
        task.decided_by = user
        task.decision_reason = reason or "; ".join(
            r for _, o, *_, r in plan if o == Outcome.REJECTED and r
        )
        task.save()
        close_claim_if_done(claim, now)
        approved = [p for p in plan if p[1] != Outcome.REJECTED]
        if approved:
            request_recompute([claim.resident_id], reason="claim.decided", now=now)
        audit(
            "claim.decided",
            user=user,
            obj=task,
            now=now,
            data=_data(
                task,
                before,
                items=[
                    {
                        "position": item.position,
                        "rule": item.rule,
                        "outcome": outcome,
                        "fact": item.fact_id,
                    }
                    for item, outcome, *_ in plan
                ],
            ),
        )
        notify_resident(
            claim,
            kind="claim.decided",
            subject=_("Decision on your application %(number)s") % {"number": claim.number},
            body=_decision_body(task, plan, approved=bool(approved), now=now),
            now=now,
        )
    return task


def _plan(items, decisions, *, today, now):
    """Check the decisions (one per item of the task) → rows of (item, outcome, level,
    quantity, date, reason)."""
    if not decisions:
        raise InvalidClaim(_("Decide every item."), field="decisions")
    by_item: dict[int, tuple[int, ItemDecision]] = {}
    for index, decision in enumerate(decisions):
        pk = decision.item.pk if isinstance(decision.item, ClaimItem) else decision.item
        if pk not in items:
            raise InvalidClaim(
                _("This item is not part of the task."), field=f"decisions[{index}].item"
            )
        if pk in by_item:
            raise InvalidClaim(_("Each item is decided once."), field=f"decisions[{index}].item")
        by_item[pk] = (index, decision)
    missing = [item for pk, item in items.items() if pk not in by_item]
    if missing:
        raise InvalidClaim(
            _("Decide every item (missing: %(rules)s).")
            % {"rules": ", ".join(i.rule for i in missing)},
            field="decisions",
        )
    policy = routing.city_policy(today)
    plan = []
    for pk, item in items.items():
        index, decision = by_item[pk]
        prefix = f"decisions[{index}]"
        outcome = decision.outcome
        if outcome not in Outcome.values:
            raise InvalidClaim(_("Approve, adjust or reject."), field=f"{prefix}.outcome")
        item_reason = clean_text(
            decision.reason, field=f"{prefix}.reason", required=outcome != Outcome.APPROVED
        )
        if outcome == Outcome.REJECTED:
            plan.append((item, outcome, "", None, None, item_reason))
            continue
        correction = item.claim.kind == ClaimKind.CORRECTION
        proposes = bool(item.level or item.quantity is not None or item.date)
        if correction and outcome == Outcome.APPROVED and not proposes:
            raise InvalidClaim(
                _("The correction proposes no value: adjust it with the corrected value."),
                field=f"{prefix}.outcome",
            )
        if correction and not proposes and item.disputed_fact_id:
            fact = item.disputed_fact
            base = (fact.level, fact.quantity, fact.date)
        else:
            base = (item.level, item.quantity, item.date)
        if outcome == Outcome.APPROVED:
            level, quantity, date = base
        else:
            level = base[0] if decision.level is None else decision.level
            quantity = base[1] if decision.quantity is None else decision.quantity
            date = base[2] if decision.date is None else decision.date
        rule = policy.rules.get(item.rule)
        if rule is not None and rule.field is None:
            level, quantity, date = clean_rule_values(
                rule, level=level, quantity=quantity, date=date, prefix=prefix, today=today
            )
        if outcome == Outcome.ADJUSTED and (level, quantity, date) == base:
            raise InvalidClaim(
                _("An adjustment changes the level, quantity or date."),
                field=f"{prefix}.level",
            )
        plan.append((item, outcome, level, quantity, date, item_reason))
    return plan


def _record_fact(item, claim, task, level, quantity, date, now) -> Fact:
    if claim.kind == ClaimKind.CORRECTION and item.disputed_fact_id:
        old = item.disputed_fact
        kind, key, act, until = old.kind, old.key, old.act, item.until or old.until
    else:
        kind, key, act, until = FactKind.CITY, f"claim:{claim.number}:{item.position}", "", None
    try:
        apply_fact(
            claim.resident,
            kind=kind,
            code=item.rule,
            key=key,
            level=level or "",
            quantity=quantity,
            date=date,
            until=until,
            act=act,
            department=task.department,
            source=FactSource.CLAIM,
            source_ref=claim.number,
            now=now,
        )
    except InvalidFact as exc:
        raise InvalidClaim(str(exc), field=f"items[{item.position}].{exc.field}") from exc
    return Fact.objects.current().get(resident=claim.resident, key=key)


def _decision_body(task, plan, *, approved: bool, now: dt.datetime) -> str:
    lines = []
    for item, outcome, level, quantity, date, reason in plan:
        label = Outcome(outcome).label
        value = " ".join(str(v) for v in (level, quantity, date) if v not in ("", None))
        text = f"{item.rule}: {label}"
        if value and outcome != Outcome.REJECTED:
            text += f" ({value})"
        if reason:
            text += f" — {reason}"
        lines.append(text)
    if approved:
        total = _new_total(task.claim.resident, now)
        if total is not None:
            lines.append(str(_("Your points are now %(total)s.") % {"total": total}))
    return str(
        _("%(department)s decided your application %(number)s:\n%(lines)s")
        % {
            "department": task.department.name,
            "number": task.claim.number,
            "lines": "\n".join(lines),
        }
    )


def _new_total(resident, now: dt.datetime):
    from jifen.scores.errors import ScoreError
    from jifen.scores.services import compute_score

    try:
        return compute_score(resident, on=china_date(now), now=now).total
    except ScoreError:
        logger.warning("no score for the decision notice of resident %s", resident.pk)
        return None


def _data(task: ReviewTask, before: str, **extra) -> dict:
    from jifen.claims.services._common import task_data

    return task_data(task, before, **extra)
