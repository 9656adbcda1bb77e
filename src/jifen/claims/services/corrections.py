"""Corrections (积分异议/变更): a resident disputes a scored fact or reports changed
circumstances. The correction goes to the department that recorded the fact and is reviewed
with the same states and deadlines; approving it supersedes the fact (``apply_fact`` with the
same key, source ``claim``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.claims import routing
from jifen.claims.errors import DuplicateOpenClaim, InvalidClaim
from jifen.claims.models import Claim, ClaimItem, ClaimKind, ClaimStatus, ReviewTask
from jifen.claims.services._common import (
    ClaimItemInput,
    audit,
    channel_for,
    clean_date,
    clean_evidence,
    clean_quantity,
    clean_rule_values,
    clean_text,
    duplicate_from,
    link_evidence,
    next_number,
    require_filer,
)
from jifen.evidence.models import Evidence
from jifen.facts.models import Fact, FactKind
from jifen.residents.models import Resident
from jifen.scores.services import china_date


def file_correction(
    *,
    resident: Resident,
    user: User,
    fact: Fact,
    statement: str,
    proposed: ClaimItemInput | None = None,
    evidence: Sequence[Evidence] = (),
    channel: str = "",
    now: dt.datetime,
) -> Claim:
    """File a correction of ``fact`` (a current fact of ``resident``) with a statement,
    optionally the proposed value (``proposed.level`` / ``quantity`` / ``date`` /
    ``until``), and evidence. One open correction per fact. Audited ``correction.filed``."""
    require_filer(user, resident)
    channel = channel_for(user, channel)
    if fact.resident_id != resident.pk:
        raise InvalidClaim(_("This item is not one of your points."), field="fact")
    if fact.superseded_at is not None:
        raise InvalidClaim(_("This item has been replaced meanwhile."), field="fact")
    statement = clean_text(statement, field="statement", required=True)
    files = clean_evidence(evidence, resident)
    level, quantity, date, until = "", None, None, None
    today = china_date(now)
    if proposed is not None:
        rule = routing.city_policy(today).rules.get(fact.code)
        if fact.kind == FactKind.CITY and rule is not None and rule.field is None:
            level, quantity, date = clean_rule_values(
                rule,
                level=proposed.level,
                quantity=proposed.quantity,
                date=proposed.date,
                prefix="proposed",
                today=today,
            )
        else:
            level = clean_text(proposed.level, field="proposed.level", required=False, limit=40)
            quantity = clean_quantity(proposed.quantity, field="proposed.quantity")
            date = clean_date(proposed.date, field="proposed.date", today=today, required=False)
        if proposed.until is not None:
            until = clean_date(proposed.until, field="proposed.until", today=dt.date.max,
                               required=False)  # fmt: skip
    if ClaimItem.objects.filter(resident=resident, fact_key=fact.key, is_open=True).exists():
        raise DuplicateOpenClaim(
            _("You already have an open correction for this item."), field="fact"
        )
    try:
        with transaction.atomic():
            claim = Claim.objects.create(
                resident=resident,
                kind=ClaimKind.CORRECTION,
                status=ClaimStatus.SUBMITTED,
                number=next_number(ClaimKind.CORRECTION, now),
                channel=channel,
                filed_by=user,
                filed_at_town=user.town if channel == "window" else None,
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
            task = ReviewTask.objects.create(
                claim=claim, department=fact.department, created_at=now
            )
            item = ClaimItem.objects.create(
                claim=claim,
                position=0,
                resident=resident,
                rule=fact.code,
                fact_key=fact.key,
                disputed_fact=fact,
                level=level,
                quantity=quantity,
                date=date,
                until=until,
                statement=statement,
                department=fact.department,
                task=task,
            )
            link_evidence(claim, files, user=user, now=now, item=item)
            audit(
                "correction.filed",
                user=user,
                obj=claim,
                now=now,
                data={
                    "number": claim.number,
                    "kind": claim.kind,
                    "resident": str(resident.pk),
                    "channel": channel,
                    "fact": fact.pk,
                    "rule": fact.code,
                    "before": ClaimStatus.DRAFT,
                    "after": ClaimStatus.SUBMITTED,
                    "tasks": [{"task": task.pk, "department": fact.department.code}],
                    "evidence": len(files),
                },
            )
    except IntegrityError as exc:
        duplicate = duplicate_from(exc)
        if duplicate is None:
            raise
        raise duplicate from exc
    return claim
