"""One settings module, configured by environment variables.

SQLite under ``var/`` is the embedded default; ``DATABASE_URL`` switches to PostgreSQL.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from jifen import PROJECT_ROOT

BASE_DIR = PROJECT_ROOT
VAR_DIR = Path(os.environ.get("JIFEN_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("JIFEN_DEBUG", True)
# The development key only exists so that the embedded default runs out of the box;
# production settings refuse to start without JIFEN_SECRET_KEY.
SECRET_KEY = os.environ.get("JIFEN_SECRET_KEY") or (
    "dev-only-insecure-key-do-not-use-in-production" if DEBUG else ""
)
if not SECRET_KEY:
    raise RuntimeError("JIFEN_SECRET_KEY must be set when JIFEN_DEBUG is off")
ALLOWED_HOSTS = [
    h for h in os.environ.get("JIFEN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files (no CDN)
    "jifen.web",
    "jifen.org",
    "jifen.residents",
    "jifen.accounts",
    "jifen.facts",
    "jifen.jobs",
    "jifen.demo",
    "jifen.feeds",
    "jifen.scores",
    "jifen.calendars",
    "jifen.notifications",
    "jifen.evidence",
    "jifen.idempotency",
    "jifen.claims",
    "jifen.scenarios",
    "jifen.rankings",
    "jifen.reexaminations",
    "jifen.sanctions",
    "jifen.operations",
    "jifen.oversight",
    "jifen.policies",
    "jifen.simulations",
    "jifen.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication (needs the user) and messages (says why the session ended).
    "jifen.accounts.sessions.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "jifen.config.urls"
WSGI_APPLICATION = "jifen.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jifen.notifications.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'jifen.sqlite3'}",
        conn_max_age=int(os.environ.get("JIFEN_CONN_MAX_AGE", "0")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# The only backend: Django's password check behind the lock-out rules (jifen.accounts.lockout),
# so that every login path (login page, admin) is protected and audited.
AUTHENTICATION_BACKENDS = ["jifen.accounts.backends.LockoutBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:landing"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login protection and session lifetime (security.md "Identity and sessions").
JIFEN_LOGIN_MAX_CONSECUTIVE_FAILURES = int(
    os.environ.get("JIFEN_LOGIN_MAX_CONSECUTIVE_FAILURES", "5")
)
JIFEN_LOGIN_LOCK_MINUTES = int(os.environ.get("JIFEN_LOGIN_LOCK_MINUTES", "30"))
JIFEN_LOGIN_MAX_FAILURES_PER_HOUR = int(os.environ.get("JIFEN_LOGIN_MAX_FAILURES_PER_HOUR", "100"))
JIFEN_SESSION_IDLE_SECONDS = int(os.environ.get("JIFEN_SESSION_IDLE_SECONDS", str(30 * 60)))
JIFEN_SESSION_ABSOLUTE_SECONDS = int(
    os.environ.get("JIFEN_SESSION_ABSOLUTE_SECONDS", str(12 * 60 * 60))
)
# The store forgets a session at the absolute lifetime at the latest; the middleware enforces
# both limits from stamps kept in the session.
SESSION_COOKIE_AGE = JIFEN_SESSION_ABSOLUTE_SECONDS

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "jifen.accounts.password_validation.CharacterClassesValidator",
        "OPTIONS": {"min_classes": 3},
    },
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "src" / "jifen" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Production (JIFEN_DEBUG off) is served over HTTPS only: secure cookies, HTTPS redirect, HSTS.
# JIFEN_SECURE_SSL_REDIRECT=false when a reverse proxy already redirects.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = _env_bool("JIFEN_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("JIFEN_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = _env_bool("JIFEN_HSTS_PRELOAD", not DEBUG)
# Behind a TLS-terminating load balancer (JIFEN_BEHIND_TLS_PROXY=true): trust its
# X-Forwarded-Proto, which it must set on every request and strip from clients, so that
# HTTPS is recognised (no redirect loop, secure cookies sent). Off by default: a client
# could otherwise claim HTTPS over plain HTTP.
if _env_bool("JIFEN_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The public origins of the site (e.g. https://jifen.tx.gov.cn), for CSRF checks of HTTPS
# form posts when the load balancer rewrites the Host header.
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("JIFEN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # People use their session (CSRF-checked); department systems use the feeds' own tokens.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # No OPTIONS metadata: nothing uses it, it describes the serializers to anyone signed in,
    # and it answered 500 on views without a serializer (found by tests/security/
    # test_api_fuzz.py). OPTIONS is answered 405.
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "jifen.api.errors.exception_handler",  # refusals as {field, code, detail}
}
SPECTACULAR_SETTINGS = {
    "TITLE": "jifen API",
    "DESCRIPTION": "Tongxiang New Citizen Points platform: resident self-service, staff "
    "look-ups (scoped to the user), department feed imports (department tokens), and the "
    "calculator.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # /api/docs/: Swagger UI from the platform's own static files, never a foreign CDN
    # (PIPL Art. 36, docs/operations.md).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PermitStatusEnum": "jifen.residents.models.PermitStatus",
        "ScoreStatusEnum": "jifen.scores.models.ScoreStatus",
        "ClaimKindEnum": "jifen.claims.models.ClaimKind",
        "ClaimStatusEnum": "jifen.claims.models.ClaimStatus",
    },
}

#: Evidence files of claims: outside any static or web root, served only as attachments to
#: the people allowed to see the claim (security.md "Uploads").
JIFEN_EVIDENCE_ROOT = Path(os.environ.get("JIFEN_EVIDENCE_ROOT", VAR_DIR / "evidence"))
JIFEN_EVIDENCE_MAX_BYTES = int(os.environ.get("JIFEN_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
JIFEN_EVIDENCE_MAX_PER_CLAIM = int(os.environ.get("JIFEN_EVIDENCE_MAX_PER_CLAIM", "20"))
#: Days an evidence file is kept after everything it supports was decided or withdrawn
#: (``jifen.operations.retention``; covers the re-examination and review windows).
JIFEN_EVIDENCE_RETENTION_DAYS = int(os.environ.get("JIFEN_EVIDENCE_RETENTION_DAYS", "365"))

#: How SMS/e-mail notifications leave: "outbox" (the embedded default: the outbox table and
#: the log) or the dotted path of a gateway class with ``send(message, address) -> receipt``.
JIFEN_NOTIFY_CHANNEL = os.environ.get("JIFEN_NOTIFY_CHANNEL", "outbox")

#: Where policy versions (YAML) and calendar notices live; see docs/architecture.md.
JIFEN_POLICY_DIR = Path(os.environ.get("JIFEN_POLICY_DIR", BASE_DIR / "policies"))

# --- Field encryption (security.md "Data"): versioned AEAD keys and a separate index key. ---
# Development keys exist only so the embedded default runs; production refuses to start
# without real ones (generate with `python -m jifen.crypto genkey`).
_DEV_FIELD_KEYS = "1:ZGV2LW9ubHktZmllbGQta2V5LTAwMDAwMDAwMDAwMDA="
_DEV_INDEX_KEY = "ZGV2LW9ubHktaW5kZXgta2V5LTExMTExMTExMTExMTExMTE="
JIFEN_FIELD_KEYS = os.environ.get("JIFEN_FIELD_KEYS") or (_DEV_FIELD_KEYS if DEBUG else "")
JIFEN_FIELD_KEY_CURRENT = int(os.environ.get("JIFEN_FIELD_KEY_CURRENT", "1"))
JIFEN_INDEX_KEY = os.environ.get("JIFEN_INDEX_KEY") or (_DEV_INDEX_KEY if DEBUG else "")
if not (JIFEN_FIELD_KEYS and JIFEN_INDEX_KEY):
    raise RuntimeError("JIFEN_FIELD_KEYS and JIFEN_INDEX_KEY must be set when JIFEN_DEBUG is off")

#: The demo data set (with its published passwords) may only be loaded in development.
JIFEN_DEMO_ALLOWED = DEBUG

#: The largest feed file a department may send through the API.
JIFEN_FEED_MAX_BYTES = int(os.environ.get("JIFEN_FEED_MAX_BYTES", str(64 * 1024 * 1024)))
