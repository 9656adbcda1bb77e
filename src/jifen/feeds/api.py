"""The feed API (department tokens only), included by the project at ``api/feeds/``.

``POST <feed>/batches`` — the file is the request body (``text/csv`` or ``application/json``):
201 with the batch report; 200 with the earlier batch when the same file was already applied;
422 with the refused batch when the file cannot be read at all; 403 when the token's department
does not send this feed; 401 without a valid token; 404 for an unknown feed; 413 / 415 for an
oversized body or another content type.

``GET <feed>/batches`` — the department's recent batches of the feed (without row reports);
``GET <feed>/batches/<id>`` — one of them with its report (404 for anyone else's batch).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jifen.api.errors import refusal
from jifen.audit.choices import Result
from jifen.audit.services import record
from jifen.feeds.auth import DepartmentClient, DepartmentTokenAuthentication, IsDepartmentClient
from jifen.feeds.docgen import EXAMPLE_RESIDENTS
from jifen.feeds.formats import FEEDS, FeedFormat
from jifen.feeds.importer import import_feed
from jifen.feeds.models import BatchStatus, FeedBatch
from jifen.feeds.parsing import CONTENT_TYPES

#: Largest accepted request body (bytes); override with the JIFEN_FEED_MAX_BYTES setting.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
LIST_LIMIT = 50
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is larger than this endpoint accepts."
    default_code = "payload_too_large"


def batch_summary(batch: FeedBatch) -> dict[str, Any]:
    """A batch without its row report (lists)."""
    return {
        "id": batch.pk,
        "feed": batch.feed,
        "department": batch.department.code,
        "file_name": batch.file_name,
        "checksum": batch.checksum,
        "format": batch.format,
        "encoding": batch.encoding,
        "status": batch.status,
        "received_at": batch.received_at.isoformat(),
        "rows": batch.rows,
        "accepted": batch.accepted,
        "unchanged": batch.unchanged,
        "superseded": batch.superseded,
        "rejected": batch.rejected,
        "registered": batch.registered,
        "refusal_reason": batch.refusal_reason,
        "refusal_reason_zh": batch.refusal_reason_zh,
    }


def batch_report(batch: FeedBatch) -> dict[str, Any]:
    """A batch with its row-by-row report (identity numbers masked)."""
    return {**batch_summary(batch), "report": batch.report}


_BATCH_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "feed": {"type": "string"},
        "department": {"type": "string"},
        "file_name": {"type": "string"},
        "checksum": {"type": "string"},
        "format": {"type": "string", "enum": ["csv", "json", ""]},
        "encoding": {"type": "string"},
        "status": {"type": "string", "enum": list(BatchStatus.values)},
        "received_at": {"type": "string", "format": "date-time"},
        "rows": {"type": "integer"},
        "accepted": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "superseded": {"type": "integer"},
        "rejected": {"type": "integer"},
        "registered": {"type": "integer"},
        "refusal_reason": {"type": "string"},
        "refusal_reason_zh": {"type": "string"},
        "report": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "row": {"type": "integer"},
                    "record_id": {"type": "string"},
                    "identity": {"type": "string", "description": "masked identity number"},
                    "rule": {"type": "string"},
                    "outcome": {
                        "type": "string",
                        "enum": ["accepted", "unchanged", "superseded", "rejected"],
                    },
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "reason": {"type": "string"},
                    "reason_zh": {"type": "string"},
                },
            },
        },
    },
}
_FEED_PARAMETER = OpenApiParameter(
    "feed", OpenApiTypes.STR, OpenApiParameter.PATH, enum=sorted(FEEDS), description="feed code"
)


class _FeedView(APIView):
    authentication_classes = [DepartmentTokenAuthentication]
    permission_classes = [IsDepartmentClient]

    def feed_for(self, request: Request, code: str) -> FeedFormat:
        """The feed, if the caller's department sends it; 404 / 403 (audited) otherwise."""
        feed = FEEDS.get(code)
        if feed is None:
            raise Http404
        client: DepartmentClient = request.user
        if client.department.code != feed.department:
            record(
                "feed.access_denied",
                actor=client.actor(f"department:{client.department.code}"),
                occurred_at=timezone.now(),
                object_type="feeds.feed",
                object_id=feed.code,
                result=Result.DENIED,
                data={"token": client.token.pk, "method": request.method},
                request=request._request,
            )
            raise exceptions.PermissionDenied()
        return feed


