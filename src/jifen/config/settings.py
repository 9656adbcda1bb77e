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
    "jifen.web",
    "jifen.org",
    "jifen.residents",
    "jifen.accounts",
    "jifen.facts",
    "jifen.jobs",
    "jifen.feeds",
    "jifen.scores",
    "jifen.claims",
    "jifen.scenarios",
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
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

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "jifen API",
    "DESCRIPTION": "Tongxiang New Citizen Points platform",
    "VERSION": "0.1.0",
}

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
