"""``@idempotent``: the ``Idempotency-Key`` protocol for state-changing API handlers.

- no (or a malformed) key → 400 naming ``Idempotency-Key``;
- a replay (same user, key, method, path and body) → the stored status and body, with the
  header ``Idempotent-Replayed: true``; the handler does not run again;
- the same key with another method, path or body → 422;
- the same key while the first request is still being handled → 409 (``Retry-After: 1``) on
  PostgreSQL; SQLite's single writer makes the duplicate wait and then replay.

Taking the key, the handler and storing its response are one transaction
(:mod:`jifen.idempotency.services`), so a claim and the record of the response that announced
it commit together, and one commit serves the whole request. A 5xx or an exception rolls
everything back, the key included, so the client may retry with it. DRF exceptions raised by
the handler (404, 403, validation) become their normal responses and are stored like any other
4xx.

This relies on ``ATOMIC_REQUESTS`` being off (it is): the decorator owns the transaction.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from jifen.accounts import clock
from jifen.idempotency import services
from jifen.idempotency.services import Outcome

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"\A[\x21-\x7e]{1,255}\Z")

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A key unique to this action (e.g. a UUID): a retry with the same key and body "
    "returns the stored response; another body with the same key gets 422; a duplicate sent "
    "while the first is still handled gets 409.",
)


def _problem(status: int, code: str, detail: str, headers: dict | None = None) -> Response:
    return Response(
        {"field": HEADER, "code": code, "detail": detail}, status=status, headers=headers
    )


def body_digest(request: Request) -> str:
    """A digest of the request body as parsed: JSON canonically; form fields and file contents."""
    digest = hashlib.sha256()
    files = getattr(request, "FILES", None) or {}
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict (form or multipart)
        fields = sorted((k, v) for k, v in data.lists() if k not in files)
        digest.update(json.dumps(fields, ensure_ascii=False).encode())
        for name in sorted(files):
            for upload in files.getlist(name):
                part = hashlib.sha256()
                for chunk in upload.chunks():
                    part.update(chunk)
                upload.seek(0)
                digest.update(f"\n{name}:{upload.size}:{part.hexdigest()}".encode())
    else:
        digest.update(
            json.dumps(data, cls=JSONEncoder, sort_keys=True, ensure_ascii=False).encode()
        )
    return digest.hexdigest()


def _stored_body(response: Response) -> Any:
    return json.loads(json.dumps(response.data, cls=JSONEncoder, ensure_ascii=False))


class _ServerError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def idempotent(handler):
    """Decorate a DRF view's ``post``/``put``/``patch``/``delete`` method."""

    @functools.wraps(handler)
    def wrapper(view, request: Request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or not key.strip():
            return _problem(
                400,
                "idempotency.key_missing",
                _("The header Idempotency-Key is required for this request."),
            )
        if not KEY_PATTERN.match(key):
            return _problem(
                400,
                "idempotency.key_invalid",
                _("Idempotency-Key must be 1 to 255 visible ASCII characters."),
            )
        path = request.get_full_path()
        digest = services.request_hash(request.method, path, body_digest(request))
        try:
            with transaction.atomic():
                outcome, record = services.begin(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=path,
                    digest=digest,
                    now=clock.now(),
                )
                if outcome is Outcome.IN_PROGRESS:
                    return _problem(
                        409,
                        "idempotency.in_progress",
                        _("A request with this Idempotency-Key is still being handled."),
                        headers={"Retry-After": "1"},
                    )
                if outcome is Outcome.MISMATCH:
                    return _problem(
                        422,
                        "idempotency.key_reused",
                        _("This Idempotency-Key was already used for a different request."),
                    )
                if outcome is Outcome.REPLAY:
                    return Response(
                        record.response_body,
                        status=record.response_status,
                        headers={REPLAYED_HEADER: "true"},
                    )
                try:
                    response = handler(view, request, *args, **kwargs)
                except Exception as exc:  # DRF's own answer (404, 403, 400); others re-raise
                    response = view.handle_exception(exc)
                if response.status_code >= 500:
                    raise _ServerError(response)
                services.complete(
                    record,
                    status=response.status_code,
                    body=_stored_body(response) if hasattr(response, "data") else None,
                    now=clock.now(),
                )
        except _ServerError as failed:
            return failed.response  # rolled back with the key: the client may retry
        return response

    return extend_schema(parameters=[IDEMPOTENCY_PARAMETER])(wrapper)
