"""The monthly report: the job produces a PDF (in Chinese) and an Excel workbook whose text
holds the month's figures of the hand-built population (tests/oversight/test_figures.py);
reports are kept (files under JIFEN_REPORT_ROOT) and downloadable by the center and the bureau
(audited); generated on demand; ``jifen report monthly --month 2025-06 --out FILE.pdf``."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook
from pdfminer.high_level import extract_text
from pdfminer.layout import LAParams

from jifen.accounts import clock
from jifen.audit.models import AuditEntry
from jifen.oversight import reports
from tests.oversight import test_figures as hand_built

CHINA = ZoneInfo("Asia/Shanghai")
#: The first night of July: the job reports June.
JOB_NOW = dt.datetime(2025, 7, 1, 2, 0, tzinfo=CHINA)
population = hand_built.population


@pytest.fixture(autouse=True)
def report_root(settings, tmp_path):
    settings.JIFEN_REPORT_ROOT = tmp_path / "reports"
    return settings.JIFEN_REPORT_ROOT


def pdf_text(data: bytes) -> str:
    """The PDF's text, a table row per line (a wide character margin joins the cells)."""
    text = extract_text(io.BytesIO(data), laparams=LAParams(char_margin=200, line_margin=0.2))
    return re.sub(r"[ \t]+", " ", text)


def xlsx_cells(data: bytes) -> dict[str, list[list]]:
    book = load_workbook(io.BytesIO(data))
    return {
        sheet.title: [list(r) for r in sheet.iter_rows(values_only=True)]
        for sheet in book.worksheets
    }


def assert_june_figures(text: str) -> None:
    assert "桐乡市新市民积分工作月报（2025年6月）" in text
    assert "统计范围：全市" in text
    assert "统计期间：2025年6月1日至2025年6月30日" in text
    # population by town (valid, lapsed, cleared); the lapse reasons
    assert "梧桐街道 2 1 0" in text and "凤鸣街道 1 1 1" in text
    assert "逾期未签注 1" in text and "已离开桐乡 1" in text
    # permits per month: 2025-06 — 2 new, 1 lapse, 1 restored
    assert "2025-06 2 1 1" in text
    # scores: mean 45.92, median 55; histogram bins 10–20, 50–60, 70–80 one each; by town
    assert "：45.92" in text and "：55" in text
    assert "10–20 1" in text and "50–60 1" in text and "70–80 1" in text
    assert "梧桐街道 63.75 63.5 72" in text
    # reviews in June: median 7.5 / p90 11 working days (hrss), 1.5 / 2 (police); 83.3%
    # decided within 10 working days; open 4, overdue 1
    assert "7.5 11" in text and "1.5 2" in text
    assert "：83.3%" in text and "：3.5" in text
    # feeds: the late department, the rejection reasons
    assert "feeds.bad_date 2" in text and "feeds.unknown_rule 1" in text


def test_the_job_produces_last_months_report_once(population, report_root):
    from jifen.jobs.registry import periodic_kinds

    # daily at 02:00 China time (slots from midnight UTC, offset −6 h)
    schedule = periodic_kinds()[reports.JOB_KIND]
    assert schedule.every == dt.timedelta(days=1)
    assert schedule.offset == dt.timedelta(hours=-6)
    result = reports.run_monthly(JOB_NOW)
    [stored] = reports.stored_reports()
    assert result == {"month": "2025-06", "generated": True, "report": stored.id}
    assert (stored.month, stored.scope, stored.source) == (dt.date(2025, 6, 1), "all", "job")
    assert stored.generated_by is None
    assert sorted(p.suffix for p in report_root.iterdir()) == [".json", ".pdf", ".xlsx"]
    pdf = stored.read("pdf")
    assert pdf.startswith(b"%PDF")
    assert stored.sha256["pdf"] == reports.sha256(pdf)
    assert_june_figures(pdf_text(pdf))
    assert stored.figures()  # the figures as printed are kept with the files
    entry = AuditEntry.objects.get(action="oversight.report_generated")
    assert entry.actor_id == f"job:{reports.JOB_KIND}"
    assert entry.object_id == stored.id
    assert entry.data == {
        "month": "2025-06",
        "scope": "all",
        "source": "job",
        "pdf_sha256": stored.sha256["pdf"],
    }
    # later runs in July (through the registered handler) find it kept
    from jifen.jobs.registry import get_handler

    later = type("Context", (), {"now": lambda self: JOB_NOW + dt.timedelta(days=1)})()
    assert get_handler(reports.JOB_KIND)(later)["generated"] is False
    assert len(reports.stored_reports()) == 1


def test_a_changed_file_is_not_served(client, population, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: hand_built.NOW)
    stored = reports.generate(dt.date(2025, 6, 1), now=JOB_NOW, source="job")
    stored.path("pdf").write_bytes(b"%PDF-1.4 tampered")
    with pytest.raises(reports.StoredReportDamaged):
        stored.read("pdf")
    client.force_login(population["center"])
    assert client.get(f"/workbench/oversight/reports/{stored.id}.pdf").status_code == 404
    assert client.get(f"/workbench/oversight/reports/{stored.id}.xlsx").status_code == 200
    # ids are checked before any file is opened
    assert reports.stored_report("../../etc/passwd") is None
    assert reports.stored_report(stored.id.replace("_job_", "_xyz_")) is None


