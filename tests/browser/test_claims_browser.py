"""Claims in a real browser (Playwright driving Debian's Chromium against the live server):

(a) a resident files a claim with an uploaded photo on a phone-sized screen (390×844);
(b) a reviewer requests materials, the resident supplements them, the reviewer accepts and
    approves, and the resident's points rise on "my points".

The request layer's clock is pinned to the factories' 2025-06-02 (the world's scores are of
that day). No ORM call runs while the browser is open (see tests/browser/test_portal_browser.py).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from jifen.audit.models import AuditEntry
from jifen.claims.models import Claim, ClaimStatus, ReviewState
from jifen.scores.models import Score
from tests.web import test_claims_support as support
from tests.web.test_claims_support import bravery, file_claim, png_bytes, task_of

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
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "locale": "zh-CN",
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]

at, evidence_root = support.at, support.evidence_root


@pytest.fixture
def seeded(transactional_db):
    """Towns, departments and the routing table: an earlier transactional test may have
    flushed the seed rows."""
    from django.apps import apps

    from jifen.org.routing import sync_routes_from_policies
    from jifen.scores.policies import current_policies

    seed = importlib.import_module("jifen.org.migrations.0002_seed_towns_and_departments")
    seed.seed(apps, None)
    sync_routes_from_policies(current_policies())


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def keep(shot: Path) -> None:
    if os.environ.get("JIFEN_SCREENSHOT_DIR"):
        (Path(os.environ["JIFEN_SCREENSHOT_DIR"]) / shot.name).write_bytes(shot.read_bytes())


def log_in(page, base_url: str, username: str, password: str, path: str) -> None:
    page.goto(f"{base_url}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{base_url}{path}")


def autosaved(page, action) -> None:
    """Run ``action`` (a field change) and wait for the draft's autosave to answer, so the
    next step's request does not race it."""
    with page.expect_response(lambda r: "/edit/" in r.url and r.request.method == "POST"):
        action()


