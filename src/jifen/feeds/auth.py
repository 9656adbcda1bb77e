"""API authentication of departments: ``Authorization: Token <department token>``.

A valid, unrevoked token of an active department authenticates the request as a
:class:`DepartmentClient` (not a user: department systems have no session, no password and no
access to anything but their own feeds). A token that is presented but unknown or revoked is
refused with 401 and an audit entry; a request without a token gets 401 too.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from jifen.audit.actors import Actor
from jifen.audit.choices import Result
from jifen.audit.services import record
from jifen.feeds.models import DepartmentToken
from jifen.feeds.tokens import find_token, mark_used

KEYWORD = "Token"
#: The system actor for refusals where no department is known.
ANONYMOUS_ACTOR = "api:department_token"


class DepartmentClient:
    """The authenticated caller of the feed API: one department, through one token."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, token: DepartmentToken) -> None:
        self.token = token
        self.department = token.department
        self.pk = None
        self.unit_code = token.department.code

    def __str__(self) -> str:
        return f"department {self.department.code} (token {self.token.pk})"

    def actor(self, name: str) -> Actor:
        return Actor.system(name, unit=self.department.code)


class DepartmentTokenAuthentication(authentication.BaseAuthentication):
    """DRF authentication class for department tokens."""

    def authenticate(self, request: Request) -> tuple[DepartmentClient, DepartmentToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            self._refuse(request, "malformed", None)
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            self._refuse(request, "malformed", None)
        token = find_token(raw)
        if token is None:
            self._refuse(request, "unknown", None)
        if token.revoked_at is not None:
            self._refuse(request, "revoked", token)
        if not token.department.active:
            self._refuse(request, "department_inactive", token)
        mark_used(token, now=timezone.now())
        return DepartmentClient(token), token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when the token is missing or refused.
        return f'{KEYWORD} realm="feeds"'

    @staticmethod
    def _refuse(request: Request, reason: str, token: DepartmentToken | None) -> Any:
        record(
            "feed.token_refused",
            actor=Actor.system(ANONYMOUS_ACTOR, unit=token.department.code if token else ""),
            occurred_at=timezone.now(),
            object_type="feeds.departmenttoken" if token else "",
            object_id=token.pk if token else None,
            result=Result.DENIED,
            data={"reason": reason, "path": request.path[:200]},
            request=request._request,
        )
        raise exceptions.AuthenticationFailed()


class IsDepartmentClient(permissions.BasePermission):
    """Only department tokens (never staff sessions) may use the feed endpoints."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, DepartmentClient)


class DepartmentTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of department tokens."""

    target_class = DepartmentTokenAuthentication
    name = "departmentToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <department token>` (jifen feeds token create DEPARTMENT)",
        }
