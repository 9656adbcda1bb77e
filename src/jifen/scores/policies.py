"""The policy versions the platform scores with: loaded once per process from settings."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from jifen.engine import PolicySet, load_policies


@cache
def current_policies() -> PolicySet:
    """Every policy version of ``settings.JIFEN_POLICY_DIR``, loaded and validated once.

    Policy files change only with a deployment (a new version is a new file), so one load per
    process is enough; tests that swap the directory call ``current_policies.cache_clear()``.
    """
    return load_policies(settings.JIFEN_POLICY_DIR)
