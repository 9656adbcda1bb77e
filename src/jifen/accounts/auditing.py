"""Audit entries written by the request layer: logins, denials and views of personal data.

Each helper writes one entry through :func:`jifen.audit.services.record`; a failure raises and
fails the request (an action that cannot be audited must not happen). Entries never carry a
password, an identity or phone number, or a name: residents are referred to by their id.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from jifen.accounts import clock
from jifen.audit.actors import Actor
from jifen.audit.choices import Result
from jifen.audit.services import record

#: The actor of entries about a login attempt made before anyone is signed in.
LOGIN_FORM_ACTOR = "auth:login_form"
USER_AGENT_MAX = 200


def user_agent(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX]


def channel(request: HttpRequest) -> str:
    return "api" if request.path.startswith("/api/") else "web"


def login_attempt(
    action: str,
    *,
    request: HttpRequest | None,
    user: Any | None,
    result: str,
    data: dict[str, Any],
) -> None:
    """``auth.login_failed`` / ``auth.locked``: the account is the object, the form the actor.

    The person at the keyboard is not known to be the account's owner, so the entry is not
    attributed to the account.
    """
    record(
        action,
        actor=Actor.system(LOGIN_FORM_ACTOR),
        occurred_at=clock.now(),
        object_type="accounts.user",
        object_id=str(user.pk) if user is not None else "",
        result=result,
        data={**data, "user_agent": user_agent(request)},
        request=request,
    )


def user_event(
    action: str, *, request: HttpRequest | None, user: Any, data: dict[str, Any] | None = None
) -> None:
    """``auth.login``, ``auth.logout``, ``auth.session_expired``: the user acted."""
    record(
        action,
        actor=Actor.for_user(user),
        occurred_at=clock.now(),
        obj=user,
        data={**(data or {}), "user_agent": user_agent(request)},
        request=request,
    )


def access_denied(
    request: HttpRequest,
    *,
    reason: str,
    object_type: str = "",
    object_id: str = "",
) -> None:
    """``access.denied`` for a signed-in user (anonymous requests are sent to the login page)."""
    record(
        "access.denied",
        actor=Actor.for_user(request.user),
        occurred_at=clock.now(),
        object_type=object_type,
        object_id=object_id,
        result=Result.DENIED,
        data={
            "reason": reason,
            "path": request.path[:200],
            "method": request.method,
            "channel": channel(request),
        },
        request=request,
    )


def resident_event(
    action: str, request: HttpRequest, resident: Any, *, data: dict[str, Any] | None = None
) -> None:
    """``resident.viewed``, ``resident.identity_revealed``: a staff member saw personal data."""
    record(
        action,
        actor=Actor.for_user(request.user),
        occurred_at=clock.now(),
        obj=resident,
        data={"channel": channel(request), **(data or {})},
        request=request,
    )


def resident_search(request: HttpRequest, *, by: str, resident_ids: list[str]) -> None:
    """``resident.searched``: which residents a staff search showed (ids only, no terms)."""
    record(
        "resident.searched",
        actor=Actor.for_user(request.user),
        occurred_at=clock.now(),
        object_type="residents.resident",
        data={
            "channel": channel(request),
            "by": by,
            "results": len(resident_ids),
            "resident_ids": resident_ids[:50],
        },
        request=request,
    )
