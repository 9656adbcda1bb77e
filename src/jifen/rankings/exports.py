"""The public list (公示名单) and its four channels: page, API, Excel and the PDF notice.

:func:`public_rows` is the ONE function that turns ranking entries into public rows, and the
only place a name is masked (:func:`jifen.identity.mask_name`). A row holds only: the
application number, the masked name, the rank, the points, the points by item and the
allocation label — never an identity or permit number, a phone, an address or a deduction
reason (security.md, "Publication"). :func:`public_list` adds the heading (scenario, dates,
the re-examination deadline); :func:`page_data`, :func:`api_data`, :func:`write_excel` and
:func:`write_pdf` render it. The ``publication_*`` functions are the public read path: they
check the dates (:func:`jifen.rankings.services.visible_publication`) first.

The writers are plain Python over a :class:`PublicList` (no database), so the benchmark and
the tests time and read them directly.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any

from jifen.identity import mask_name
from jifen.rankings.engine import no_gc

#: Rows of the public list page.
PAGE_SIZE = 100
DEDUCTIONS = "deductions"
WAITLISTED_LABEL = "候补"
CANCELLED_LABEL = "已取消"


@dataclass(frozen=True, slots=True)
class PublicRow:
    """One row of a public list: nothing else may be published."""

    number: str
    name: str  # masked
    rank: int
    points: str
    breakdown: tuple[tuple[str, str], ...]  # (item code, points)
    allocation: str  # quota label, 候补 or 已取消

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "rank": self.rank,
            "points": self.points,
            "breakdown": dict(self.breakdown),
            "allocation": self.allocation,
        }


@dataclass
class PublicList:
    """A public list with its heading."""

    title: str
    scenario: str
    scenario_code: str
    version: int
    starts_on: dt.date
    ends_on: dt.date
    filing_until: dt.date
    reexamination_until: dt.date
    content_hash: str
    cutoff_points: str | None
    columns: list[tuple[str, str]]  # (item code, label)
    rows: Sequence[PublicRow]
    total: int
    corrected: bool = False
    changes: list[dict[str, Any]] = field(default_factory=list)
    correction_reason: str = ""

    def heading(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scenario": self.scenario,
            "scenario_code": self.scenario_code,
            "version": self.version,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "reexamination_filing_until": self.filing_until.isoformat(),
            "reexamination_until": self.reexamination_until.isoformat(),
            "content_hash": self.content_hash,
            "cutoff_points": self.cutoff_points,
            "corrected": self.corrected,
            "correction_reason": self.correction_reason,
            "changes": self.changes,
            "columns": [{"code": c, "label": label} for c, label in self.columns],
            "total": self.total,
        }


# --- the one row function --------------------------------------------------------------------


def _labels_of(publication: Any) -> dict[str, str]:
    version = publication.ranking.version
    return {q["key"]: q.get("label") or q["key"] for q in version.content.get("quotas", [])}


def public_rows(publication: Any, *, start: int = 0, stop: int | None = None) -> list[PublicRow]:
    """The public rows of ``publication`` in rank order (``start``/``stop`` slice them)."""
    from jifen.rankings.models import RankingEntry

    labels = _labels_of(publication)
    query = (
        RankingEntry.objects.filter(ranking_id=publication.ranking_id)
        .order_by("rank")
        .values_list(
            "number",
            "rank",
            "points",
            "breakdown",
            "quota_key",
            "outcome",
            "enrollment__resident__name",
        )
    )
    if start or stop is not None:
        query = query[start:stop]
    with no_gc():
        return _rows(query, labels)


def _rows(query: Any, labels: dict[str, str]) -> list[PublicRow]:
    from jifen.rankings.models import Outcome

    rows = []
    for number, rank, points, breakdown, quota, outcome, name in query.iterator(chunk_size=5000):
        if outcome == Outcome.CANCELLED:
            allocation = CANCELLED_LABEL
        elif quota:
            allocation = labels.get(quota, quota)
        else:
            allocation = WAITLISTED_LABEL
        rows.append(
            PublicRow(
                number=number,
                name=mask_name(name),
                rank=rank,
                points=f"{points:.2f}",
                breakdown=tuple((breakdown or {}).items()),
                allocation=allocation,
            )
        )
    return rows


@lru_cache(maxsize=16)
def item_labels(on: dt.date) -> dict[str, str]:
    """``{"provincial.age": "年龄", …, "deductions": "扣分"}`` for the policies in force."""
    from jifen.scores.services import select_policies

    selection = select_policies(on)
    labels = {}
    for section, policy in (("provincial", selection.provincial), ("city", selection.city)):
        for item in policy.items:
            labels[f"{section}.{item.code}"] = item.name.zh
    labels[DEDUCTIONS] = "扣分"
    return labels


def columns_for(codes: Sequence[str], on: dt.date) -> list[tuple[str, str]]:
    """The breakdown columns in policy order (unknown codes last, deductions at the end)."""
    labels = item_labels(on)
    order = {code: i for i, code in enumerate(labels)}
    ordered = sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))
    return [(c, labels.get(c, c)) for c in ordered]


def public_list(publication: Any, *, start: int = 0, stop: int | None = None) -> PublicList:
    """The heading and the rows of ``publication`` (no date check: see the read path)."""
    from jifen.rankings.models import RankingEntry

    ranking = publication.ranking
    version = ranking.version
    rows = public_rows(publication, start=start, stop=stop)
    first = (
        RankingEntry.objects.filter(ranking_id=ranking.pk)
        .order_by("rank")
        .values_list("breakdown", flat=True)
        .first()
    )
    codes = list(first or {})
    for row in rows:
        if len(row.breakdown) != len(codes):
            codes.extend(code for code, _points in row.breakdown)
    note = publication.change_note or {}
    return PublicList(
        title=f"{version.scenario.name}积分排名公示",
        scenario=version.scenario.name,
        scenario_code=version.scenario.code,
        version=version.number,
        starts_on=publication.starts_on,
        ends_on=publication.ends_on,
        filing_until=publication.filing_until,
        reexamination_until=publication.reexamination_until,
        content_hash=ranking.content_hash,
        cutoff_points=f"{ranking.cutoff_points:.2f}" if ranking.cutoff_points is not None else None,
        columns=columns_for(codes, version.evaluation_date),
        rows=rows,
        total=ranking.entry_count,
        corrected=publication.corrected_from_id is not None,
        changes=[_public_change(c) for c in note.get("changes", [])],
        correction_reason=note.get("reason", ""),
    )


def _public_change(change: dict[str, Any]) -> dict[str, Any]:
    """What a corrected list says about one number: what changed and why (no names)."""
    keep = ("number", "rank", "points", "allocation", "items", "added", "removed", "why")
    return {k: change[k] for k in keep if k in change}


# --- the public read path --------------------------------------------------------------------


def _visible(publication: Any, now: dt.datetime) -> Any:
    from jifen.rankings.services.publication import visible_publication

    return visible_publication(publication, now=now)


def page_data(publication: Any, *, now: dt.datetime, page: int = 1) -> dict[str, Any]:
    """The public page: the heading and one page of rows (``rankings.not_public`` when the
    list is not served today)."""
    publication = _visible(publication, now)
    total = publication.ranking.entry_count
    pages = max(1, -(-total // PAGE_SIZE))
    try:
        page = int(page)
    except (TypeError, ValueError):
        page = 1
    page = min(max(1, page), pages)
    start = (page - 1) * PAGE_SIZE
    listing = public_list(publication, start=start, stop=start + PAGE_SIZE)
    return {
        **listing.heading(),
        "page": page,
        "pages": pages,
        "rows": [row.as_dict() for row in listing.rows],
    }


def api_data(
    publication: Any, *, now: dt.datetime, offset: int = 0, limit: int | None = None
) -> dict[str, Any]:
    """The API's JSON: the heading and the rows (all, or ``offset``/``limit``)."""
    publication = _visible(publication, now)
    stop = None if limit is None else offset + limit
    listing = public_list(publication, start=offset, stop=stop)
    return {
        **listing.heading(),
        "offset": offset,
        "rows": [row.as_dict() for row in listing.rows],
    }


