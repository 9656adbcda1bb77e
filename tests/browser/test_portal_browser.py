"""A resident logs in with a phone-sized browser and reads the explanation of their points.

Playwright (sync API) drives Debian's Chromium (/usr/bin/chromium, installed by .ci/run)
against pytest-django's live server.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jifen.audit.models import AuditEntry

# Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a
# thread with a running loop as "async unsafe". The test keeps its ORM calls outside the
# browser session anyway (see chromium()); this covers fixtures that run while it is open.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    # The live server reads committed data: a transactional test.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]


@pytest.fixture
def seeded(transactional_db):
    """Towns and departments as migration org/0002 seeds them: an earlier transactional test
    may have flushed the database, seed rows included."""
    from django.apps import apps

    seed = importlib.import_module("jifen.org.migrations.0002_seed_towns_and_departments")
    seed.seed(apps, None)


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium. No ORM call may run inside: Playwright's event loop gives the
    thread another async context, hence another database connection that would stay open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_a_resident_reads_the_explanation_of_their_points(live_server, seeded, world, tmp_path):
    score = world.scores["alice"]
    shot = tmp_path / "my-points-390x844.png"
    with chromium() as browser:
        read_my_points(browser, live_server.url, world.password, score, shot)

    assert shot.stat().st_size > 10_000
    if os.environ.get("JIFEN_SCREENSHOT_DIR"):
        (Path(os.environ["JIFEN_SCREENSHOT_DIR"]) / shot.name).write_bytes(shot.read_bytes())
    [login] = AuditEntry.objects.filter(action="auth.login")
    assert login.actor_id == str(world.alice_user.pk)
    assert "Chrome" in login.data["user_agent"]


def read_my_points(browser, base_url: str, password: str, score, shot: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.goto(f"{base_url}/me/")
    assert "/accounts/login/" in page.url  # not signed in yet

    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}/me/")

    assert page.inner_text("#score-total").strip() == str(score.total)
    assert page.inner_text("#provincial-total").strip() == str(score.provincial_total)
    charity = page.locator("#item-city-charity")
    line = charity.locator(".explanation li").first.inner_text()
    assert "无偿献血" in line and "2分" in line
    assert "卫生健康局" in charity.locator(".facts").inner_text()  # the source of the fact
    assert page.locator("#reference-values").is_visible()
    assert page.locator(".chart svg").is_visible()

    # Phone layout: nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390

    page.screenshot(path=str(shot), full_page=True)
    context.close()
