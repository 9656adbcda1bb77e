"""A school place in a real browser (Playwright driving Debian's Chromium, live server):
a resident enrolls on a phone; the center publishes the frozen list; the resident sees the
masked public list and files a re-examination with a photo; the reviewer of the routed
department upholds it; the corrected list is public.

The request layer's clock is pinned per step (tests/reexaminations/world.py's 2025 dates:
publication from Tuesday 2025-09-30, filing until 2025-10-10 across the National Day holiday).
"""

from __future__ import annotations

import os
import re

import pytest

from jifen.accounts import clock as clock_module
from jifen.identity import mask_name
from jifen.reexaminations.models import Reexamination, ReexaminationState
from jifen.scenarios.models import Enrollment
from tests.browser.test_claims_browser import CHROMIUM, PHONE, chromium, log_in, seeded
from tests.factories import PASSWORD, make_user
from tests.reexaminations import world as rw
from tests.web.test_scenarios_support import DECIDED, PNG

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]

__all__ = ["seeded"]


@pytest.fixture
def pinned(monkeypatch, settings, tmp_path):
    settings.JIFEN_EVIDENCE_ROOT = tmp_path / "evidence"
    state = {"now": rw.ENROLLED}
    monkeypatch.setattr(clock_module, "now", lambda: state["now"])
    return state


def test_enroll_publish_reexamine_uphold_corrected_list(live_server, seeded, pinned):
    from jifen.org.models import Department
    from jifen.rankings.services import freeze_ranking
    from jifen.scenarios import services

    base = live_server.url
    center = make_user("center", username="center5")
    make_user("reviewer", department="zj_hrss", username="hrss5")
    version = services.define_scenario(
        code="school-2025",
        name="2025年新市民子女义务教育入学",
        department=Department.objects.get(code="education_bureau"),
        content=rw.CONTENT,
        user=center,
        now=rw.DEFINED,
        publish=True,
    )
    scenario = version.scenario
    for months in (60, 40):
        resident = rw.scored_resident(months)
        services.enroll(
            scenario=scenario,
            resident=resident,
            user=make_user("resident", resident=resident),
            details={},
            preferences=[],
            now=rw.ENROLLED,
        )
    carol = rw.scored_resident(20)
    make_user("resident", resident=carol, username="carol5")

    with chromium() as browser:
        # 1. Carol applies on her phone.
        phone = browser.new_context(**PHONE).new_page()
        log_in(phone, base, "carol5", PASSWORD, "/me/scenarios/")
        phone.click(f"#scenario-{scenario.pk} h3 a")
        phone.click("#enroll")
        phone.wait_for_url(re.compile(r".*/me/scenarios/enrollments/[0-9a-f-]{36}/$"))
        number = phone.inner_text("#enrollment-number").strip()
        assert number.startswith("YY")

        services.evaluate_enrollments(version, now=rw.EVALUATED, user=center)
        ranking = freeze_ranking(version=version, user=center, now=rw.FROZEN)

        # 2. The center publishes the frozen list.
        pinned["now"] = rw.PUBLISHED
        desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        staff = desk.new_page()
        log_in(staff, base, "center5", PASSWORD, f"/workbench/rankings/{ranking.pk}/")
        assert ranking.content_hash in staff.inner_text("#content-hash")
        staff.fill("#starts_on", "2025-09-30")
        staff.fill("#ends_on", "2025-10-14")
        staff.click("#publish")
        staff.wait_for_selector("#publication")

        # 3. On the first day Carol sees the masked list and files a re-examination.
        pinned["now"] = rw.FIRST_DAY
        phone.reload()
        if "/accounts/login/" in phone.url:
            log_in(phone, base, "carol5", PASSWORD, "/me/scenarios/")
        enrollment = Enrollment.objects.get(number=number)
        phone.goto(f"{base}/me/scenarios/enrollments/{enrollment.pk}/")
        phone.click("#public-list")
        phone.wait_for_selector("#public-list")
        listing = phone.inner_text("#public-list")
        assert number in listing and mask_name(carol.name) in listing
        assert carol.name not in phone.content()
        phone.go_back()
        phone.select_option("#item", "provincial.social_insurance")
        phone.fill("#statement", "社保缴费月数少算了")
        phone.set_input_files(
            "#evidence", files=[{"name": "proof.png", "mimeType": "image/png", "buffer": PNG}]
        )
        phone.click("#reexamine")
        phone.wait_for_url(re.compile(r".*/me/reexaminations/[0-9a-f-]{36}/$"))
        reexamination = Reexamination.objects.get()

        # 4. The reviewer of the routed department accepts and upholds it.
        pinned["now"] = DECIDED
        review = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        hrss = review.new_page()
        log_in(hrss, base, "hrss5", PASSWORD, "/workbench/reexaminations/")
        hrss.click(f"#reexamination-row-{reexamination.number} a")
        hrss.click("#form-accept button")
        hrss.wait_for_selector("#form-decide")
        hrss.select_option("#outcome", "upheld")
        hrss.fill("#reason", "2019-2022年社保缴费漏报")
        hrss.select_option("#code", "social_insurance_months")
        hrss.fill("#quantity", "90")
        hrss.click("#decide")
        hrss.wait_for_selector("#decision")

        # 5. The corrected list is public, saying what changed and why.
        reexamination.refresh_from_db()
        assert reexamination.state == ReexaminationState.UPHELD
        corrected = reexamination.corrected_publication
        page = browser.new_context(**PHONE).new_page()
        page.goto(f"{base}/public/publications/{corrected.pk}/")
        assert number in page.inner_text("#correction")
        assert mask_name(carol.name) in page.inner_text("#public-list")
        old = page.goto(f"{base}/public/publications/{ranking.publication.pk}/")
        assert old.status == 410
