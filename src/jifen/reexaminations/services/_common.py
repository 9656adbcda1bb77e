"""Shared steps of the re-examination services: who may act, locking, transitions, numbers,
texts, evidence, audit and notifications."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import django_fsm
from django.utils.translation import gettext_lazy as _

from jifen.accounts import access
from jifen.accounts.models import Role, User
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.claims import numbers
from jifen.evidence.models import Evidence
from jifen.reexaminations.errors import InvalidReexamination, NotAllowed, TransitionNotAllowed
from jifen.reexaminations.models import Reexamination, ReexaminationState
from jifen.residents.models import Resident

#: Number prefix of re-examinations (复核).
NUMBER_PREFIX = "FH"
MAX_FILES = 20
MAX_TEXT = 4000


def active(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def require_filer(user: Any, resident: Resident) -> None:
    if not access.may_act_for(user, resident):
        raise NotAllowed(_("You may not file or withdraw re-examinations of this resident."))


def may_handle(user: Any, reexamination: Reexamination) -> bool:
    """The department it is routed to, or the center."""
    return active(user) and (
        user.role == Role.CENTER
        or (user.role == Role.REVIEWER and user.department_id == reexamination.department_id)
    )


def require_handler(user: Any, reexamination: Reexamination) -> None:
    if not may_handle(user, reexamination):
        raise NotAllowed(_("Only the responsible department answers this re-examination."))


def channel_for(user: User) -> str:
    return "window" if user.role == Role.CLERK else "portal"


def lock(reexamination: Reexamination | Any) -> Reexamination:
    pk = getattr(reexamination, "pk", reexamination)
    return (
        Reexamination.objects.select_for_update(of=("self",))
        .select_related("resident", "department", "enrollment", "publication")
        .get(pk=pk)
    )


def run_transition(reexamination: Reexamination, name: str, *args: Any) -> str:
    before = reexamination.state
    try:
        getattr(reexamination, name)(*args)
    except django_fsm.TransitionNotAllowed:
        raise TransitionNotAllowed(
            _("A re-examination in state “%(state)s” does not allow this step.")
            % {"state": ReexaminationState(before).label},
            field="state",
        ) from None
    return before


def next_number(now: dt.datetime) -> str:
    """``FH2025000001``: the next number in the China year of ``now``."""
    return numbers.next_number(NUMBER_PREFIX, now)


def clean_text(value: Any, *, field: str, required: bool, error=InvalidReexamination) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidReexamination(_("Text expected."), field=field)
    text = (value or "").strip()
    if required and not text:
        raise error(_("Please give a reason."), field=field)
    if len(text) > MAX_TEXT:
        raise InvalidReexamination(
            _("At most %(limit)s characters.") % {"limit": MAX_TEXT}, field=field
        )
    return text


def clean_evidence(evidence: Iterable[Evidence], resident: Resident) -> list[Evidence]:
    files = list(dict.fromkeys(evidence or ()))
    if len(files) > MAX_FILES:
        raise InvalidReexamination(_("At most %(n)s files.") % {"n": MAX_FILES}, field="evidence")
    for file in files:
        if not isinstance(file, Evidence) or file.resident_id != resident.pk:
            raise InvalidReexamination(
                _("A file does not belong to this resident."), field="evidence"
            )
        if file.deleted_at is not None:
            raise InvalidReexamination(_("A file has been deleted."), field="evidence")
    return files


def audit(
    action: str, *, user: User | None = None, actor: Actor | None = None, obj: Any, now, data
) -> None:
    record(action, actor=actor or Actor.for_user(user), occurred_at=now, obj=obj, data=data)


def data_of(reexamination: Reexamination, before: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "number": reexamination.number,
        "enrollment": reexamination.enrollment.number,
        "publication": reexamination.publication_id,
        "item": reexamination.item,
        "department": reexamination.department.code,
        "before": before,
        "after": reexamination.state,
        **extra,
    }


def link(reexamination: Reexamination) -> str:
    return f"/me/reexaminations/{reexamination.pk}/"


def staff_link(reexamination: Reexamination) -> str:
    return f"/workbench/reexaminations/{reexamination.pk}/"


def notify_applicant(
    reexamination: Reexamination, *, kind: str, subject: Any, body: Any, now: dt.datetime
) -> None:
    from jifen.notifications.services import notify

    notify(
        resident=reexamination.resident,
        kind=kind,
        subject=str(subject),
        body=str(body),
        link=link(reexamination),
        now=now,
    )


def notify_users(
    users: Iterable[User],
    reexamination: Reexamination,
    *,
    kind: str,
    subject: Any,
    body: Any,
    now: dt.datetime,
) -> int:
    from jifen.notifications.services import notify

    count = 0
    for user in users:
        notify(
            user=user,
            kind=kind,
            subject=str(subject),
            body=str(body),
            link=staff_link(reexamination),
            now=now,
        )
        count += 1
    return count


def department_reviewers(reexamination: Reexamination):
    return User.objects.filter(
        role=Role.REVIEWER, department_id=reexamination.department_id, is_active=True
    ).order_by("pk")


def center_users():
    return User.objects.filter(role=Role.CENTER, is_active=True).order_by("pk")
