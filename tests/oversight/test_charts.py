"""The chart renderer (pure): SVG for each kind, accessible titles, the numbers table, Excel."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from jifen.oversight import charts
from jifen.oversight.charts import chart

SVG = "{http://www.w3.org/2000/svg}"


def towns() -> charts.Chart:
    return chart(
        "population-by-town",
        "按镇街的积分人数",
        "hbar",
        [("梧桐街道", (120, 5)), ("濮院镇<b>", (80, None))],
        series=("有效", "失效"),
        category_label="镇街",
        unit="人",
        description="有效和失效积分人数。",
    )


@pytest.mark.parametrize("kind", charts.KINDS)
def test_every_kind_renders_well_formed_accessible_svg(kind):
    c = chart(
        "k",
        "标题 & <title>",
        kind,
        [("2025-05", (3, Decimal("1.5"))), ("2025-06", (7, 0))],
        series=("甲", "乙"),
        description="说明",
    )
    svg = charts.render_svg(c)
    root = ET.fromstring(svg)  # well-formed, names escaped
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-k-title chart-k-desc"
    assert root.find(f"{SVG}title").text == "标题 & <title>"
    assert root.find(f"{SVG}desc").text == "说明"
    marks = root.findall(f".//{SVG}rect[@class='bar']") + root.findall(
        f".//{SVG}circle[@class='point']"
    )
    labels = sorted(m.find(f"{SVG}title").text for m in marks)
    assert labels == ["2025-05 · 乙: 1.5", "2025-05 · 甲: 3", "2025-06 · 乙: 0", "2025-06 · 甲: 7"]
    assert "style=" not in svg and "<script" not in svg


def test_bar_lengths_are_proportional_and_none_draws_nothing():
    root = ET.fromstring(charts.render_svg(towns()))
    bars = {
        r.find(f"{SVG}title").text: float(r.get("width"))
        for r in root.findall(f".//{SVG}rect[@class='bar']")
    }
    assert bars["梧桐街道 · 有效: 120 人"] == pytest.approx(
        bars["濮院镇<b> · 有效: 80 人"] * 1.5, abs=0.2
    )
    assert bars["濮院镇<b> · 失效: —"] == 0
    assert "濮院镇&lt;b&gt;" in charts.render_svg(towns())


def test_empty_chart_renders_a_placeholder():
    c = chart("e", "空", "bar", [])
    assert c.empty
    assert ET.fromstring(charts.render_svg(c)).get("role") == "img"


def test_a_series_must_match_the_categories():
    with pytest.raises(ValueError, match="values"):
        chart("x", "t", "bar", [("a", (1, 2))], series=("one",))
    with pytest.raises(ValueError, match="kind"):
        chart("x", "t", "pie", [("a", 1)])
    with pytest.raises(ValueError, match="key"):
        chart("X Y", "t", "bar", [("a", 1)])


def test_numbers_table_prints_what_the_chart_shows():
    header, rows = charts.table(towns())
    assert header == ["镇街", "有效", "失效"]
    assert rows == [["梧桐街道", "120", "5"], ["濮院镇<b>", "80", "—"]]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (12345, "12345"),
        (Decimal("12.50"), "12.5"),
        (Decimal("7.0"), "7"),
        (2.345, "2.35"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_number_format(value, text):
    assert charts.fmt(value) == text


@pytest.mark.parametrize(
    ("top", "maximum", "step"),
    [(0, 1, 1), (3, 3, 1), (87, 100, 25), (120, 150, 50), (0.5, 0.6, 0.2)],
)
def test_axis_maximum(top, maximum, step):
    assert charts.nice_max(top) == (pytest.approx(maximum), pytest.approx(step))


def test_excel_has_one_sheet_per_chart_with_numbers_as_numbers():
    hist = chart("h", "积分分布", "histogram", [("0–10", 4), ("10–20", Decimal("2"))])
    data = charts.excel_bytes([towns(), hist], cover=["月报"])
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["说明", "按镇街的积分人数", "积分分布"]
    sheet = book["按镇街的积分人数"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "按镇街的积分人数"
    assert ["镇街", "有效", "失效"] in values
    assert ["梧桐街道", 120, 5] in values
    assert ["濮院镇<b>", 80, None] in values
    assert [list(r) for r in book["积分分布"].iter_rows(values_only=True)][-1] == ["10–20", 2]


def test_sheet_names_are_legal_and_unique():
    taken: set[str] = set()
    long = "按部门统计的审核办结时间（工作日）：中位数与第90百分位数/比例"
    first = charts.sheet_name(long, taken)
    second = charts.sheet_name(long, taken)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert "/" not in first
