"""Filing claims: drafts, submission (validation, routing, one task per department), and
withdrawal by the resident or the filing clerk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.claims import routing
from jifen.claims.errors import DuplicateOpenClaim, InvalidClaim, TransitionNotAllowed
from jifen.claims.models import (
    Claim,
    ClaimItem,
    ClaimKind,
    ClaimStatus,
    ReviewTask,
)
from jifen.claims.services._common import (
    ClaimItemInput,
    audit,
    channel_for,
    check_draft_data,
    clean_evidence,
    clean_rule_values,
    clean_text,
    close_claim_if_done,
    duplicate_from,
    link_evidence,
    lock_claim,
    next_number,
    open_states,
    require_filer,
    run_transition,
)
from jifen.evidence.models import Evidence
from jifen.residents.models import Resident
from jifen.scores.services import china_date


def save_draft(
    *,
    resident: Resident,
    user: User,
    data: dict,
    claim: Claim | None = None,
    now: dt.datetime,
) -> Claim:
    """Save the half-filled wizard (``data``, a JSON object) as a draft on the server.

    A new draft is created when ``claim`` is None (audited ``claim.draft_created``); saving an
    existing draft again only replaces its data (not audited: it happens on every step).
    """
    require_filer(user, resident)
    data = check_draft_data(data)
    with transaction.atomic():
        if claim is None:
            claim = Claim.objects.create(
                resident=resident,
                kind=ClaimKind.CLAIM,
                status=ClaimStatus.DRAFT,
                channel=channel_for(user, ""),
                filed_by=user,
                filed_at_town=user.town if user.town_id else None,
                draft=data,
                created_at=now,
                updated_at=now,
            )
            audit(
                "claim.draft_created",
                user=user,
                obj=claim,
                now=now,
                data={"resident": str(resident.pk), "channel": claim.channel},
            )
            return claim
        claim = lock_claim(claim)
        _check_draft(claim, resident)
        claim.draft = data
        claim.updated_at = now
        claim.save(update_fields=["draft", "updated_at"])
    return claim


def _check_draft(claim: Claim, resident: Resident) -> None:
    if claim.resident_id != resident.pk:
        raise InvalidClaim(_("This draft belongs to another resident."), field="claim")
    if claim.status != ClaimStatus.DRAFT:
        raise TransitionNotAllowed(
            _("This claim has been submitted already."),
            field="claim",
            code="claims.not_a_draft",
        )


def submit_claim(
    *,
    resident: Resident,
    user: User,
    items: Sequence[ClaimItemInput],
    evidence: Sequence[Evidence] = (),
    channel: str = "",
    claim: Claim | None = None,
    now: dt.datetime,
) -> Claim:
    """Submit a points claim of ``items`` (an existing ``claim`` draft, or a new claim).

    Each item is checked against the city policy in force on ``now``'s China date (a city
    rule, a valid level, quantity ≥ 0, date not in the future), refused when a connected
    feed supplies the rule or the resident already has an open claim for it, and routed to
    its department (:mod:`jifen.claims.routing`): one review task per department. The claim
    gets its application number; audited ``claim.submitted``.
    """
    require_filer(user, resident)
    channel = channel_for(user, channel)
    today = china_date(now)
    policy = routing.city_policy(today)
    if not items:
        raise InvalidClaim(_("Claim at least one item."), field="items")
    files = clean_evidence(evidence, resident)
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, given in enumerate(items):
        prefix = f"items[{index}]"
        code = (given.rule or "").strip()
        rule = routing.claimable_rule(policy, code, field=f"{prefix}.rule")
        level, quantity, date = clean_rule_values(
            rule,
            level=given.level,
            quantity=given.quantity,
            date=given.date,
            prefix=prefix,
            today=today,
        )
        if given.until is not None:
            raise InvalidClaim(_("This rule takes no end date."), field=f"{prefix}.until")
        if code in seen:
            raise DuplicateOpenClaim(
                _("Each rule can be claimed once per claim."), field=f"{prefix}.rule"
            )
        seen.add(code)
        routing.check_not_supplied_by_feed(code, field=f"{prefix}.rule")
        department = routing.responsible_department(
            rule, preferred=given.department, field=f"{prefix}.department"
        )
        item_files = clean_evidence(given.evidence, resident, field=f"{prefix}.evidence")
        cleaned.append(
            {
                "rule": code,
                "level": level,
                "quantity": quantity,
                "date": date,
                "statement": clean_text(
                    given.statement, field=f"{prefix}.statement", required=False
                ),
                "department": department,
                "files": item_files,
            }
        )
    open_rules = set(
        ClaimItem.objects.filter(
            resident=resident, is_open=True, fact_key="", rule__in=seen
        ).values_list("rule", flat=True)
    )
    for index, values in enumerate(cleaned):
        if values["rule"] in open_rules:
            raise DuplicateOpenClaim(
                _("You already have an open claim for this rule; wait for its decision."),
                field=f"items[{index}].rule",
            )
    try:
        with transaction.atomic():
            claim = _create(
                resident=resident,
                user=user,
                channel=channel,
                claim=claim,
                cleaned=cleaned,
                files=files,
                now=now,
            )
    except IntegrityError as exc:
        duplicate = duplicate_from(exc)
        if duplicate is None:
            raise
        raise duplicate from exc
    return claim


def _create(
    *,
    resident: Resident,
    user: User,
    channel: str,
    claim: Claim | None,
    cleaned: list[dict[str, Any]],
    files: list[Evidence],
    now: dt.datetime,
) -> Claim:
    if claim is not None:
        claim = lock_claim(claim)
        _check_draft(claim, resident)
    else:
        claim = Claim(resident=resident, kind=ClaimKind.CLAIM, created_at=now)
    claim.status = ClaimStatus.SUBMITTED
    claim.number = next_number(ClaimKind.CLAIM, now)
    claim.channel = channel
    claim.filed_by = user
    claim.filed_at_town = user.town if channel == "window" else None
    claim.draft = {}
    claim.submitted_at = now
    claim.updated_at = now
    claim.save()
    tasks: dict[int, ReviewTask] = {}
    for position, values in enumerate(cleaned):
        department = values["department"]
        task = tasks.get(department.pk)
        if task is None:
            task = tasks[department.pk] = ReviewTask.objects.create(
                claim=claim, department=department, created_at=now
            )
        item = ClaimItem.objects.create(
            claim=claim,
            position=position,
            resident=resident,
            rule=values["rule"],
            level=values["level"],
            quantity=values["quantity"],
            date=values["date"],
            statement=values["statement"],
            department=department,
            task=task,
        )
        link_evidence(claim, values["files"], user=user, now=now, item=item)
    link_evidence(claim, files, user=user, now=now)
    audit(
        "claim.submitted",
        user=user,
        obj=claim,
        now=now,
        data={
            "number": claim.number,
            "kind": claim.kind,
            "resident": str(resident.pk),
            "channel": channel,
            "before": ClaimStatus.DRAFT,
            "after": ClaimStatus.SUBMITTED,
            "items": [values["rule"] for values in cleaned],
            "tasks": [{"task": t.pk, "department": t.department.code} for t in tasks.values()],
            "evidence": claim.evidence_links.count(),
        },
    )
    return claim


def withdraw(claim: Claim, *, user: User, reason: str = "", now: dt.datetime) -> Claim:
    """Withdraw a claim before its decision (the resident or a clerk of their town).

    Every open task is withdrawn (tasks already decided stay decided); a draft is simply
    closed. Audited ``claim.withdrawn``.
    """
    reason = clean_text(reason, field="reason", required=False)
    with transaction.atomic():
        claim = lock_claim(claim)
        require_filer(user, claim.resident)
        before = claim.status
        if claim.status == ClaimStatus.DRAFT:
            claim.status = ClaimStatus.WITHDRAWN
            claim.closed_at = now
            withdrawn_tasks: list[int] = []
        else:
            tasks = list(
                claim.tasks.select_for_update(of=("self",))
                .filter(state__in=open_states())
                .select_related("department")
                .order_by("pk")
            )
            if claim.status != ClaimStatus.SUBMITTED or not tasks:
                raise TransitionNotAllowed(
                    _("This claim has been decided or withdrawn already."), field="claim"
                )
            for task in tasks:
                run_transition(task, "withdraw")
                task.withdrawn_at = now
                task.save()
            ClaimItem.objects.filter(task__in=tasks).update(is_open=False)
            withdrawn_tasks = [t.pk for t in tasks]
        claim.withdraw_reason = reason
        claim.updated_at = now
        claim.save(update_fields=["status", "closed_at", "withdraw_reason", "updated_at"])
        close_claim_if_done(claim, now)
        audit(
            "claim.withdrawn",
            user=user,
            obj=claim,
            now=now,
            data={
                "number": claim.number,
                "before": before,
                "after": claim.status,
                "tasks": withdrawn_tasks,
            },
        )
    return claim
