"""The policy versions the platform scores with: the files of ``settings.JIFEN_POLICY_DIR``
and the versions published through the platform (``jifen.policies``), merged.

:func:`current_policies` is called per recompute batch, per request and in every worker
process, so it is cheap: the files are loaded and validated once per process; the published
versions are checked with one small query (the ids and content hashes of the published rows)
and the merged :class:`~jifen.engine.PolicySet` is built once per distinct state and kept per
process. A version published by another process is seen at the next call. Without a usable
database (the pure CLI, settings not configured, a module-level call in a test, migrations
not applied yet) it is the files alone.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from functools import cache

from jifen.engine import PolicySet, load_policies

logger = logging.getLogger(__name__)

_CACHE_SIZE = 4
_merged: OrderedDict[tuple, PolicySet] = OrderedDict()
_lock = threading.Lock()
_table_ready = False


@cache
def file_policies() -> PolicySet:
    """Every policy version of ``settings.JIFEN_POLICY_DIR``, loaded and validated once.

    Policy files change only with a deployment (a new version is a new file)."""
    from django.conf import settings

    directory = settings.JIFEN_POLICY_DIR if settings.configured else None
    return load_policies(directory)


def _published_state() -> tuple | None:
    """``((pk, content_hash), …)`` of the published platform versions; ``None`` when the
    database cannot be asked (then the files alone are in force)."""
    global _table_ready
    from django.conf import settings

    if not settings.configured:
        return None
    try:
        from django.apps import apps

        if not apps.is_installed("jifen.policies"):
            return None
        from django.db import connection

        from jifen.policies.models import PolicyState, PolicyVersion

        if not _table_ready:
            # Once per process: before the migration runs there is no table, and a failed
            # query would abort the caller's PostgreSQL transaction.
            if PolicyVersion._meta.db_table not in connection.introspection.table_names():
                return None
            _table_ready = True
        return tuple(
            PolicyVersion.objects.filter(state=PolicyState.PUBLISHED)
            .order_by("pk")
            .values_list("pk", "content_hash")
        )
    except RuntimeError:
        # pytest-django's "Database access not allowed" (a module-level call in a test).
        return None


def _build(state: tuple) -> PolicySet:
    from jifen.policies.content import file_name, merge, parse_text
    from jifen.policies.models import PolicyVersion

    rows = PolicyVersion.objects.filter(pk__in=[pk for pk, _ in state]).values_list(
        "policy_id", "text"
    )
    published = [parse_text(text, file_name(policy_id)) for policy_id, text in rows]
    return merge(file_policies().policies, published)


def current_policies() -> PolicySet:
    """The policy versions in force for scoring: the files plus the published versions.

    Each published version takes effect on its ``effective_from`` and ends the version of its
    scope before it on the day before (see :func:`jifen.policies.content.merge`); drafts and
    approved versions are never part of it.
    """
    state = _published_state()
    if not state:
        return file_policies()
    with _lock:
        found = _merged.get(state)
        if found is not None:
            _merged.move_to_end(state)
            return found
    policies = _build(state)
    with _lock:
        _merged[state] = policies
        while len(_merged) > _CACHE_SIZE:
            _merged.popitem(last=False)
    return policies


def cache_clear() -> None:
    """Forget the loaded files and merged sets (tests that swap ``JIFEN_POLICY_DIR``)."""
    global _table_ready
    file_policies.cache_clear()
    with _lock:
        _merged.clear()
    _table_ready = False


current_policies.cache_clear = cache_clear  # type: ignore[attr-defined]
