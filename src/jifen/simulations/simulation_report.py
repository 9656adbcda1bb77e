"""A simulation's figures as an Excel workbook (openpyxl) and a PDF report (reportlab, the
built-in CID font STSong-Light: no font files). Both are plain functions of the stored
figures, so they say exactly what the page says."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from jifen.simulations.models import Simulation

FONT = "STSong-Light"
COUNT_HEAD = ["居民数", "增加", "减少", "不变", "增加分值", "减少分值", "净变化"]
PEOPLE_HEAD = [
    "申请编号",
    "调整前积分",
    "调整后积分",
    "调整前名次",
    "调整后名次",
    "调整前",
    "调整后",
]


def _count_cells(c: dict[str, Any]) -> list[Any]:
    return [
        c["residents"],
        c["gain"],
        c["lose"],
        c["unchanged"],
        float(c["gain_points"]),
        float(c["loss_points"]),
        float(c["net_points"]),
    ]


def _people(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            p["number"],
            p["points_before"],
            p["points_after"],
            p["rank_before"] or "",
            p["rank_after"] or "",
            p["status_before"] or "",
            p["status_after"] or "",
        ]
        for p in rows
    ]


def tables(simulation: Simulation) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, header, rows) of every table of the report."""
    f = simulation.figures
    hist = f["histogram"]
    out = [
        (
            "概要",
            ["项目", "值"],
            [
                ["模拟编号", simulation.pk],
                ["草案", simulation.draft_policy],
                ["模拟日期", f["on"]],
                ["现行省级版本", f["before"]["provincial"]],
                ["现行市级版本", f["before"]["city"]],
                ["草案省级版本", f["after"]["provincial"]],
                ["草案市级版本", f["after"]["city"]],
                ["居民数", f["residents"]],
                ["参与计算", f["scored"]],
                ["调整前平均分", float(f["mean_before"])],
                ["调整后平均分", float(f["mean_after"])],
                *[
                    [label, value]
                    for label, value in zip(COUNT_HEAD, _count_cells(f["summary"]), strict=True)
                ],
            ],
        ),
        (
            "积分分布",
            ["分数段", "现行", "草案", "变化"],
            [
                [f"{hist['edges'][i]}–{hist['edges'][i + 1]}", b, a, a - b]
                for i, (b, a) in enumerate(zip(hist["before"], hist["after"], strict=True))
            ],
        ),
        (
            "按镇街",
            ["镇（街道）", *COUNT_HEAD, "调整前平均分", "调整后平均分"],
            [
                [c["name"], *_count_cells(c), float(c["mean_before"]), float(c["mean_after"])]
                for c in f["by_town"]
            ],
        ),
        ("按指标", ["指标", *COUNT_HEAD], [[c["item"], *_count_cells(c)] for c in f["by_item"]]),
    ]
    if f.get("scenario"):
        s, t = f["scenario"], f.get("threshold") or {}
        out.append(
            (
                "应用场景",
                ["项目", "现行", "草案"],
                [
                    ["场景", s["name"], f"v{s['version']}"],
                    ["门槛分", s["min_total"] or "", ""],
                    ["全体居民达到门槛", t.get("reaching_before", ""), t.get("reaching_after", "")],
                    [
                        "全体居民跨越门槛（升/降）",
                        t.get("crossed_up", ""),
                        t.get("crossed_down", ""),
                    ],
                    ["申请数", s["enrollments"], s["enrollments"]],
                    ["符合条件", s["eligible_before"], s["eligible_after"]],
                    ["录取", s["admitted_before"], s["admitted_after"]],
                    ["录取分数线", s["cutoff_before"] or "", s["cutoff_after"] or ""],
                    ["名次变化人数", s["rank_changed"], ""],
                ],
            )
        )
        out.append(("新进入录取", PEOPLE_HEAD, _people(s["entering"])))
        out.append(("退出录取", PEOPLE_HEAD, _people(s["leaving"])))
        out.append(("达到门槛", PEOPLE_HEAD, _people(s["crossed_up"])))
        out.append(("低于门槛", PEOPLE_HEAD, _people(s["crossed_down"])))
    return out


def write_excel(simulation: Simulation) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, head, rows in tables(simulation):
        sheet = book.create_sheet(title)
        sheet.append(head)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = "0.00"
        sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@lru_cache(maxsize=1)
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def write_pdf(simulation: Simulation) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=15, leading=20)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=16, spaceBefore=8)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=landscape(A4), title=f"积分政策调整影响模拟 #{simulation.pk}"
    )
    story: list[Any] = [
        Paragraph(f"积分政策调整影响模拟 #{simulation.pk}：{simulation.draft_policy}", title),
        Paragraph("本报告为模拟结果，不改变任何居民的积分、名单或说明。", body),
        Spacer(1, 6),
    ]
    for name, head, rows in tables(simulation):
        story.append(Paragraph(name, heading))
        data = [head, *[[_text(v) for v in row] for row in rows]] if rows else [head, ["无"]]
        table = Table(data, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ]
            )
        )
        story.append(table)
    doc.build(story)
    return out.getvalue()


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
