"""The authorization matrix: every URL pattern × every role × resident A's objects.

Generated from the URL configuration (``get_resolver``) and the API schema (drf-spectacular):
each URL pattern must have a row in ``authz_matrix.yaml`` (a new endpoint without one fails),
the row fills the pattern's arguments with A's objects (``tests/security/authz_world.py``),
and names the roles allowed per method. Every other cell must be refused: 401, 403, 404 or
405, or a redirect to a login page. Nothing may answer 5xx.

* Web pages are requested with GET and with a POST of an empty form (enough to tell a refusal
  from an acceptance; every cell runs in a savepoint that is rolled back, so an accepted POST
  changes nothing for the next cell).
* API endpoints are requested with every method the schema lists for their path, a POST/PUT/
  PATCH with an empty JSON body and an ``Idempotency-Key``.
* A row may give a valid ``body`` instead (values ``"@name"`` are A's objects): where an
  endpoint checks the body before the object, an empty body would be answered 400 before the
  refusal could show.
* An allowed cell of anyone but A and the center must not carry A's name, identity number,
  phone or permit number.

Roles and aliases in the YAML: ``owner`` (A), ``resident_b``, ``clerk_other_town``,
``reviewer_other_department``, ``center``, ``auditor``, ``system_admin``, ``security_admin``,
``anonymous``; ``everyone`` (all of them), ``signed_in`` (all but anonymous).

``JIFEN_AUTHZ_RECORD=<file>`` writes the observed outcomes (JSON) instead of asserting: the
way to draft the rows of a new endpoint, which a person then reviews against access.py.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.db import transaction
from django.urls import get_resolver, resolve
from django.urls.resolvers import URLResolver

from tests.security.authz_world import ROLES

MATRIX_FILE = Path(__file__).with_name("authz_matrix.yaml")
ALIASES = {"everyone": ROLES, "signed_in": tuple(r for r in ROLES if r != "anonymous")}
#: Roles that may see A's personal data (A themself, the center): the leak check skips them.
MAY_SEE_A = {"owner", "center"}
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
DENIED = {401, 403, 404, 405}
WEB_METHODS = ("GET", "POST")
RECORD = os.environ.get("JIFEN_AUTHZ_RECORD")
_CONVERTER = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
_PARAMETER = re.compile(r"\{[^}]+\}")


def url_patterns(resolver=None, prefix: str = ""):
    """(route, pattern) of every URL pattern, routes joined as ``ResolverMatch.route`` does."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        part = str(pattern.pattern)
        route = prefix + (part[1:] if prefix and part.startswith("^") else part)
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern, route)
        else:
            yield route, pattern


def load_matrix() -> dict:
    return yaml.safe_load(MATRIX_FILE.read_text(encoding="utf-8"))["patterns"]


def api_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def schema_methods() -> dict[str, list[str]]:
    """``{"/api/claims/{}/": ["GET", ...]}`` from the OpenAPI document (parameter names left
    out: the schema calls a ``pk`` ``id``)."""
    verbs = {"get", "post", "put", "patch", "delete"}
    return {
        _PARAMETER.sub("{}", path): sorted(m.upper() for m in item if m in verbs)
        for path, item in api_schema()["paths"].items()
    }


def schema_path(route: str) -> str:
    return "/" + _CONVERTER.sub("{}", route)


def expand(roles) -> set[str]:
    out: set[str] = set()
    for role in roles or ():
        if role in ALIASES:
            out.update(ALIASES[role])
        elif role in ROLES:
            out.add(role)
        else:
            raise AssertionError(f"unknown role {role!r} in {MATRIX_FILE.name}")
    return out


ROUTES = dict(url_patterns())
MATRIX = load_matrix()
SCHEMA_METHODS = schema_methods()


# --- the world, once per module -------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.security.authz_world import module_world

    with module_world(django_db_blocker, tmp_path_factory) as (world, clients):
        yield world, clients


