"""Oversight in a real browser (Playwright driving Debian's Chromium against the live server):
the center opens the dashboard, shows a chart's numbers, exports a chart to Excel, and
downloads the monthly report the scheduled job generated; the PDF holds the month's figures.

The data is the hand-built population of tests/oversight/test_figures.py; the request layer's
clock is pinned to its 2025-06-20. No ORM call runs while the browser is open.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest

from jifen.accounts import clock
from jifen.audit.models import AuditEntry
from jifen.oversight import reports
from tests.browser.test_claims_browser import CHROMIUM, chromium, keep, log_in, seeded
from tests.factories import PASSWORD
from tests.oversight import test_figures as hand_built
from tests.oversight.test_reports import assert_june_figures, pdf_text

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]

__all__ = ["seeded"]
population = hand_built.population
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN", "accept_downloads": True}


@pytest.fixture
def pinned(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(clock, "now", lambda: hand_built.NOW)
    settings.JIFEN_REPORT_ROOT = tmp_path / "reports"


def test_the_center_opens_the_dashboard_and_downloads_the_monthly_report(
    live_server, seeded, population, pinned, tmp_path
):
    from openpyxl import load_workbook

    # the job's run on the first night of July 2025 (June 20 on the pinned clock is earlier,
    # so it is called with its own "now"): the June report is kept
    job_now = dt.datetime(2025, 7, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert reports.run_monthly(job_now)["generated"] is True
    center = population["center"]
    base = live_server.url
    shot = tmp_path / "oversight-dashboard-1280.png"
    with chromium() as browser:
        page = browser.new_context(**DESKTOP).new_page()
        log_in(page, base, center.username, PASSWORD, "/workbench/oversight/")
        page.wait_for_selector("#section-reviews")
        assert page.locator("svg.chart[role=img]").count() >= 10
        # a chart's title is its accessible name; a bar says its number on hover
        title = page.locator("#chart-backlog-by-department title").first.text_content()
        assert title
        # the numbers one click away
        numbers = page.locator("#numbers-population-by-town")
        assert not numbers.locator("table").is_visible()
        numbers.locator("summary").click()
        assert numbers.locator("table").is_visible()
        assert "梧桐街道" in numbers.locator("table").inner_text()
        page.screenshot(path=str(shot), full_page=False)
        # a chart's Excel export
        with page.expect_download() as chart_download:
            page.click("#xlsx-review-times")
        chart_file = tmp_path / "review-times.xlsx"
        chart_download.value.save_as(chart_file)
        # the month switcher (htmx) keeps the page and swaps the panels
        page.fill("input[name=month]", "2025-05")
        with page.expect_response(lambda r: "month=2025-05" in r.url):
            page.click(".oversight-month button[type=submit]")
        page.wait_for_url("**month=2025-05**")
        assert page.locator("#section-reviews").is_visible()
        # the monthly reports: download the job's June report
        page.click("#nav-reports")
        page.wait_for_selector("#reports")
        row = page.locator("#reports tbody tr").first
        assert "2025-06" in row.inner_text()
        with page.expect_download() as report_download:
            row.locator("a.report-pdf").click()
        pdf_file = tmp_path / "june.pdf"
        report_download.value.save_as(pdf_file)
        assert report_download.value.suggested_filename.endswith(".pdf")
    keep(shot)
    assert_june_figures(pdf_text(pdf_file.read_bytes()))
    sheet = load_workbook(chart_file).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [1.5, 2] in [r[1:3] for r in values] and [7.5, 11] in [r[1:3] for r in values]
    assert AuditEntry.objects.filter(action="oversight.chart_exported").count() == 1
    download = AuditEntry.objects.get(action="oversight.report_downloaded")
    assert download.actor_id == str(center.pk) and download.data["format"] == "pdf"
