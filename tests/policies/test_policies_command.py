"""``jifen policies export|import|list``: the identical round trip through files."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from jifen.engine import load_policy_file
from jifen.policies.models import PolicyState, PolicyVersion
from jifen.scores.policies import current_policies
from tests.policies.conftest import CITY

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("policies", *args, stdout=out)
    return out.getvalue()


def test_export_then_import_is_identical(center, tmp_path):
    path = tmp_path / "tongxiang-2026-01-01.yaml"
    text = run("export", CITY, "-").replace(f"id: {CITY}", "id: tongxiang-2026-01-01", 1)
    text = text.replace("effective_from: 2025-02-01", "effective_from: 2026-01-01", 1)
    path.write_text(text, encoding="utf-8")
    file_policy = load_policy_file(path)

    out = run("import", str(path), "--user", center.username)
    assert "draft tongxiang-2026-01-01 created" in out
    version = PolicyVersion.objects.get(policy_id="tongxiang-2026-01-01")
    assert version.state == PolicyState.DRAFT and version.content_hash == file_policy.hash
    assert version.base_policy == CITY

    again = tmp_path / "again.yaml"
    run("export", "tongxiang-2026-01-01", str(again))
    assert again.read_text(encoding="utf-8") == text
    assert load_policy_file(again).hash == file_policy.hash
    assert "tongxiang-2026-01-01  city/tongxiang  draft" in run("list")
    assert "tongxiang-2026-01-01" not in current_policies().by_id


def test_import_errors_name_the_file_and_field(center, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(run("export", CITY, "-").replace("cap: 200", "cap: 0", 1), encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.yaml \(cap\): must be greater than zero"):
        run("import", str(path), "--user", center.username)
    with pytest.raises(CommandError, match="unknown policy version"):
        run("export", "nope", "-")
