"""Shared by the scenario services: who may act, formatting, audit, numbers, notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

from jifen.accounts import access
from jifen.accounts.models import Role, User
from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.residents.models import Resident
from jifen.scenarios.content import CHINA
from jifen.scenarios.errors import NotAllowed

#: Application numbers of enrollments: ``YY2026000001`` (积分应用), drawn from the claims app's
#: counter table (``jifen.claims.numbers``) under a prefix of their own.
NUMBER_PREFIX = "YY"


def active(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def require_center(user: User) -> None:
    if not (active(user) and user.role == Role.CENTER):
        raise NotAllowed(_("Only the center defines and publishes scenarios."))


def require_enroller(user: User, resident: Resident) -> None:
    if not access.may_act_for(user, resident):
        raise NotAllowed(_("You may not apply or withdraw for this resident."))


def require_evaluator(user: User, scenario: Any) -> None:
    """The center, or a reviewer of the providing department."""
    ok = active(user) and (
        user.role == Role.CENTER
        or (user.role == Role.REVIEWER and user.department_id == scenario.department_id)
    )
    if not ok:
        raise NotAllowed(
            _("Only the center or the providing department evaluates the enrollments.")
        )


def channel_for(user: User) -> str:
    return "window" if user.role == Role.CLERK else "portal"


def shown(value: dt.datetime) -> str:
    """A datetime as residents read it: China time to the second (``2026-07-01 09:00:00``)."""
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def audit(
    action: str,
    *,
    actor: Actor,
    obj: Any = None,
    now: dt.datetime,
    data: dict[str, Any],
    object_type: str | None = None,
    object_id: Any = None,
) -> None:
    record(
        action,
        actor=actor,
        occurred_at=now,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        data=data,
    )


def next_number(now: dt.datetime) -> str:
    """The next enrollment number in the China year of ``now`` (inside the transaction)."""
    from jifen.claims import numbers

    return numbers.next_number(NUMBER_PREFIX, now)


def enrollment_link(enrollment: Any) -> str:
    return f"/me/scenarios/enrollments/{enrollment.pk}/"


def _cached(instance: Any, field: str) -> bool:
    return instance._meta.get_field(field).is_cached(instance)


def notify_resident(
    enrollment: Any, *, kind: str, subject: Any, body: Any, now: dt.datetime
) -> None:
    from jifen.notifications.services import notify

    # The resident's own account, when it is at hand (they filed themselves): no query for it.
    submitter = enrollment.submitted_by if _cached(enrollment, "submitted_by") else None
    own = submitter is not None and submitter.resident_id == enrollment.resident_id
    notify(
        user=submitter if own else None,
        resident=enrollment.resident,
        kind=kind,
        subject=str(subject),
        body=str(body),
        link=enrollment_link(enrollment),
        now=now,
    )
