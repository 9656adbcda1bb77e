"""The first pages, driven over HTTP on the configured database (SQLite or PostgreSQL)."""

import os
import subprocess
import sys

import pytest
from django.db import connection
from django.utils import translation


@pytest.mark.django_db
def test_home_page_is_in_chinese_and_labels_reference_values(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "桐乡市新市民积分" in page
    assert "zhejiang-2023-07-26" in page
    assert "tongxiang-2025-02-01" in page
    assert "参考值" in page  # the city table's values are reference values, said on the page


@pytest.mark.django_db
def test_health_check_reaches_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_every_interface_message_has_a_chinese_translation():
    with translation.override("zh-hans"):
        assert translation.gettext("Tongxiang New Citizen Points") == "桐乡市新市民积分"
        assert translation.gettext("Legal source") == "依据"


def test_the_run_command_migrates_an_embedded_database(tmp_path):
    """What `make run` does first: migrate a fresh SQLite file, then Django's checks pass."""
    env = {**os.environ, "JIFEN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    jifen = [sys.executable, "-m", "jifen.cli"]
    migrate = subprocess.run(
        [*jifen, "migrate", "--no-input"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "jifen.sqlite3").exists()
    check = subprocess.run([*jifen, "check"], env=env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "no issues" in check.stdout