class FeedBatchCollection(_FeedView):
    @extend_schema(
        operation_id="feeds_batches_create",
        summary="Send one feed file (CSV or JSON) as the request body",
        parameters=[
            _FEED_PARAMETER,
            OpenApiParameter(
                "X-File-Name",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="the file's name, kept with the batch",
            ),
        ],
        request={
            "text/csv": OpenApiTypes.STR,
            "application/json": {"type": "array", "items": {"type": "object"}},
        },
        responses={
            201: OpenApiResponse(_BATCH_SCHEMA, description="applied; the row-by-row report"),
            200: OpenApiResponse(_BATCH_SCHEMA, description="the same file was already applied"),
            422: OpenApiResponse(_BATCH_SCHEMA, description="the file was refused (unreadable)"),
            401: refusal("no valid department token"),
            403: refusal("the department does not send this feed"),
            404: refusal("no such feed"),
            413: refusal("the body is too large"),
            415: refusal("not text/csv or application/json"),
        },
        examples=[
            OpenApiExample(
                "CSV",
                media_type="text/csv",
                value="identity_number,record_id,rule,level,quantity,date\n"
                f"{EXAMPLE_RESIDENTS[0][0]},BD-2024-001,charity.blood_donation,,,2024-05-01\n",
            )
        ],
        tags=["feeds"],
    )
    def post(self, request: Request, feed: str) -> Response:
        feed_format = self.feed_for(request, feed)
        content_type = request.content_type or ""
        if content_type.split(";", 1)[0].strip().lower() not in CONTENT_TYPES:
            raise exceptions.UnsupportedMediaType(content_type or "(none)")
        content = _read_body(request)
        now = timezone.now()
        client: DepartmentClient = request.user
        result = import_feed(
            feed_format.code,
            content,
            file_name=_file_name(request, feed_format, now),
            now=now,
            actor=client.actor(f"feed:{feed_format.code}"),
            department=client.department,
            content_type=content_type,
            request=request._request,
            audit_data={"token": client.token.pk},
        )
        batch = result.batch
        if batch.status == BatchStatus.REFUSED:
            code = status.HTTP_422_UNPROCESSABLE_ENTITY
        elif result.replayed:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED
        headers = {"Location": request.build_absolute_uri(f"{request.path}/{batch.pk}")}
        return Response(batch_report(batch), status=code, headers=headers)

    @extend_schema(
        operation_id="feeds_batches_list",
        summary="The department's recent batches of this feed",
        parameters=[_FEED_PARAMETER],
        responses={
            200: OpenApiResponse({"type": "array", "items": _BATCH_SCHEMA}),
            401: refusal("no valid department token"),
            403: refusal("the department does not send this feed"),
            404: refusal("no such feed"),
        },
        tags=["feeds"],
    )
    def get(self, request: Request, feed: str) -> Response:
        feed_format = self.feed_for(request, feed)
        client: DepartmentClient = request.user
        batches = FeedBatch.objects.filter(
            feed=feed_format.code, department=client.department
        ).select_related("department")[:LIST_LIMIT]
        return Response([batch_summary(b) for b in batches])


class FeedBatchDetail(_FeedView):
    @extend_schema(
        operation_id="feeds_batches_retrieve",
        summary="One batch of this feed with its row-by-row report",
        parameters=[_FEED_PARAMETER],
        responses={
            200: OpenApiResponse(_BATCH_SCHEMA),
            401: refusal("no valid department token"),
            403: refusal("the department does not send this feed"),
            404: refusal("no such feed, or not one of the department's batches"),
        },
        tags=["feeds"],
    )
    def get(self, request: Request, feed: str, pk: int) -> Response:
        feed_format = self.feed_for(request, feed)
        client: DepartmentClient = request.user
        batch = (
            FeedBatch.objects.filter(pk=pk, feed=feed_format.code, department=client.department)
            .select_related("department")
            .first()
        )
        if batch is None:
            raise Http404
        return Response(batch_report(batch))


def _max_bytes() -> int:
    return int(getattr(settings, "JIFEN_FEED_MAX_BYTES", DEFAULT_MAX_BYTES))


def _read_body(request: Request) -> bytes:
    limit = _max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise PayloadTooLarge()
    # Read the stream directly: request.body would apply DATA_UPLOAD_MAX_MEMORY_SIZE, which
    # is sized for forms, not for feed files.
    content = request._request.read(limit + 1)
    if len(content) > limit:
        raise PayloadTooLarge()
    return content


def _file_name(request: Request, feed: FeedFormat, now: Any) -> str:
    name = _UNSAFE_NAME.sub("_", request.headers.get("X-File-Name", "").strip())[:200]
    return name or f"{feed.code}-{now:%Y%m%dT%H%M%S}"
