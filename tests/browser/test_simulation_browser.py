"""The impact simulation in a real browser (Playwright driving Debian's Chromium, live
server): the center drafts a change of the city table on the policy pages (a bachelor's
degree worth 5 city points instead of 10, each year of residence registration 3 instead of
2), runs the simulation from the simulation page, and sees the histogram (server-side SVG)
with its numbers one click away.

The job runs between two browser sessions (no ORM call while a browser is open, see
tests/browser/test_portal_browser.py), as ``jifen worker`` would run it.
"""

from __future__ import annotations

import os
import random
import re

import pytest

from jifen.jobs.worker import work_once
from jifen.simulations.models import Simulation, SimulationStatus
from jifen.synthetic.profiles import generate_profile
from tests.browser.test_claims_browser import CHROMIUM, chromium, log_in, seeded
from tests.factories import PASSWORD, make_resident, make_user
from tests.simulations.conftest import NOW, ON, TOWNS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]

__all__ = ["seeded"]
WIDE = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture
def population(seeded, settings):
    from tests.scores.conftest import department_for

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from jifen.facts.models import FactSource
    from jifen.facts.profile import facts_from_profile
    from jifen.facts.services import apply_fact

    rng = random.Random(61)
    for i in range(12):
        profile = generate_profile(rng, ON)
        profile["education"] = "bachelor"  # the draft changes what a bachelor's degree gives
        resident = make_resident(town=TOWNS[i % 3], now=NOW)
        for row in facts_from_profile(profile, key_prefix="browser"):
            code = {"residence_registered_on": "residence_months"}.get(row["code"], row["code"])
            apply_fact(
                resident,
                department=department_for(code),
                source=FactSource.FEED,
                now=NOW,
                **row,
            )


def test_center_drafts_a_change_runs_the_simulation_and_sees_the_histogram(
    live_server, population, monkeypatch
):
    from jifen.accounts import clock

    monkeypatch.setattr(clock, "now", lambda: NOW)
    center = make_user("center", username="center6")
    base = live_server.url
    with chromium() as browser:
        page = browser.new_page(**WIDE)
        log_in(page, base, center.username, PASSWORD, "/workbench/policies/")
        page.click("#draft-tongxiang button")
        page.wait_for_url(re.compile(r".*/workbench/policies/\d+/$"))
        draft_url = page.url
        page.fill('input[name="items[0].rules[0].levels.bachelor"]', "5")
        page.fill('input[name="items[1].rules[0].points"]', "3")
        page.click('#values-form button[name="action"]')
        page.wait_for_load_state()
        assert page.locator("#diff tr.changed").count() >= 2
        draft_pk = re.search(r"/(\d+)/$", draft_url).group(1)

        page.goto(f"{base}/workbench/simulations/?draft={draft_pk}")
        assert page.locator("#draft").input_value() == draft_pk
        page.click("#run")
        page.wait_for_url(re.compile(r".*/workbench/simulations/\d+/$"))
        detail_url = page.url
        assert page.locator("#status").get_attribute("data-status") == "queued"
        assert page.locator("#waiting").is_visible()
        page.close()

    # The worker runs the queued job (between browser sessions).
    assert work_once(worker="browser-test", kinds=["simulations.run"]) is not None
    simulation = Simulation.objects.get()
    assert simulation.status == SimulationStatus.DONE, simulation.error
    figures = simulation.figures
    assert figures["summary"]["lose"] > 0  # the degree is worth less
    bands = figures["histogram"]
    busiest = max(range(len(bands["after"])), key=lambda i: bands["after"][i])

    with chromium() as browser:
        page = browser.new_page(**WIDE)
        log_in(page, base, center.username, PASSWORD, detail_url.removeprefix(base))
        assert page.locator("#status").get_attribute("data-status") == "done"
        svg = page.locator("svg#histogram")
        assert svg.is_visible()
        assert page.locator("svg#histogram rect.before").count() == len(bands["before"])
        assert page.locator("svg#histogram rect.after").count() == len(bands["after"])
        assert page.locator("script[src^='http']").count() == 0
        # One click on a band: its numbers.
        page.locator(f'svg#histogram a[data-band="{busiest}"] rect.after').click()
        page.wait_for_url(re.compile(rf".*#band-{busiest}$"))
        row = page.locator(f"#band-{busiest} td")
        assert row.nth(1).inner_text() == str(bands["before"][busiest])
        assert row.nth(2).inner_text() == str(bands["after"][busiest])
        assert page.locator("#summary td").nth(2).inner_text() == str(figures["summary"]["lose"])
        assert page.locator("#by-item tr.changed").count() >= 1
        page.screenshot(path=str(_artifacts() / "simulation.png"), full_page=True)


def _artifacts():
    from pathlib import Path

    path = Path(os.environ.get("JIFEN_BROWSER_ARTIFACTS", "/tmp/jifen-browser"))
    path.mkdir(parents=True, exist_ok=True)
    return path