def test_the_excel_workbook_holds_the_same_figures(population):
    report = reports.build(reports.system_viewer(), dt.date(2025, 6, 1), now=JOB_NOW)
    sheets = xlsx_cells(reports.excel_bytes(report))
    cover = [row[0] for row in sheets["说明"]]
    assert cover[0] == "桐乡市新市民积分工作月报（2025年6月）"
    times = next(
        rows for rows in sheets.values() if rows[0][0] == report_title(report, "review-times")
    )
    assert sorted(r[1:3] for r in times if r[1] is not None and isinstance(r[1], (int, float))) == [
        [1.5, 2],
        [7.5, 11],
    ]
    assert report.figures()  # kept with the stored report


def report_title(report, key):
    return next(c.title for s in report.sections for c in s.charts if c.key == key)


def test_the_center_generates_on_demand_and_downloads(client, population, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: hand_built.NOW)
    center = population["center"]
    client.force_login(center)
    page = client.get("/workbench/oversight/reports/")
    assert page.status_code == 200 and 'value="2025-05"' in page.content.decode()
    response = client.post("/workbench/oversight/reports/", {"month": "2025-06"})
    assert response.status_code == 302
    [stored] = reports.stored_reports()
    assert (stored.source, stored.generated_by, stored.scope) == ("demand", center.pk, "all")
    assert response["Location"].endswith(f"#report-{stored.id}")
    listing = client.get("/workbench/oversight/reports/").content.decode()
    assert f'id="report-{stored.id}"' in listing and center.username in listing
    pdf = client.get(f"/workbench/oversight/reports/{stored.id}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "attachment" in pdf["Content-Disposition"]
    assert "2025年6月" in pdf_text(pdf.content)
    xlsx = client.get(f"/workbench/oversight/reports/{stored.id}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    downloads = AuditEntry.objects.filter(action="oversight.report_downloaded")
    assert sorted(e.data["format"] for e in downloads) == ["pdf", "xlsx"]
    assert AuditEntry.objects.filter(
        action="oversight.report_generated", data__source="demand"
    ).exists()
    # a month not begun yet, or no month: 422, nothing stored
    assert client.post("/workbench/oversight/reports/", {"month": "2025-08"}).status_code == 422
    assert client.post("/workbench/oversight/reports/", {"month": "x"}).status_code == 422
    assert len(reports.stored_reports()) == 1
    assert client.get("/workbench/oversight/reports/999999.pdf").status_code == 404
    assert client.get(f"/workbench/oversight/reports/{stored.id}.exe").status_code == 404
    assert client.get(f"/workbench/oversight/reports/{stored.id}.json").status_code == 404


def test_reviewers_and_clerks_get_no_reports(client, population, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: hand_built.NOW)
    stored = reports.generate(dt.date(2025, 6, 1), now=JOB_NOW, source="job")
    for user in (population["hrss_reviewer"], population["clerk"]):
        client.force_login(user)
        assert client.get("/workbench/oversight/reports/").status_code == 403
        assert client.post("/workbench/oversight/reports/", {"month": "2025-06"}).status_code == 403
        assert client.get(f"/workbench/oversight/reports/{stored.id}.pdf").status_code == 403
    assert len(reports.stored_reports()) == 1
    assert not AuditEntry.objects.filter(action="oversight.report_downloaded").exists()


def test_the_report_command_writes_the_pdf(population, tmp_path):
    out, xlsx = tmp_path / "june.pdf", tmp_path / "june.xlsx"
    call_command("report", "monthly", "--month", "2025-06", "--out", str(out), "--xlsx", str(xlsx))
    assert_june_figures(pdf_text(out.read_bytes()))
    assert xlsx.read_bytes()[:2] == b"PK"
    assert reports.stored_reports() == []  # not kept without --store
    call_command("report", "monthly", "--month", "2025-06", "--out", str(out), "--store")
    [stored] = reports.stored_reports()
    assert stored.source == "command" and stored.read("pdf") == out.read_bytes()
    assert AuditEntry.objects.get(action="oversight.report_generated").actor_id == "command:report"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2025-6"], "not a month"),
        (["--month", "2999-01"], "has not begun"),
    ],
)
def test_the_report_command_refuses_bad_input(population, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("report", "monthly", *args, "--out", str(tmp_path / "r.pdf"))


def test_the_report_command_refuses_a_missing_directory(population, tmp_path):
    with pytest.raises(CommandError, match="no such directory"):
        call_command(
            "report", "monthly", "--month", "2025-06", "--out", str(tmp_path / "no" / "r.pdf")
        )


def test_months():
    assert reports.parse_month("2025-06") == dt.date(2025, 6, 1)
    assert reports.previous_month(dt.date(2025, 1, 15)) == dt.date(2024, 12, 1)
    assert reports.month_end(dt.date(2024, 2, 1)) == dt.date(2024, 2, 29)
    for bad in ("2025-13", "25-06", "2025/06", ""):
        with pytest.raises(ValueError):
            reports.parse_month(bad)