def publication_excel(publication: Any, *, now: dt.datetime) -> bytes:
    """The public list as an Excel workbook (served while the list is public)."""
    buffer = io.BytesIO()
    write_excel(public_list(_visible(publication, now)), buffer)
    return buffer.getvalue()


def publication_pdf(publication: Any, *, now: dt.datetime) -> bytes:
    """The PDF notice (公示) in Chinese (served while the list is public)."""
    buffer = io.BytesIO()
    write_pdf(public_list(_visible(publication, now)), buffer)
    return buffer.getvalue()


def staff_list(publication: Any) -> PublicList:
    """The same list for staff after the take-down (no date check; the caller is staff)."""
    return public_list(publication)


# --- writers (no database) -------------------------------------------------------------------


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def heading_lines(listing: PublicList) -> list[str]:
    lines = [
        f"应用场景：{listing.scenario}（第{listing.version}版）",
        f"公示期：{cn_date(listing.starts_on)}至{cn_date(listing.ends_on)}",
        f"复核申请截止：{cn_date(listing.filing_until)}（公示首日起3个工作日内，须提交完整材料）",
        f"复核办结期限：{cn_date(listing.reexamination_until)}",
        f"入围分数线：{listing.cutoff_points or '无'}　共{listing.total}人　名单校验码："
        f"{listing.content_hash[:16]}",
    ]
    if listing.corrected:
        lines.append(f"更正说明：{listing.correction_reason}")
    return lines


