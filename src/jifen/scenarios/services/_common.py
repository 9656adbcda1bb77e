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

#: Application numbers of enrollments: ``YY2026000001`` (积分应用). The counter row is the
#: claims app's (prefix ``YY`` shared with corrections), so no two applications of either
#: kind ever carry the same number.
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
    from django.db import IntegrityError, transaction
    from django.db.models import F

    from jifen.claims.models import NumberCounter

    year = now.astimezone(CHINA).year
    try:
        with transaction.atomic():
            NumberCounter.objects.get_or_create(prefix=NUMBER_PREFIX, year=year)
    except IntegrityError:
        pass  # created concurrently
    NumberCounter.objects.filter(prefix=NUMBER_PREFIX, year=year).update(last=F("last") + 1)
    last = NumberCounter.objects.get(prefix=NUMBER_PREFIX, year=year).last
    return f"{NUMBER_PREFIX}{year}{last:06d}"


def enrollment_link(enrollment: Any) -> str:
    return f"/me/scenarios/enrollments/{enrollment.pk}/"


def notify_resident(
    enrollment: Any, *, kind: str, subject: Any, body: Any, now: dt.datetime
) -> None:
    from jifen.notifications.services import notify

    notify(
        resident=enrollment.resident,
        kind=kind,
        subject=str(subject),
        body=str(body),
        link=enrollment_link(enrollment),
        now=now,
    )
