"""Answering a re-examination: accept, then decide (upheld / dismissed).

An upheld re-examination, in one transaction:

1. writes the corrected facts through ``apply_fact`` (source ``staff``, ``source_ref`` = the
   re-examination number, department = the routed one); each change must concern the
   disputed item;
2. re-evaluates the enrollment on the scenario's evaluation and review dates
   (``jifen.scenarios``), so its points and breakdown change;
3. has ``jifen.rankings`` publish the corrected list, with what changed (points, items, rank,
   allocation before → after) and why (the decision reason);
4. requests a recompute of the resident's current score (after the commit).

Every decision is told to the applicant and reported to the center (报备:
``reported_to_center_at``, a notification to each center user, audit
``reexamination.reported``). Audited ``reexamination.accepted`` / ``reexamination.decided``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jifen.accounts.models import User
from jifen.facts.errors import InvalidFact
from jifen.facts.models import Fact, FactKind, FactSource
from jifen.facts.services import apply_fact
from jifen.reexaminations import effects, routing
from jifen.reexaminations.errors import InvalidReexamination
from jifen.reexaminations.models import Reexamination, ReexaminationState
from jifen.reexaminations.services._common import (
    audit,
    center_users,
    clean_text,
    data_of,
    lock,
    notify_applicant,
    notify_users,
    require_handler,
    run_transition,
)
from jifen.scores.services import china_date, request_recompute, select_policies


@dataclass(frozen=True)
class FactChange:
    """One corrected fact of an upheld re-examination.

    ``code`` is a fact code behind the disputed item (a provincial profile field such as
    ``social_insurance_months``, a city rule such as ``charity.blood_donation``, a deduction
    code). ``key`` names the fact to supersede; by default the resident's one current fact of
    that code, or a new fact ``reexam:<number>:<i>`` when they have none. ``kind`` defaults to
    the superseded fact's, else follows from the code. The values replace the old ones.
    """

    code: str
    key: str = ""
    kind: str = ""
    level: str = ""
    quantity: Decimal | int | str | None = None
    date: dt.date | None = None
    until: dt.date | None = None
    act: str = ""


def accept(reexamination: Reexamination, *, user: User, now: dt.datetime) -> Reexamination:
    """The routed department (or the center) accepts a submitted re-examination; the
    due date set at filing stays. Audited ``reexamination.accepted``; the applicant is told."""
    require_handler(user, reexamination)
    with transaction.atomic():
        reexamination = lock(reexamination)
        require_handler(user, reexamination)
        before = run_transition(reexamination, "accept")
        reexamination.accepted_at = now
        reexamination.accepted_by = user
        reexamination.save()
        notify_applicant(
            reexamination,
            kind="reexamination.accepted",
            subject=_("Your re-examination request %(number)s was accepted")
            % {"number": reexamination.number},
            body=_("%(department)s accepted %(number)s and will answer by %(due)s.")
            % {
                "department": reexamination.department.name,
                "number": reexamination.number,
                "due": reexamination.due_on.isoformat(),
            },
            now=now,
        )
        audit(
            "reexamination.accepted",
            user=user,
            obj=reexamination,
            now=now,
            data=data_of(reexamination, before, due_on=reexamination.due_on.isoformat()),
        )
    return reexamination


def decide(
    reexamination: Reexamination,
    *,
    user: User,
    outcome: str,
    reason: str,
    changes: Sequence[FactChange] = (),
    now: dt.datetime,
) -> Reexamination:
    """Decide an accepted re-examination: ``upheld`` with the corrected facts (``changes``,
    at least one) or ``dismissed`` (no changes); a reason either way. See the module."""
    require_handler(user, reexamination)
    if outcome not in (ReexaminationState.UPHELD, ReexaminationState.DISMISSED):
        raise InvalidReexamination(_("Uphold or dismiss."), field="outcome")
    reason = clean_text(reason, field="reason", required=True)
    changes = list(changes or ())
    if outcome == ReexaminationState.UPHELD and not changes:
        raise InvalidReexamination(
            _("An upheld re-examination corrects at least one fact."), field="changes"
        )
    if outcome == ReexaminationState.DISMISSED and changes:
        raise InvalidReexamination(
            _("A dismissed re-examination changes no fact."), field="changes"
        )
    with transaction.atomic():
        reexamination = lock(reexamination)
        require_handler(user, reexamination)
        if reexamination.state != ReexaminationState.ACCEPTED:
            run_transition(reexamination, "decide", outcome)  # raises: not allowed
        # Decided first: the enrollment's re-evaluation must not see this re-examination as
        # an open one (an open re-examination blocks the enrollment from the ranking).
        before = run_transition(reexamination, "decide", outcome)
        reexamination.decided_at = now
        reexamination.decided_by = user
        reexamination.decision_reason = reason
        reexamination.reported_to_center_at = now
        reexamination.save()
        if outcome == ReexaminationState.UPHELD:
            result = _uphold(reexamination, changes, user=user, reason=reason, now=now)
            reexamination.changes = result["changes"]
            reexamination.corrected_publication = result["publication"]
            reexamination.save(update_fields=["changes", "corrected_publication"])
        _tell_applicant(reexamination, now=now)
        audit(
            "reexamination.decided",
            user=user,
            obj=reexamination,
            now=now,
            data=data_of(
                reexamination,
                before,
                facts=reexamination.changes.get("facts", []),
                points=reexamination.changes.get("points"),
                corrected_publication=reexamination.corrected_publication_id,
            ),
        )
        _report_to_center(reexamination, user=user, now=now)
    return reexamination


# --- upheld ---------------------------------------------------------------------------------


def _uphold(
    reexamination: Reexamination,
    changes: list[FactChange],
    *,
    user: User,
    reason: str,
    now: dt.datetime,
) -> dict[str, Any]:
    enrollment = reexamination.enrollment
    before = {
        "points": _money(enrollment.points),
        "breakdown": dict(enrollment.breakdown or {}),
    }
    facts = _write_facts(reexamination, changes, now=now)
    enrollment = effects.reevaluate(enrollment, user=user, now=now)
    after = {"points": _money(enrollment.points), "breakdown": dict(enrollment.breakdown or {})}
    items = {
        key: [before["breakdown"].get(key), after["breakdown"].get(key)]
        for key in sorted(set(before["breakdown"]) | set(after["breakdown"]))
        if before["breakdown"].get(key) != after["breakdown"].get(key)
    }
    summary = {
        "facts": facts,
        "points": [before["points"], after["points"]],
        "items": items,
    }
    publication = effects.publish_correction(
        reexamination.publication,
        enrollment=enrollment,
        reason=reason,
        why=str(
            _("Re-examination %(number)s upheld: %(reason)s")
            % {"number": reexamination.number, "reason": reason}
        ),
        change=summary,
        user=user,
        now=now,
    )
    summary.update(effects.entry_change(reexamination.publication, publication, enrollment))
    request_recompute([reexamination.resident_id], reason="reexamination.upheld", now=now)
    return {"changes": summary, "publication": publication}


def _write_facts(
    reexamination: Reexamination, changes: list[FactChange], *, now: dt.datetime
) -> list[dict[str, Any]]:
    enrollment = reexamination.enrollment
    selection = select_policies(enrollment.version.evaluation_date)
    allowed = set(routing.item_codes(reexamination.item, selection))
    written = []
    for index, change in enumerate(changes):
        prefix = f"changes[{index}]"
        if not isinstance(change, FactChange):
            raise InvalidReexamination(_("A fact change expected."), field=prefix)
        code = (change.code or "").strip()
        if code not in allowed:
            raise InvalidReexamination(
                _("%(code)s is not part of the disputed item %(item)s (one of: %(codes)s).")
                % {"code": code, "item": reexamination.item, "codes": ", ".join(sorted(allowed))},
                field=f"{prefix}.code",
            )
        current = _current_fact(reexamination, change, code, field=f"{prefix}.key")
        key = change.key or (current.key if current else f"reexam:{reexamination.number}:{index}")
        kind = change.kind or (current.kind if current else _kind_of(code, selection))
        if current is not None and current.code != code:
            raise InvalidReexamination(
                _("The fact %(key)s is not a %(code)s fact.") % {"key": key, "code": code},
                field=f"{prefix}.key",
            )
        try:
            outcome = apply_fact(
                reexamination.resident,
                kind=kind,
                code=code,
                key=key,
                level=change.level or "",
                quantity=_quantity(change.quantity, field=f"{prefix}.quantity"),
                date=change.date,
                until=change.until,
                act=change.act or (current.act if current else ""),
                department=reexamination.department,
                source=FactSource.STAFF,
                source_ref=reexamination.number,
                now=now,
            )
        except InvalidFact as exc:
            raise InvalidReexamination(str(exc), field=f"{prefix}.{exc.field}") from exc
        fact = Fact.objects.current().get(resident_id=reexamination.resident_id, key=key)
        written.append(
            {
                "code": code,
                "key": key,
                "outcome": outcome,
                "fact": fact.pk,
                "superseded": current.pk if current and outcome != "unchanged" else None,
            }
        )
    if all(w["outcome"] == "unchanged" for w in written):
        raise InvalidReexamination(
            _("The changes repeat the current facts: nothing would change."), field="changes"
        )
    return written


def _current_fact(reexamination, change: FactChange, code: str, *, field: str) -> Fact | None:
    facts = Fact.objects.current().filter(resident_id=reexamination.resident_id)
    if change.key:
        return facts.filter(key=change.key).first()
    found = list(facts.filter(code=code).order_by("pk")[:2])
    if len(found) > 1:
        raise InvalidReexamination(
            _("The resident has several %(code)s facts: name the one to correct (key).")
            % {"code": code},
            field=field,
        )
    return found[0] if found else None


def _kind_of(code: str, selection) -> str:
    if code in selection.city.rules:
        return FactKind.CITY
    if code in selection.city.deductions_by_code or code in selection.provincial.deductions_by_code:
        return FactKind.DEDUCTION
    return FactKind.PROVINCIAL


def _quantity(value: Any, *, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        raise InvalidReexamination(_("The quantity must be a number."), field=field)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidReexamination(_("The quantity must be a number."), field=field) from None


def _money(value: Any) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


# --- telling and reporting ------------------------------------------------------------------


def _tell_applicant(reexamination: Reexamination, *, now: dt.datetime) -> None:
    upheld = reexamination.state == ReexaminationState.UPHELD
    points = (reexamination.changes or {}).get("points") or [None, None]
    if upheld:
        body = _(
            "%(department)s upheld your re-examination request %(number)s: %(reason)s\n"
            "Your points for this application are now %(points)s; the corrected list is "
            "published."
        ) % {
            "department": reexamination.department.name,
            "number": reexamination.number,
            "reason": reexamination.decision_reason,
            "points": points[1] or "—",
        }
    else:
        body = _("%(department)s dismissed your re-examination request %(number)s: %(reason)s") % {
            "department": reexamination.department.name,
            "number": reexamination.number,
            "reason": reexamination.decision_reason,
        }
    notify_applicant(
        reexamination,
        kind="reexamination.decided",
        subject=_("Result of your re-examination request %(number)s")
        % {"number": reexamination.number},
        body=body,
        now=now,
    )


def _report_to_center(reexamination: Reexamination, *, user: User, now: dt.datetime) -> None:
    """报备: every center user is told the result; audited ``reexamination.reported``."""
    count = notify_users(
        center_users(),
        reexamination,
        kind="reexamination.reported",
        subject=_("Re-examination %(number)s %(outcome)s")
        % {
            "number": reexamination.number,
            "outcome": ReexaminationState(reexamination.state).label,
        },
        body=_(
            "%(department)s %(outcome)s re-examination %(number)s of %(item)s (application "
            "%(enrollment)s, filed %(filed)s, due %(due)s): %(reason)s"
        )
        % {
            "department": reexamination.department.name,
            "outcome": ReexaminationState(reexamination.state).label,
            "number": reexamination.number,
            "item": reexamination.item,
            "enrollment": reexamination.enrollment.number,
            "filed": china_date(reexamination.filed_at).isoformat(),
            "due": reexamination.due_on.isoformat(),
            "reason": reexamination.decision_reason,
        },
        now=now,
    )
    audit(
        "reexamination.reported",
        user=user,
        obj=reexamination,
        now=now,
        data=data_of(
            reexamination,
            reexamination.state,
            recipients=count,
            on_time=china_date(now) <= reexamination.due_on,
        ),
    )
