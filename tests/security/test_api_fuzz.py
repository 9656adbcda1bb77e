"""API fuzzing with schemathesis against the served OpenAPI document (``/api/schema/``), signed
in as each role (issue 8, "Robustness"): no 5xx, and every answer the schema documents has the
documented content type and body.

Deviations found by this test and not yet fixed are listed in ``KNOWN_DEVIATIONS``, each with
the fix it waits for; they are tolerated one by one, anything else fails.
``JIFEN_FUZZ_STRICT=1`` tolerates none.

Bounded for CI: a few examples per operation and role (``JIFEN_FUZZ_EXAMPLES``, default 3,
beside the boundary cases of schemathesis' coverage phase), derandomized so a run is
repeatable, no deadline. The requests go through the WSGI application
in the test's transaction (the world of tests/security/authz_world.py, A's objects, rolled back
at the end); state-changing requests carry the session, a CSRF token and whatever
``Idempotency-Key`` the schema makes schemathesis send.
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
)

EXAMPLES = int(os.environ.get("JIFEN_FUZZ_EXAMPLES", "3"))
STRICT = os.environ.get("JIFEN_FUZZ_STRICT") == "1"
#: The auditor and the administrators are refused by every endpoint, like the anonymous visitor
#: here; ``JIFEN_FUZZ_ROLES=owner,auditor,…`` picks others.
FUZZ_ROLES = tuple(
    os.environ.get(
        "JIFEN_FUZZ_ROLES",
        "owner,resident_b,clerk_other_town,reviewer_other_department,center,anonymous",
    ).split(",")
)
CSRF_SECRET = "f" * 32  # a CSRF secret of the right shape; the cookie and header agree

application = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.security.authz_world import module_world

    # Like Django's test client: a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with module_world(django_db_blocker, tmp_path_factory) as (world, clients):
            yield world, clients
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(params=FUZZ_ROLES)
def role_cookies(request, fuzz_world, db):
    _, clients = fuzz_world
    _client, cookies = clients[request.param]
    jar = {key: morsel.value for key, morsel in cookies.items()}
    jar["csrftoken"] = CSRF_SECRET
    return jar


def _body(response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


#: (name, test) of the deviations tolerated until their fix lands.
KNOWN_DEVIATIONS: tuple = ()


def tolerated(check):
    """``check``, except for the responses of a known deviation (unless strict)."""

    def run(ctx, response, case):
        try:
            return check(ctx, response, case)
        except Exception:
            if not STRICT and any(test(response, case) for _, test in KNOWN_DEVIATIONS):
                return None
            raise

    run.__name__ = check.__name__
    return run


CHECKS = [
    not_a_server_error,  # never tolerated
    tolerated(content_type_conformance),
    tolerated(response_schema_conformance),
]


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_by_its_schema(case, role_cookies):
    response = case.call(cookies=role_cookies, headers={"X-CSRFToken": CSRF_SECRET})
    case.validate_response(response, checks=CHECKS)