def outcome(response) -> str:
    status = response.status_code
    if status >= 500:
        return "error"
    if status in DENIED:
        return "deny"
    if 300 <= status < 400 and urlsplit(response.get("Location", "")).path in LOGIN_PATHS:
        return "deny"
    return "allow"


def request(client, method: str, url: str, *, api: bool, body: dict | None = None):
    if method == "GET":
        return client.get(url)
    if api:
        return client.generic(
            method,
            url,
            json.dumps(body or {}),
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
    return client.post(url, body or {})


def cell(clients, role: str, method: str, url: str, *, api: bool, body: dict | None = None):
    client, cookies = clients[role]
    try:
        with transaction.atomic():
            response = request(client, method, url, api=api, body=body)
            transaction.set_rollback(True)
    finally:
        client.cookies.clear()  # logout and login pages must not change who the client is
        for key, morsel in cookies.items():
            client.cookies[key] = morsel.value
    return response


def row_url(world, route: str, row: dict) -> str:
    if "url" in row:
        return row["url"]
    kwargs = row.get("kwargs") or {}

    def fill(match):
        name = match.group("name")
        assert name in kwargs, f"{route}: no value for <{name}> in the row's kwargs"
        return str(world.value(kwargs[name]))

    return "/" + _CONVERTER.sub(fill, route)


def methods_of(route: str) -> tuple[str, ...]:
    if route.startswith("api/"):
        return tuple(SCHEMA_METHODS.get(schema_path(route), ["GET"]))
    return WEB_METHODS


# --- the tests ------------------------------------------------------------------------------


def test_every_url_pattern_has_a_row():
    missing = sorted(set(ROUTES) - set(MATRIX))
    assert not missing, f"URL patterns without a row in {MATRIX_FILE.name}: {missing}"
    stale = sorted(set(MATRIX) - set(ROUTES))
    assert not stale, f"rows of {MATRIX_FILE.name} without a URL pattern: {stale}"


def test_every_schema_operation_is_a_url_pattern_with_a_row():
    routes = {schema_path(r) for r in ROUTES if r in MATRIX}
    missing = sorted(set(SCHEMA_METHODS) - routes)
    assert not missing, f"API schema paths without a matrix row: {missing}"


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_matrix(matrix_world, route, request_record):
    world, clients = matrix_world
    row = MATRIX.get(route)
    if row is None:
        pytest.fail(f"{route}: no row in {MATRIX_FILE.name}")
    url = row_url(world, route, row)
    match = resolve(urlsplit(url).path)
    assert match.route == route, f"{url} resolves to {match.route!r}, not to the row's pattern"
    api = route.startswith("api/")
    body = world.value(row.get("body"))
    failures = []
    for method in methods_of(route):
        allowed = expand(row.get(method))
        for role in ROLES:
            response = cell(clients, role, method, url, api=api, body=body)
            got = outcome(response)
            want = "allow" if role in allowed else "deny"
            request_record(route, method, role, got, response.status_code)
            if got == "error":
                failures.append(f"{method} {url} as {role}: {response.status_code}")
            elif got != want:
                failures.append(
                    f"{method} {url} as {role}: {got} ({response.status_code}), matrix: {want}"
                )
            elif got == "allow" and role not in MAY_SEE_A:
                text = response.content.decode("utf-8", "replace")
                leaked = [k for k, v in world.secrets.items() if v and v in text]
                if leaked:
                    failures.append(f"{method} {url} as {role}: shows A's {', '.join(leaked)}")
    if RECORD:
        return
    assert not failures, "\n".join(failures)


_RECORDED: dict = {}


@pytest.fixture(scope="session")
def request_record():
    def record(route, method, role, got, status):
        _RECORDED.setdefault(route, {}).setdefault(method, {})[role] = [got, status]

    yield record
    if RECORD:
        Path(RECORD).write_text(json.dumps(_RECORDED, indent=1, sort_keys=True))


pytestmark = pytest.mark.django_db