def header_cells(listing: PublicList) -> list[str]:
    return [
        "排名",
        "申请编号",
        "姓名",
        "积分",
        *(label for _c, label in listing.columns),
        "分配结果",
    ]


def row_cells(listing: PublicList, row: PublicRow) -> list[Any]:
    points = dict(row.breakdown)
    return [
        row.rank,
        row.number,
        row.name,
        row.points,
        *(points.get(code, "") for code, _label in listing.columns),
        row.allocation,
    ]


def write_excel(listing: PublicList, stream: IO[bytes]) -> None:
    """Write the list as an Excel workbook (:mod:`jifen.rankings.xlsx`, streamed rows):
    the heading, the table (points as numbers with two decimals) and, for a corrected list,
    a second sheet with what changed and why."""
    from jifen.rankings.xlsx import Decimal2, Workbook

    workbook = Workbook()
    sheet = workbook.sheet("公示名单")
    sheet.append([listing.title])
    for line in heading_lines(listing):
        sheet.append([line])
    sheet.append([])
    sheet.append(header_cells(listing))
    codes = [code for code, _label in listing.columns]

    def cells():
        for row in listing.rows:
            points = dict(row.breakdown)
            yield [
                row.rank,
                row.number,
                row.name,
                Decimal2(row.points),
                *(Decimal2(points[c]) if c in points else "" for c in codes),
                row.allocation,
            ]

    sheet.extend(cells())
    if listing.changes:
        changes = workbook.sheet("更正说明")
        changes.append(["申请编号", "变更内容", "原因"])
        for change in listing.changes:
            changes.append([change["number"], describe_change(change), change.get("why", "")])
    workbook.save(stream)


def describe_change(change: dict[str, Any]) -> str:
    parts = []
    if change.get("added"):
        parts.append("新增")
    if change.get("removed"):
        parts.append("移出名单")
    if "rank" in change:
        parts.append(f"排名 {change['rank'][0]}→{change['rank'][1]}")
    if "points" in change:
        parts.append(f"积分 {change['points'][0]}→{change['points'][1]}")
    if "allocation" in change:
        before, after = change["allocation"]
        parts.append(f"分配 {before or '候补'}→{after or '候补'}")
    for item, (before, after) in (change.get("items") or {}).items():
        parts.append(f"{item} {before or '0'}→{after or '0'}")
    return "；".join(parts)