WIDER_THAN_PHONE = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def no_sideways_scroll(page) -> None:
    """Phone layout: nothing wider than the screen (names the culprits if something is)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, page.evaluate(WIDER_THAN_PHONE)[:12]


# --- (a) -------------------------------------------------------------------------------------


def test_a_resident_files_a_claim_with_a_photo_on_a_phone(
    live_server, seeded, world, at, evidence_root, tmp_path
):
    shots = tmp_path / "claim-wizard-390x844.png", tmp_path / "claim-status-390x844.png"
    with chromium() as browser:
        number = file_on_phone(browser, live_server.url, world.password, shots)

    claim = Claim.objects.get(number=number)
    assert claim.resident == world.alice and claim.status == ClaimStatus.SUBMITTED
    assert claim.channel == "portal"
    [item] = claim.items.all()
    assert (item.rule, item.level, item.date.isoformat()) == (
        "honours.bravery",
        "county",
        "2024-09-01",
    )
    [photo] = claim.evidence.all()
    assert photo.content_type == "image/png" and photo.original_name == "award.png"
    assert claim.tasks.get().department.code == "public_security_bureau"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"claim.draft_created", "evidence.uploaded", "claim.submitted"} <= actions
    for shot in shots:
        assert shot.stat().st_size > 10_000
        keep(shot)


def file_on_phone(browser, base: str, password: str, shots) -> str:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in(page, base, "alice", password, "/me/claims/")
    page.click("#new-claim")
    page.wait_for_url(f"{base}/me/claims/new/")
    no_sideways_scroll(page)

    page.check("input[value='honours.bravery']")
    page.click("#next")
    page.wait_for_url(re.compile(r".*/edit/details/$"))
    autosaved(page, lambda: page.select_option("#level-0", "county"))
    autosaved(page, lambda: page.fill("#date-0", "2024-09-01"))
    page.fill("#statement-0", "在运河救起落水儿童")
    autosaved(page, lambda: page.press("#statement-0", "Tab"))  # "change" fires on leaving
    no_sideways_scroll(page)
    page.click("#next")

    page.wait_for_url(re.compile(r".*/edit/evidence/$"))
    page.set_input_files(
        "#file", files=[{"name": "award.png", "mimeType": "image/png", "buffer": png_bytes(64, 48)}]
    )
    page.click("#upload")
    page.wait_for_selector("#draft-files")
    assert "award.png" in page.inner_text("#draft-files")
    page.click("#next")

    page.wait_for_url(re.compile(r".*/edit/review/$"))
    assert "在运河救起落水儿童" in page.inner_text("main")
    assert "award.png" in page.inner_text("#review-files")
    no_sideways_scroll(page)
    page.screenshot(path=str(shots[0]), full_page=True)
    page.click("#submit")

    page.wait_for_url(re.compile(r".*/me/claims/[0-9a-f-]{36}/$"))
    number = page.inner_text("#claim-number").strip()
    assert number.startswith("SQ")
    assert "公安局" in page.inner_text("main")
    assert page.locator("#evidence-files img").count() == 1  # the photo, inline
    # The photo is loaded lazily: bring it into view and let it load before measuring it.
    page.locator("#evidence-files img").scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('#evidence-files img').complete")
    assert page.evaluate("document.querySelector('#evidence-files img').naturalWidth") == 64
    no_sideways_scroll(page)
    page.screenshot(path=str(shots[1]), full_page=True)
    context.close()
    return number


# --- (b) -------------------------------------------------------------------------------------


def test_materials_supplement_approval_and_the_points_rise(
    live_server, seeded, world, at, evidence_root, tmp_path
):
    claim = file_claim(world, [bravery()])  # alice: county-level bravery, 10 points
    task = task_of(claim, "public_security_bureau")
    before = Score.objects.get(resident=world.alice, is_current=True).total
    shot = tmp_path / "points-after-approval-390x844.png"
    with chromium() as browser:
        after = review_round_trip(browser, live_server.url, world.password, claim, task, shot)

    task.refresh_from_db()
    assert task.state == ReviewState.APPROVED
    assert task.materials_notice.items == ["见义勇为确认书", "证人证言"]
    assert task.materials_notice.supplemented_at is not None
    assert Score.objects.get(resident=world.alice, is_current=True).total == before + 10
    assert after == str(before + 10)
    actions = list(
        AuditEntry.objects.filter(object_type="claims.reviewtask", object_id=str(task.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "claim.materials_requested",
        "claim.supplemented",
        "claim.accepted",
        "claim.decided",
    ]
    assert AuditEntry.objects.filter(action="evidence.downloaded").exists()  # the viewer
    keep(shot)


def review_round_trip(browser, base: str, password: str, claim, task, shot: Path) -> str:
    reviewer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    staff = reviewer.new_page()
    log_in(staff, base, "reviewer_psb", password, "/workbench/review/")
    staff.click(f"#task-row-{task.pk} a")
    staff.wait_for_url(f"{base}/workbench/review/{task.pk}/")
    staff.fill("#materials-items", "见义勇为确认书\n证人证言")
    staff.click("#form-materials button[type=submit]")
    staff.wait_for_selector("#notice")

    resident = browser.new_context(**PHONE)
    phone = resident.new_page()
    log_in(phone, base, "alice", password, "/me/")
    phone.goto(f"{base}/me/claims/{claim.pk}/")
    notice = phone.inner_text(f"#notice-{task.pk}")
    assert "见义勇为确认书" in notice and "证人证言" in notice
    phone.set_input_files(
        f"#file-{task.pk}",
        files=[{"name": "confirmation.png", "mimeType": "image/png", "buffer": png_bytes()}],
    )
    phone.fill(f"#note-{task.pk}", "确认书和证言已上传")
    phone.click(f"#supplement-{task.pk} button[type=submit]")
    phone.wait_for_url(f"{base}/me/claims/{claim.pk}/")
    assert phone.locator(f"#supplement-{task.pk}").count() == 0
    no_sideways_scroll(phone)

    staff.reload()
    assert staff.locator("#evidence-files img").count() == 1  # the supplement, inline
    staff.click("#form-accept button[type=submit]")
    staff.wait_for_selector("#due-on")
    item = staff.locator("#form-decide select[name^=outcome-]")
    item.select_option("approved")
    staff.click("#form-decide button[type=submit]")
    staff.wait_for_selector("#task-state.state-approved")
    reviewer.close()

    phone.goto(f"{base}/me/")
    after = phone.inner_text("#score-total").strip()
    no_sideways_scroll(phone)
    phone.screenshot(path=str(shot), full_page=True)
    phone.goto(f"{base}/me/claims/{claim.pk}/")
    assert "10" in phone.inner_text(f"#task-{task.pk}")
    resident.close()
    return after
