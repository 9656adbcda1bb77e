"""Authorization matrix of the pages: every page × every role × someone else's object.

Role-forbidden pages answer 403, objects outside the user's scope 404 (like objects that do not
exist), and every refusal leaves an ``access.denied`` audit entry naming the user.
"""

from __future__ import annotations

import pytest

from jifen.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

USERS = [
    "alice_user",
    "bob_user",
    "carol_user",
    "clerk_wutong",
    "clerk_puyuan",
    "reviewer_psb",
    "reviewer_health",
    "reviewer_court",
    "center",
    "auditor",
    "system_admin",
    "security_admin",
]
RESIDENTS = {"alice_user", "bob_user", "carol_user"}
STAFF = {
    "clerk_wutong",
    "clerk_puyuan",
    "reviewer_psb",
    "reviewer_health",
    "reviewer_court",
    "center",
}
REVIEWERS = {"reviewer_psb", "reviewer_health", "reviewer_court"}

# For each page: (method, url template, {user: status}); users not named get the default.
PAGES = {
    "portal": ("get", "/me/", dict.fromkeys(RESIDENTS, 200), 403),
    "search": ("get", "/workbench/?by=name&q=王小丽", dict.fromkeys(STAFF, 200), 403),
    "alice page": (
        "get",
        "/workbench/residents/{alice}/",
        {
            "clerk_wutong": 200,
            "clerk_puyuan": 404,
            "reviewer_psb": 200,
            "reviewer_health": 200,
            "reviewer_court": 404,
            "center": 200,
        },
        403,
    ),
    "bob page": (
        "get",
        "/workbench/residents/{bob}/",
        {
            "clerk_wutong": 404,
            "clerk_puyuan": 200,
            "reviewer_psb": 404,
            "reviewer_health": 404,
            "reviewer_court": 200,
            "center": 200,
        },
        403,
    ),
    "unknown resident": (
        "get",
        "/workbench/residents/00000000-0000-4000-8000-000000000000/",
        dict.fromkeys(STAFF, 404),
        403,
    ),
    "reveal alice": (
        "post",
        "/workbench/residents/{alice}/reveal",
        {"clerk_wutong": 200, "clerk_puyuan": 404, "center": 200},
        403,
    ),
    "feed imports": (
        "get",
        "/workbench/feeds/",
        {"center": 200, **dict.fromkeys(REVIEWERS, 200)},
        403,
    ),
    "health batch": (
        "get",
        "/workbench/feeds/{health}/",
        {"center": 200, "reviewer_health": 200, "reviewer_psb": 404, "reviewer_court": 404},
        403,
    ),
}


def expected(page: str, user: str) -> int:
    _, _, table, default = PAGES[page]
    return table.get(user, default)


@pytest.mark.parametrize("page", list(PAGES))
def test_page_matrix(client, world, page):
    method, template, _, _ = PAGES[page]
    url = template.format(alice=world.alice.pk, bob=world.bob.pk, health=world.batches["health"].pk)
    for name in USERS:
        user = world.user(name)
        client.force_login(user)
        denied_before = AuditEntry.objects.filter(action="access.denied").count()
        response = getattr(client, method)(url)
        want = expected(page, name)
        assert response.status_code == want, (page, name, response.status_code)
        denials = AuditEntry.objects.filter(action="access.denied").order_by("sequence")
        if want in (403, 404):
            assert denials.count() == denied_before + 1, (page, name)
            entry = denials.last()
            assert entry.actor_id == str(user.pk) and entry.result == "denied"
            assert entry.data["reason"] == ("role" if want == 403 else "out_of_scope")
        else:
            assert denials.count() == denied_before, (page, name)


@pytest.mark.parametrize("page", list(PAGES))
def test_anonymous_visitors_are_sent_to_log_in(client, world, page):
    method, template, _, _ = PAGES[page]
    url = template.format(alice=world.alice.pk, bob=world.bob.pk, health=world.batches["health"].pk)
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_no_administrator_or_auditor_page_shows_personal_data(client, world):
    for name in ("auditor", "system_admin", "security_admin"):
        client.force_login(world.user(name))
        for template in ("/workbench/residents/{alice}/", "/me/", "/workbench/?q={id}"):
            url = template.format(alice=world.alice.pk, id=world.identity["alice"])
            page = client.get(url).content.decode()
            assert "王小丽" not in page and world.identity["alice"] not in page
