"""Storing and serving evidence files.

``store_upload`` decides the type from the file's first bytes (PDF, JPEG, PNG); the name and
the content type the client sent are ignored for that decision (the name is kept for display).
``open_evidence`` serves a file as an attachment under a generated name. Who may upload for a
resident and who may download a file is the caller's check (``jifen.accounts.access``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _

from jifen.audit.actors import Actor
from jifen.audit.services import record
from jifen.evidence import storage
from jifen.evidence.errors import EvidenceRefused, EvidenceUnavailable
from jifen.evidence.models import Evidence, EvidenceType
from jifen.residents.models import Resident

__all__ = [
    "EvidenceRefused",
    "EvidenceUnavailable",
    "check_count",
    "open_evidence",
    "sniff",
    "store_upload",
]

#: Magic bytes of the allowed types (checked on the file's first bytes, nothing else).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", EvidenceType.PDF),
    (b"\xff\xd8\xff", EvidenceType.JPEG),
    (b"\x89PNG\r\n\x1a\n", EvidenceType.PNG),
)
NAME_MAX = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def sniff(head: bytes) -> str | None:
    """The content type of a file starting with ``head``, or None when it is not allowed."""
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return str(content_type)
    return None


def display_name(name: str | None) -> str:
    """The uploader's file name, reduced to a harmless label (no path, no control characters)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip()
    return name[:NAME_MAX]


def check_count(count: int, *, field: str = "evidence") -> None:
    """Refuse more than the per-claim limit of files (``reason="count"``)."""
    limit = storage.max_per_claim()
    if count > limit:
        raise EvidenceRefused(
            field,
            "count",
            _("At most %(limit)d files may be attached to one claim.") % {"limit": limit},
        )


def store_upload(
    upload: UploadedFile,
    *,
    resident: Resident,
    user: Any,
    now: dt.datetime,
    already_attached: int = 0,
    field: str = "file",
    request: HttpRequest | None = None,
) -> Evidence:
    """Check and store one uploaded file for ``resident``; audit ``evidence.uploaded``.

    ``already_attached`` is the number of files the claim already carries (the count limit
    applies to the claim). Raises :class:`EvidenceRefused` (reason ``empty``, ``size``,
    ``type`` or ``count``) and stores nothing then. The file is written before the row; if
    the surrounding transaction rolls back, the file is removed again.
    """
    check_count(already_attached + 1, field=field)
    limit = storage.max_bytes()
    declared = getattr(upload, "size", None)
    if declared == 0:
        raise EvidenceRefused(field, "empty", _("The file is empty."))
    if declared is not None and declared > limit:
        raise _too_large(field, limit)
    upload.seek(0)
    name = storage.new_storage_name()
    try:
        written = storage.write(upload.chunks(), name, limit=limit)
    except storage.TooLarge:
        raise _too_large(field, limit) from None
    try:
        if written.size == 0:
            raise EvidenceRefused(field, "empty", _("The file is empty."))
        content_type = sniff(written.head)
        if content_type is None:
            raise EvidenceRefused(
                field,
                "type",
                _("Only PDF, JPEG and PNG files are accepted (checked from the file's content)."),
            )
        with transaction.atomic():
            storage.remove_on_rollback(written.path)
            evidence = Evidence.objects.create(
                resident=resident,
                uploaded_by=user,
                original_name=display_name(getattr(upload, "name", "")),
                content_type=content_type,
                size=written.size,
                sha256=written.sha256,
                storage_name=name,
                uploaded_at=now,
            )
            record(
                "evidence.uploaded",
                actor=Actor.for_user(user),
                occurred_at=now,
                obj=evidence,
                data={
                    "resident": str(resident.pk),
                    "content_type": content_type,
                    "size": written.size,
                    "sha256": written.sha256,
                },
                request=request,
            )
    except BaseException:
        storage.remove(name)
        raise
    return evidence


def _too_large(field: str, limit: int) -> EvidenceRefused:
    return EvidenceRefused(
        field,
        "size",
        _("The file is larger than %(mb)s MB.") % {"mb": f"{limit / (1024 * 1024):g}"},
    )


def download_name(evidence: Evidence) -> str:
    """The generated name a download carries (nothing of the uploader's name)."""
    return f"evidence-{evidence.pk}.{evidence.extension}"


def open_evidence(
    evidence: Evidence, *, user: Any, request: HttpRequest | None, now: dt.datetime
) -> FileResponse:
    """The file as an attachment (generated name, ``nosniff``); audits ``evidence.downloaded``.

    The caller has checked that ``user`` may see it (``access.evidence_for``). Raises
    :class:`EvidenceUnavailable` when retention removed the file or it is missing.
    """
    if evidence.deleted_at is not None:
        raise EvidenceUnavailable()
    try:
        handle = storage.path_of(evidence.storage_name).open("rb")
    except FileNotFoundError:
        raise EvidenceUnavailable() from None
    try:
        record(
            "evidence.downloaded",
            actor=Actor.for_user(user),
            occurred_at=now,
            obj=evidence,
            data={"resident": str(evidence.resident_id), "channel": _channel(request)},
            request=request,
        )
    except BaseException:
        handle.close()
        raise
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(evidence),
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _channel(request: HttpRequest | None) -> str:
    if request is None:
        return "service"
    return "api" if request.path.startswith("/api/") else "web"
