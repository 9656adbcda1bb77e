"""Refusals of the API, in one shape: ``{"field", "code", "detail"}``.

``field`` names the offending input (``items[0].level``, ``Idempotency-Key``; null when the
refusal is not about one input), ``code`` is stable for programs (``claims.duplicate_open_claim``,
``auth.forbidden``), ``detail`` is translated for people. Views answer with :func:`problem`;
DRF's own refusals (not signed in, role refused, unparsable body, unsupported media type,
method not allowed, not found, throttled, validation) get the same shape from
:func:`exception_handler` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``), with their status and
headers (``WWW-Authenticate``, ``Allow``, ``Retry-After``) kept. The schema documents every
refusal with :class:`ProblemSerializer` (:func:`refusals`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ProblemSerializer(serializers.Serializer):
    """Every refusal of the API: the offending field, a stable code, a message."""

    field = serializers.CharField(
        allow_null=True, help_text="The offending field, e.g. items[0].level (null if none)"
    )
    code = serializers.CharField(help_text="A stable code, e.g. claims.duplicate_open_claim")
    detail = serializers.CharField(help_text="A message for people (translated)")


def problem(
    field: str | None,
    code: str,
    detail: Any,
    status: int = 400,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        {"field": field, "code": code, "detail": str(detail)}, status=status, headers=headers
    )


def first_error(errors: Any, prefix: str = "") -> tuple[str, str, str]:
    """The first error of a DRF ``ValidationError`` as (field path, code, message)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if key == "non_field_errors":
                return first_error(value, prefix)
            if isinstance(key, int):  # a list serializer's errors by position
                return first_error(value, f"{prefix}[{key}]")
            return first_error(value, f"{prefix}.{key}" if prefix else str(key))
    if isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, dict | list):
                if value:
                    return first_error(value, f"{prefix}[{index}]")
                continue
            return prefix or "body", getattr(value, "code", None) or "invalid", str(value)
    return prefix or "body", getattr(errors, "code", None) or "invalid", str(errors)


#: The stable codes of DRF's own refusals (a subclass takes its first matching ancestor's).
CODES: tuple[tuple[type[exceptions.APIException], str], ...] = (
    (exceptions.NotAuthenticated, "auth.not_authenticated"),
    (exceptions.AuthenticationFailed, "auth.failed"),
    (exceptions.PermissionDenied, "auth.forbidden"),
    (exceptions.ParseError, "request.unparsable"),
    (exceptions.UnsupportedMediaType, "request.unsupported_media_type"),
    (exceptions.MethodNotAllowed, "request.method_not_allowed"),
    (exceptions.NotAcceptable, "request.not_acceptable"),
    (exceptions.Throttled, "request.throttled"),
    (exceptions.NotFound, "not_found"),
)


def code_of(exc: exceptions.APIException) -> str:
    for cls, code in CODES:
        if isinstance(exc, cls):
            return code
    return f"request.{exc.default_code}"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, headers, rollback), answering the problem shape."""
    if isinstance(exc, Http404):  # the message of a Django 404 may name a model: not shown
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:  # not a refusal: a server error
        return None
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError) or isinstance(exc.detail, dict | list):
        field, code, detail = first_error(exc.detail)
    else:
        field, code, detail = None, code_of(exc), str(exc.detail)
    response.data = {"field": field, "code": code, "detail": detail}
    return response


DESCRIPTIONS = {
    400: "bad input (names the field)",
    403: "not signed in, or your role may not do this",
    404: "not found, or not within your responsibility",
    409: "conflicts with the current state",
    410: "removed (retention)",
    413: "the file is too large",
    422: "refused by the policy or the configuration, or the Idempotency-Key was used for "
    "another request",
}


def refusals(*statuses: int) -> dict[int, OpenApiResponse]:
    """The schema's refusals of an operation, e.g. ``{200: X, **refusals(403, 404)}``."""
    return {
        status: OpenApiResponse(ProblemSerializer, description=DESCRIPTIONS[status])
        for status in statuses
    }


def refusal(description: str) -> OpenApiResponse:
    """One refusal with a description of its own."""
    return OpenApiResponse(ProblemSerializer, description=description)
