"""``jifen feeds``: import (with exit codes), list, tokens, routes, docs."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jifen.audit.models import AuditEntry
from jifen.facts.models import Fact
from jifen.feeds.models import BatchStatus, DepartmentToken, FeedBatch
from jifen.feeds.tokens import find_token
from jifen.org.models import RuleRoute

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("feeds", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def hrss_file(tmp_path, resident_factory):
    resident = resident_factory()
    path = tmp_path / "hrss-2025-06.csv"
    path.write_text(
        "identity_number,record_id,rule,level,quantity\n"
        f"{resident.identity_number},P-1,pension_insurance.months,,24\n"
        f"{resident.identity_number},T-1,talent.talent_code,Z,\n",
        encoding="utf-8",
    )
    return path


def test_import_prints_the_summary_and_the_rejected_rows(hrss_file):
    out, err = run("import", "hrss", str(hrss_file))
    assert "2 rows — 1 accepted, 0 unchanged, 0 superseded, 1 rejected" in out
    assert "row 2 [T-1] level: unknown level 'Z'" in out
    assert "rows" in err  # the progress bar
    batch = FeedBatch.objects.get()
    assert batch.file_name == "hrss-2025-06.csv" and batch.actor == "feed:hrss"
    assert AuditEntry.objects.get(action="feed.batch_imported").data["operator"].startswith("cli:")

    out, _ = run("import", "hrss", str(hrss_file), "--no-progress")
    assert "already imported as batch" in out and "nothing changed" in out
    assert FeedBatch.objects.count() == 1 and Fact.objects.count() == 1


def test_a_refused_file_exits_2(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"identity_number,record_id,rule\n\xff\xff\n")
    with pytest.raises(CommandError) as refused:
        run("import", "hrss", str(path), "--no-progress")
    assert refused.value.returncode == 2
    assert "refused" in str(refused.value) and "nothing was applied" in str(refused.value)
    assert FeedBatch.objects.get().status == BatchStatus.REFUSED


def test_unknown_feed_and_missing_file_exit_2(tmp_path):
    with pytest.raises(CommandError) as unknown:
        run("import", "weather", str(tmp_path / "x.csv"))
    assert unknown.value.returncode == 2 and "unknown feed" in str(unknown.value)
    with pytest.raises(CommandError) as missing:
        run("import", "hrss", str(tmp_path / "absent.csv"))
    assert missing.value.returncode == 2 and "cannot read" in str(missing.value)


def test_format_option_overrides_the_extension(tmp_path, resident_factory):
    resident = resident_factory()
    path = tmp_path / "extract.dat"
    path.write_text(
        f'[{{"identity_number": "{resident.identity_number}", "record_id": "A", '
        '"rule": "skills", "level": "title_junior"}]'
    )
    out, _ = run("import", "hrss", str(path), "--format", "json", "--no-progress")
    assert "(json, utf-8)" in out and "1 accepted" in out


def test_list_names_every_feed_with_formats_and_rules():
    out, _ = run("list")
    assert "public_security" in out and "waste_sorting_penalty" in out
    assert "csv, json" in out and "permit.status" in out


def test_token_create_prints_the_token_once_and_stores_its_hash():
    out, err = run("token", "create", "court", "--label", "court data exchange")
    raw = out.strip()
    token = DepartmentToken.objects.get()
    assert find_token(raw) == token and token.department.code == "court"
    assert token.token_hash != raw and raw not in token.token_hash
    assert "shown once" in err
    listed, _ = run("token", "list")
    assert raw not in listed and "court" in listed and "active" in listed

    out, _ = run("token", "revoke", str(token.pk))
    token.refresh_from_db()
    assert token.revoked_at is not None and "revoked" in out
    assert (
        AuditEntry.objects.filter(action__in=["feed.token_created", "feed.token_revoked"]).count()
        == 2
    )
    with pytest.raises(CommandError):
        run("token", "create", "nowhere", "--label", "x")


def test_routes_sync_restores_a_deleted_route():
    RuleRoute.objects.filter(rule="usury").delete()
    out, _ = run("routes", "--sync")
    assert "1 route(s) added" in out
    assert RuleRoute.objects.filter(rule="usury", department__code="court").exists()


def test_docs_check_passes_on_the_committed_pages(tmp_path):
    from jifen import PROJECT_ROOT

    out, _ = run("docs", "--check", str(PROJECT_ROOT / "docs" / "feeds"))
    assert "up to date" in out
    with pytest.raises(CommandError) as stale:
        run("docs", "--check", str(tmp_path))
    assert stale.value.returncode == 1
    run("docs", "--write", str(tmp_path))
    run("docs", "--check", str(tmp_path))
