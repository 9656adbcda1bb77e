"""Production settings (JIFEN_DEBUG off) pass ``manage.py check --deploy --fail-level WARNING``
and answer with the security headers; the embedded default keeps working over plain HTTP.

Each production case runs in a subprocess: settings are read once per process, and the
production ones refuse to start without real keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import textwrap

import pytest

from jifen import PROJECT_ROOT


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JIFEN_")
        # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never.
        and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        JIFEN_DEBUG="false",
        JIFEN_SECRET_KEY=secrets.token_urlsafe(50),
        JIFEN_FIELD_KEYS="1:" + base64.b64encode(os.urandom(32)).decode(),
        JIFEN_INDEX_KEY=base64.b64encode(os.urandom(32)).decode(),
        JIFEN_ALLOWED_HOSTS="jifen.tx.gov.cn",
        JIFEN_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="jifen.config.settings",
    )
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "jifen.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


SETTINGS = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": s.SESSION_COOKIE_HTTPONLY,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "X_FRAME_OPTIONS": s.X_FRAME_OPTIONS,
    "SECURE_REFERRER_POLICY": s.SECURE_REFERRER_POLICY,
    "SECURE_PROXY_SSL_HEADER": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "CSRF_TRUSTED_ORIGINS": s.CSRF_TRUSTED_ORIGINS,
}))
"""


def settings_of(env: dict[str, str]) -> dict:
    done = run_python(SETTINGS, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_values(tmp_path):
    values = settings_of(production_env(tmp_path))
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # a client may not claim HTTPS
    assert values["CSRF_TRUSTED_ORIGINS"] == []


@pytest.mark.parametrize(("flag", "trusted"), [("true", True), ("false", False)])
def test_the_proxy_header_is_trusted_only_when_configured(tmp_path, flag, trusted):
    env = production_env(
        tmp_path,
        JIFEN_BEHIND_TLS_PROXY=flag,
        JIFEN_CSRF_TRUSTED_ORIGINS="https://jifen.tx.gov.cn, https://www.jifen.tx.gov.cn",
    )
    values = settings_of(env)
    assert (values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]) is trusted
    assert values["CSRF_TRUSTED_ORIGINS"] == [
        "https://jifen.tx.gov.cn",
        "https://www.jifen.tx.gov.cn",
    ]


@pytest.mark.parametrize("missing", ["JIFEN_SECRET_KEY", "JIFEN_FIELD_KEYS", "JIFEN_INDEX_KEY"])
def test_production_refuses_to_start_without_its_keys(tmp_path, missing):
    env = production_env(tmp_path)
    del env[missing]
    done = run_python("import django; django.setup()", env)
    assert done.returncode != 0 and missing in done.stderr


HEADERS = """
import django, json
django.setup()
from django.test import Client
client = Client(HTTP_HOST="jifen.tx.gov.cn")
plain = client.get("/healthz")
behind_proxy = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
secure = client.get("/healthz", secure=True)
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "behind_proxy": behind_proxy.status_code,
    "secure": [secure.status_code, dict(secure.headers)],
}))
"""


def test_production_answers_redirect_to_https_and_security_headers(tmp_path):
    env = production_env(tmp_path, JIFEN_BEHIND_TLS_PROXY="true")
    done = run_python(HEADERS, env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://jifen.tx.gov.cn/healthz"]
    assert seen["behind_proxy"] == 200  # the load balancer's X-Forwarded-Proto: no loop
    status, headers = seen["secure"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_embedded_default_works_over_plain_http(client, settings):
    """The embedded default (JIFEN_DEBUG unset): no HTTPS redirect, cookies without Secure, the
    same headers. (pytest-django turns DEBUG off for the run; the values below come from the
    settings module's DEBUG default.)"""
    assert not settings.SECURE_SSL_REDIRECT and settings.SECURE_HSTS_SECONDS == 0
    assert not settings.SESSION_COOKIE_SECURE and not settings.CSRF_COOKIE_SECURE
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert not response.cookies["csrftoken"]["secure"]
