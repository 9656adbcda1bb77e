"""Evidence uploads: type from the content (magic bytes), size / empty / count limits, the store
outside any web root, atomic writes, cleanup on rollback, downloads as attachments, audit."""

from __future__ import annotations

import hashlib
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.db import transaction

from jifen.audit.models import AuditEntry
from jifen.evidence import storage
from jifen.evidence.checks import evidence_root_outside_web_roots
from jifen.evidence.errors import EvidenceRefused, EvidenceUnavailable
from jifen.evidence.models import Evidence
from jifen.evidence.services import check_count, open_evidence, sniff, store_upload
from tests.factories import NOW, make_user

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
MB = 1024 * 1024


@pytest.fixture
def root(settings, tmp_path):
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"
    return settings.JIFEN_EVIDENCE_ROOT


@pytest.fixture
def resident_user(db):
    return make_user("resident")


def upload(content: bytes, name: str = "file.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def store(user, content, name="file.png", content_type="image/png", **kwargs):
    return store_upload(
        upload(content, name, content_type), resident=user.resident, user=user, now=NOW, **kwargs
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (PDF, "application/pdf"),
        (EXE, None),
        (HTML, None),
        (b"%PDF", None),
        (b"\xff\xd8", None),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_sniff_recognises_only_the_allowed_signatures(head, expected):
    assert sniff(head[:16]) == expected


@pytest.mark.parametrize(("content", "kind"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_the_type_comes_from_the_content_not_the_name(root, resident_user, content, kind):
    evidence = store(resident_user, content, name="scan.pdf", content_type="application/pdf")
    assert evidence.content_type == kind
    assert evidence.original_name == "scan.pdf"
    assert evidence.size == len(content)
    assert evidence.sha256 == hashlib.sha256(content).hexdigest()
    path = storage.path_of(evidence.storage_name)
    assert path.read_bytes() == content
    assert "scan" not in evidence.storage_name and path.suffix == ""


def test_a_pdf_is_stored_as_a_pdf(root, resident_user):
    evidence = store(resident_user, PDF, name="证明.PDF", content_type="application/pdf")
    assert evidence.content_type == "application/pdf"
    assert evidence.original_name == "证明.PDF"


@pytest.mark.parametrize(
    ("content", "name", "declared"),
    [
        (EXE, "photo.png", "image/png"),
        (HTML, "photo.png", "image/png"),
        (HTML, "letter.pdf", "application/pdf"),
        (b"GIF89a" + b"\x00" * 20, "photo.jpg", "image/jpeg"),
    ],
)
def test_other_content_under_an_allowed_name_is_refused_as_type(
    root, resident_user, content, name, declared
):
    with pytest.raises(EvidenceRefused) as refused:
        store(resident_user, content, name=name, content_type=declared)
    assert (refused.value.field, refused.value.reason) == ("file", "type")
    assert refused.value.code == "evidence.type"
    assert "PDF" in refused.value.message
    assert files_in(root) == []
    assert not Evidence.objects.exists()
    assert not AuditEntry.objects.filter(action="evidence.uploaded").exists()


def test_the_size_limit_is_10_mb(root, resident_user):
    exactly = PNG + b"\x00" * (10 * MB - len(PNG))
    assert store(resident_user, exactly).size == 10 * MB
    with pytest.raises(EvidenceRefused) as refused:
        store(resident_user, exactly + b"\x00")
    assert refused.value.reason == "size"
    assert "10 MB" in refused.value.message
    assert len(files_in(root)) == 1


def test_the_size_is_counted_while_writing_not_taken_from_the_client(root, resident_user):
    import io

    content = PNG + b"\x00" * (2 * 1024)
    lying = InMemoryUploadedFile(io.BytesIO(content), "file", "a.png", "image/png", 10, None)
    # The client says 10 bytes; the store counts what it writes.
    with (
        mock.patch.object(storage, "max_bytes", return_value=1024),
        pytest.raises(EvidenceRefused) as refused,
    ):
        store_upload(lying, resident=resident_user.resident, user=resident_user, now=NOW)
    assert refused.value.reason == "size"
    assert files_in(root) == []


def test_the_limit_is_a_setting(root, resident_user, settings):
    settings.JIFEN_EVIDENCE_MAX_BYTES = 100
    with pytest.raises(EvidenceRefused) as refused:
        store(resident_user, PNG + b"\x00" * 100)
    assert refused.value.reason == "size"


def test_an_empty_file_is_refused(root, resident_user):
    with pytest.raises(EvidenceRefused) as refused:
        store(resident_user, b"")
    assert (refused.value.field, refused.value.reason) == ("file", "empty")
    assert files_in(root) == []


def test_the_count_limit_is_per_claim(root, resident_user):
    store(resident_user, PNG, already_attached=19)
    with pytest.raises(EvidenceRefused) as refused:
        store(resident_user, PNG, already_attached=20)
    assert refused.value.reason == "count"
    check_count(20)
    with pytest.raises(EvidenceRefused) as refused:
        check_count(21, field="evidence_ids")
    assert (refused.value.field, refused.value.reason) == ("evidence_ids", "count")


def test_the_store_is_outside_the_static_root_and_has_no_temp_files(root, resident_user):
    evidence = store(resident_user, PNG)
    path = storage.path_of(evidence.storage_name).resolve()
    assert path.is_relative_to(Path(root).resolve())
    assert not path.is_relative_to(Path(django_settings.STATIC_ROOT).resolve())
    media = getattr(django_settings, "MEDIA_ROOT", "")
    assert not media or not path.is_relative_to(Path(media).resolve())
    assert [p.name for p in files_in(root)] == [evidence.storage_name]
    assert evidence_root_outside_web_roots() == []


def test_the_default_store_is_under_var_and_outside_the_static_root(settings):
    del settings.JIFEN_EVIDENCE_ROOT
    default = storage.evidence_root()
    assert default == Path(settings.VAR_DIR) / "evidence"
    assert evidence_root_outside_web_roots() == []


def test_a_store_inside_the_static_root_fails_the_system_check(settings):
    settings.JIFEN_EVIDENCE_ROOT = Path(settings.STATIC_ROOT) / "evidence"
    errors = evidence_root_outside_web_roots()
    assert [e.id for e in errors] == ["jifen.evidence.E001"]


def test_a_rolled_back_transaction_leaves_no_file(root, resident_user):
    with pytest.raises(RuntimeError), transaction.atomic():
        evidence = store(resident_user, PNG)
        path = storage.path_of(evidence.storage_name)
        assert path.exists()
        raise RuntimeError("the claim could not be saved")
    assert not path.exists()
    assert files_in(root) == []
    assert not Evidence.objects.exists()


def test_a_committed_upload_keeps_its_file(root, resident_user):
    with transaction.atomic():
        evidence = store(resident_user, PNG)
    assert storage.path_of(evidence.storage_name).exists()


def test_a_failed_audit_write_stores_nothing(root, resident_user):
    with (
        mock.patch("jifen.evidence.services.record", side_effect=RuntimeError("audit down")),
        pytest.raises(RuntimeError),
    ):
        store(resident_user, PNG)
    assert files_in(root) == []
    assert not Evidence.objects.exists()


def test_an_upload_is_audited_without_personal_data(root, resident_user):
    evidence = store(resident_user, PNG, name="王小丽-身份证.png")
    entry = AuditEntry.objects.get(action="evidence.uploaded")
    assert (entry.object_type, entry.object_id) == ("evidence.evidence", str(evidence.pk))
    assert entry.actor_id == str(resident_user.pk)
    assert entry.data == {
        "resident": str(resident_user.resident_id),
        "content_type": "image/png",
        "size": len(PNG),
        "sha256": evidence.sha256,
    }
    assert "王小丽" not in str(entry.data)


def test_the_display_name_drops_paths_and_control_characters(root, resident_user):
    evidence = store(resident_user, PNG, name="..\\..\\etc/pass\x00wd.png")
    assert evidence.original_name == "passwd.png"


def test_a_download_is_an_attachment_with_a_generated_name(root, resident_user, rf):
    evidence = store(resident_user, PNG, name="<script>.png")
    request = rf.get("/api/evidence/x")
    request.user = resident_user
    response = open_evidence(evidence, user=resident_user, request=request, now=NOW)
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="evidence-{evidence.pk}.png"'
    assert "sandbox" in response["Content-Security-Policy"]
    entry = AuditEntry.objects.get(action="evidence.downloaded")
    assert entry.object_id == str(evidence.pk) and entry.actor_id == str(resident_user.pk)
    assert entry.data == {"resident": str(resident_user.resident_id), "channel": "api"}


def test_a_removed_file_is_unavailable(root, resident_user):
    evidence = store(resident_user, PNG)
    storage.remove(evidence.storage_name)
    with pytest.raises(EvidenceUnavailable):
        open_evidence(evidence, user=resident_user, request=None, now=NOW)
    evidence.deleted_at = NOW
    with pytest.raises(EvidenceUnavailable):
        open_evidence(evidence, user=resident_user, request=None, now=NOW)
    assert not AuditEntry.objects.filter(action="evidence.downloaded").exists()


@pytest.mark.parametrize("bad", ["", "ab", "../etc/passwd", "a/b" * 10])
def test_storage_names_are_checked(bad):
    with pytest.raises(ValueError):
        storage.path_of(bad)