_FONT = "STSong-Light"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Text:
    """PDF text operators for the rows, written straight into the page's content stream.

    reportlab's ``drawString`` builds a text object per call (about 0.2 ms each): 500,000
    calls for a 100,000-row list. The rows are instead written as ``Tm``/``Tj`` operators in
    one text block per page, in the font's encoding (UTF-16BE for the ``UniGB-UCS2-H`` CID
    font, as ``formatForPdf`` does) written as hexadecimal strings.
    """

    def __init__(self, pdf: Any) -> None:
        pdf.setFont(_FONT, 9)  # the font joins the page's resources
        self.name = pdf._doc.getInternalFontName(_FONT)

    def show(self, size: float, x: float, y: float, text: str) -> str:
        encoded = text.encode("utf-16-be").hex()
        return f"{self.name} {size} Tf 1 0 0 1 {x:.1f} {y:.1f} Tm <{encoded}> Tj"


def write_pdf(listing: PublicList, stream: IO[bytes]) -> None:
    """Write the notice: title, scenario, dates, the re-examination deadline, the rows.

    A4 landscape with the built-in CID font ``STSong-Light`` (no font files): two lines per
    applicant — rank, number, name, points, allocation; then the points by item.
    """
    from reportlab import rl_config

    # Flate only: the default ASCII85 pass over every page is pure Python here (and only
    # makes the file 7-bit clean, which nobody needs).
    a85, rl_config.useA85 = rl_config.useA85, 0
    try:
        _write_pdf(listing, stream)
    finally:
        rl_config.useA85 = a85


def _write_pdf(listing: PublicList, stream: IO[bytes]) -> None:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    _register_font()
    width, height = landscape(A4)
    margin = 36
    pdf = canvas.Canvas(stream, pagesize=(width, height), pageCompression=1)
    pdf.setTitle(listing.title)
    pdf.setSubject(f"{listing.scenario_code} v{listing.version} {listing.content_hash}")
    text = _Text(pdf)
    columns = [margin, margin + 50, margin + 170, margin + 250, margin + 320]
    labels = dict(listing.columns)
    page_number = 0

    def new_page(first: bool) -> float:
        nonlocal page_number
        page_number += 1
        y = height - margin
        if first:
            pdf.setFont(_FONT, 16)
            pdf.drawCentredString(width / 2, y - 4, listing.title)
            y -= 30
            pdf.setFont(_FONT, 10)
            for line in heading_lines(listing):
                pdf.drawString(margin, y, line)
                y -= 15
            y -= 6
        pdf.setFont(_FONT, 10)
        for x, title in zip(columns, ("排名", "申请编号", "姓名", "积分", "分配结果"), strict=True):
            pdf.drawString(x, y, title)
        pdf.setFont(_FONT, 8)
        pdf.drawRightString(width - margin, margin / 2, f"第{page_number}页")
        pdf.line(margin, y - 4, width - margin, y - 4)
        return y - 18

    def flush(ops: list[str]) -> None:
        if ops:
            pdf.addLiteral("BT " + "\n".join(ops) + " ET")

    y = new_page(True)
    ops: list[str] = []
    for row in listing.rows:
        if y < margin + 24:
            flush(ops)
            ops = []
            pdf.showPage()
            y = new_page(False)
        ops.append(text.show(9, columns[0], y, str(row.rank)))
        ops.append(text.show(9, columns[1], y, row.number))
        ops.append(text.show(9, columns[2], y, row.name))
        ops.append(text.show(9, columns[3], y, row.points))
        ops.append(text.show(9, columns[4], y, _fit(row.allocation, 40)))
        items = "　".join(
            f"{labels.get(code, code)} {points}" for code, points in row.breakdown if points
        )
        if items:
            ops.append(text.show(7, columns[1], y - 10, _fit(items, 150)))
        y -= 24
    flush(ops)
    if listing.changes:
        pdf.showPage()
        y = height - margin
        pdf.setFont(_FONT, 12)
        pdf.drawString(margin, y, "更正说明")
        y -= 22
        for change in listing.changes:
            if y < margin + 24:
                pdf.showPage()
                y = height - margin
            pdf.setFont(_FONT, 9)
            line = f"{change['number']}：{describe_change(change)}（原因：{change.get('why', '')}）"
            pdf.drawString(margin, y, _fit(line, 120))
            y -= 14
    pdf.showPage()
    pdf.save()


def iter_rows(listing: PublicList) -> Iterator[list[Any]]:
    """The rows as cells (header first), for CSV-like channels."""
    yield header_cells(listing)
    for row in listing.rows:
        yield row_cells(listing, row)
