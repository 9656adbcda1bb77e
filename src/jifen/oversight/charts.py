"""Charts of the oversight pages, rendered on the server as SVG (no JavaScript, no CDN).

Pure: a :class:`Chart` (plain data: categories, one or more :class:`Series` of numbers) in,
an SVG string, a numbers table or an Excel workbook out. No database, no Django — the views
and the monthly report build charts from :mod:`jifen.oversight.figures` and hand them here.

Kinds:

- ``bar`` — vertical bars per category (one bar per series, grouped);
- ``hbar`` — horizontal bars, for long category names (departments, towns);
- ``histogram`` — adjacent vertical bars over ordered bins (score totals);
- ``line`` — one line per series over ordered categories (months).

Every SVG is accessible: ``role="img"`` with a ``<title>`` and a ``<desc>`` (which says the
figures are in the table next to it), and each bar or point carries its own ``<title>`` with
the category, the series and the number. Colours are presentation attributes (no ``style``),
so a strict Content-Security-Policy still applies.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import IO, Any

Number = int | float | Decimal

KINDS = ("bar", "hbar", "histogram", "line")

#: Colour-blind safe palette (Okabe–Ito), series in this order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

WIDTH = 640
FONT = "system-ui, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"


@dataclass(frozen=True)
class Series:
    """One named row of numbers, one per category (None = no figure)."""

    name: str
    values: tuple[Number | None, ...]


@dataclass(frozen=True)
class Chart:
    """What a chart shows. ``key`` is its id in page anchors and export URLs."""

    key: str
    title: str
    kind: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    category_label: str = ""
    unit: str = ""
    description: str = ""
    #: Extra lines printed under the title in exports (the scope, the month...).
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r} (one of {', '.join(KINDS)})")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", self.key):
            raise ValueError(f"chart key {self.key!r} must be lower-case letters, digits, - or _")
        for series in self.series:
            if len(series.values) != len(self.categories):
                raise ValueError(
                    f"series {series.name!r} has {len(series.values)} values for "
                    f"{len(self.categories)} categories"
                )

    @property
    def empty(self) -> bool:
        return not self.categories or all(v is None for s in self.series for v in s.values)


def chart(
    key: str,
    title: str,
    kind: str,
    rows: Iterable[tuple[Any, Sequence[Number | None] | Number | None]],
    *,
    series: Sequence[str] = ("",),
    category_label: str = "",
    unit: str = "",
    description: str = "",
    notes: Sequence[str] = (),
) -> Chart:
    """A chart from ``rows`` of ``(category, value)`` or ``(category, (v1, v2, …))``, the
    values in the order of ``series`` (the names)."""
    categories: list[str] = []
    columns: list[list[Number | None]] = [[] for _ in series]
    for category, values in rows:
        categories.append(str(category))
        if not isinstance(values, (list, tuple)):
            values = (values,)
        if len(values) != len(series):
            raise ValueError(f"row {category!r} has {len(values)} values for {len(series)} series")
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    return Chart(
        key=key,
        title=title,
        kind=kind,
        categories=tuple(categories),
        series=tuple(Series(n, tuple(c)) for n, c in zip(series, columns, strict=True)),
        category_label=category_label,
        unit=unit,
        description=description,
        notes=tuple(notes),
    )


# --- numbers ---------------------------------------------------------------------------------


def fmt(value: Number | None) -> str:
    """A number as printed: integers plain, others with at most two decimals; None = —."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "—"
    number = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _float(value: Number | None) -> float:
    return 0.0 if value is None else float(value)


def nice_max(top: float, *, whole: bool = False) -> tuple[float, float]:
    """An axis maximum ≥ ``top`` and its step (1, 2 or 5 × 10ⁿ, four or five ticks); with
    ``whole`` (counts) the step is at least 1."""
    if top <= 0:
        return 1.0, 1.0
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * power
        if step >= raw:
            break
    if step >= 1 or whole:
        step = max(1, math.ceil(step))
    step = round(step, 10)
    return round(step * math.ceil(top / step - 1e-9), 10), step


def _ticks(top: float, whole: bool = False) -> list[float]:
    maximum, step = nice_max(top, whole=whole)
    count = round(maximum / step)
    return [step * i for i in range(count + 1)]


def _tick_label(value: float) -> str:
    return fmt(int(value)) if float(value).is_integer() else fmt(Decimal(str(round(value, 2))))


# --- SVG -------------------------------------------------------------------------------------


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _label(category: str, series: Series, value: Number | None, unit: str) -> str:
    name = f"{category} · {series.name}" if series.name else category
    number = fmt(value)
    return f"{name}: {number}{(' ' + unit) if unit and value is not None else ''}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legend(chart: Chart, y: float) -> list[str]:
    named = [s for s in chart.series if s.name]
    if len(named) < 2:
        return []
    parts = [f'<g class="legend" font-size="12" transform="translate(0 {y:.0f})">']
    x = 8.0
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.0f}" y="-10" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16:.0f}" y="0">{_e(series.name)}</text>')
        x += 16 + 13 * len(series.name) + 18
    parts.append("</g>")
    return parts


def render_svg(chart: Chart) -> str:
    """The chart as an inline ``<svg>`` element (a string; escape-safe)."""
    if chart.kind == "hbar":
        body, height = _hbar(chart)
    elif chart.kind == "line":
        body, height = _line(chart)
    else:
        body, height = _bars(chart)
    title_id, desc_id = f"chart-{chart.key}-title", f"chart-{chart.key}-desc"
    description = chart.description or ""
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{chart.kind}" '
            f'id="chart-{chart.key}" role="img" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet" '
            f'aria-labelledby="{title_id} {desc_id}" font-family="{_e(FONT)}">',
            f'<title id="{title_id}">{_e(chart.title)}</title>',
            f'<desc id="{desc_id}">{_e(description)}</desc>',
            *body,
            "</svg>",
        ]
    )


def _empty(height: float = 60) -> tuple[list[str], float]:
    return [
        f'<text x="{WIDTH / 2:.0f}" y="{height / 2 + 4:.0f}" text-anchor="middle" '
        'font-size="14" fill="#555">—</text>'
    ], height


def _top(chart: Chart) -> float:
    values = [_float(v) for s in chart.series for v in s.values]
    return max(values, default=0.0)


def _whole(chart: Chart) -> bool:
    """Only whole numbers (counts): no fractional ticks."""
    return all(v is None or isinstance(v, int) for s in chart.series for v in s.values)


def _axis_max(chart: Chart) -> float:
    return nice_max(_top(chart), whole=_whole(chart))[0]


def _bars(chart: Chart) -> tuple[list[str], float]:
    """Vertical bars (grouped per category) or a histogram (adjacent bins)."""
    if chart.empty:
        return _empty()
    left, right, top_pad, plot_h = 56.0, 12.0, 16.0, 200.0
    many = len(chart.categories) > 8
    bottom = 64.0 if many else 32.0
    legend = _legend(chart, top_pad + plot_h + bottom + 10)
    height = top_pad + plot_h + bottom + (20 if legend else 0)
    maximum = _axis_max(chart)
    plot_w = WIDTH - left - right
    n = len(chart.categories)
    slot = plot_w / n
    histogram = chart.kind == "histogram"
    gap = 0.0 if histogram else min(12.0, slot * 0.2)
    bar_w = (slot - gap) / max(1, len(chart.series))
    base = top_pad + plot_h
    out = _y_axis(left, right, top_pad, plot_h, maximum, chart.unit, _whole(chart))
    for i, category in enumerate(chart.categories):
        x0 = left + i * slot + gap / 2
        for j, series in enumerate(chart.series):
            value = series.values[i]
            h = plot_h * _float(value) / maximum if maximum else 0
            colour = PALETTE[j % len(PALETTE)]
            x = x0 + j * bar_w
            stroke = ' stroke="#fff" stroke-width="1"' if histogram else ""
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{max(bar_w, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}"{stroke}>'
                f"<title>{_e(_label(category, series, value, chart.unit))}</title></rect>"
            )
        cx = left + (i + 0.5) * slot
        label = _e(_short(category, 8 if many else 14))
        if many:
            out.append(
                f'<text x="{cx:.1f}" y="{base + 12:.0f}" font-size="11" text-anchor="end" '
                f'transform="rotate(-40 {cx:.1f} {base + 12:.0f})">{label}</text>'
            )
        else:
            out.append(
                f'<text x="{cx:.1f}" y="{base + 16:.0f}" font-size="12" '
                f'text-anchor="middle">{label}</text>'
            )
    out.extend(legend)
    return out, height


def _y_axis(
    left: float,
    right: float,
    top_pad: float,
    plot_h: float,
    maximum: float,
    unit: str,
    whole: bool = False,
) -> list[str]:
    out = ['<g class="axis" font-size="11" fill="#333">']
    base = top_pad + plot_h
    for tick in _ticks(maximum, whole):
        y = base - plot_h * tick / maximum
        out.append(
            f'<line x1="{left:.0f}" x2="{WIDTH - right:.0f}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6:.0f}" y="{y + 4:.1f}" text-anchor="end">{_tick_label(tick)}</text>'
        )
    if unit:
        out.append(f'<text x="4" y="{top_pad - 4:.0f}" font-size="11">{_e(unit)}</text>')
    out.append(
        f'<line x1="{left:.0f}" x2="{WIDTH - right:.0f}" y1="{base:.1f}" y2="{base:.1f}" '
        'stroke="#333" stroke-width="1"/>'
    )
    out.append("</g>")
    return out


def _hbar(chart: Chart) -> tuple[list[str], float]:
    """Horizontal bars: one row per category, the value printed at the end of the bar."""
    if chart.empty:
        return _empty()
    left, right, top_pad = 150.0, 56.0, 8.0
    k = max(1, len(chart.series))
    bar_h = 14.0
    row_h = bar_h * k + 10
    plot_h = row_h * len(chart.categories)
    legend = _legend(chart, top_pad + plot_h + 22)
    height = top_pad + plot_h + 8 + (26 if legend else 0)
    maximum = _axis_max(chart)
    plot_w = WIDTH - left - right
    out = [
        f'<line x1="{left:.0f}" x2="{left:.0f}" y1="{top_pad:.0f}" '
        f'y2="{top_pad + plot_h:.0f}" stroke="#333" stroke-width="1"/>'
    ]
    for i, category in enumerate(chart.categories):
        y0 = top_pad + i * row_h + 5
        out.append(
            f'<text x="{left - 6:.0f}" y="{y0 + row_h / 2:.1f}" font-size="12" '
            f'text-anchor="end">{_e(_short(category, 11))}</text>'
        )
        for j, series in enumerate(chart.series):
            value = series.values[i]
            w = plot_w * _float(value) / maximum if maximum else 0
            y = y0 + j * bar_h
            colour = PALETTE[j % len(PALETTE)]
            out.append(
                f'<rect class="bar" x="{left:.0f}" y="{y:.1f}" width="{w:.1f}" '
                f'height="{bar_h - 2:.0f}" fill="{colour}">'
                f"<title>{_e(_label(category, series, value, chart.unit))}</title></rect>"
            )
            out.append(
                f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4:.1f}" font-size="11">'
                f"{_e(fmt(value))}</text>"
            )
    out.extend(legend)
    return out, height


def _line(chart: Chart) -> tuple[list[str], float]:
    """Lines over ordered categories, a marker (with its number) per point."""
    if chart.empty:
        return _empty()
    left, right, top_pad, plot_h = 56.0, 36.0, 16.0, 200.0
    many = len(chart.categories) > 12
    bottom = 56.0 if many else 32.0
    legend = _legend(chart, top_pad + plot_h + bottom + 10)
    height = top_pad + plot_h + bottom + (20 if legend else 0)
    maximum = _axis_max(chart)
    plot_w = WIDTH - left - right
    n = len(chart.categories)
    step_x = plot_w / max(1, n - 1) if n > 1 else 0
    base = top_pad + plot_h
    out = _y_axis(left, right, top_pad, plot_h, maximum, chart.unit, _whole(chart))

    def x_of(i: int) -> float:
        return left + (i * step_x if n > 1 else plot_w / 2)

    every = max(1, math.ceil(n / 12))
    for i, category in enumerate(chart.categories):
        if i % every and i != n - 1:
            continue
        cx = x_of(i)
        out.append(
            f'<text x="{cx:.1f}" y="{base + 16:.0f}" font-size="11" '
            f'text-anchor="middle">{_e(_short(category, 10))}</text>'
        )
    for j, series in enumerate(chart.series):
        colour = PALETTE[j % len(PALETTE)]
        points = [
            (x_of(i), base - plot_h * _float(v) / maximum)
            for i, v in enumerate(series.values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for i, value in enumerate(series.values):
            if value is None:
                continue
            y = base - plot_h * _float(value) / maximum
            out.append(
                f'<circle class="point" cx="{x_of(i):.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{_e(_label(chart.categories[i], series, value, chart.unit))}</title>"
                "</circle>"
            )
    out.extend(legend)
    return out, height


# --- numbers table and Excel -----------------------------------------------------------------


def table(chart: Chart) -> tuple[list[str], list[list[str]]]:
    """The chart's numbers as printed: ``(header, rows)``."""
    header = [chart.category_label or "", *(s.name or chart.unit or "" for s in chart.series)]
    rows = [
        [category, *(fmt(s.values[i]) for s in chart.series)]
        for i, category in enumerate(chart.categories)
    ]
    return header, rows


def _cell(value: Number | None) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value


SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str] | None = None) -> str:
    """An Excel sheet name (≤ 31 characters, none of ``[]:*?/\\``, unique in ``taken``)."""
    base = SHEET_NAME_BAD.sub(" ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while taken is not None and name in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    if taken is not None:
        taken.add(name)
    return name


def add_sheet(workbook: Any, chart: Chart, taken: set[str] | None = None) -> Any:
    """Append one sheet with ``chart``'s title, notes and numbers to an openpyxl workbook."""
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(sheet_name(chart.title, taken))
    sheet.append([chart.title])
    sheet["A1"].font = Font(bold=True, size=13)
    for note in chart.notes:
        sheet.append([note])
    sheet.append([])
    header, _rows = table(chart)
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for i, category in enumerate(chart.categories):
        sheet.append([category, *(_cell(s.values[i]) for s in chart.series)])
    longest = max(map(len, [header[0], *chart.categories]), default=8)
    sheet.column_dimensions["A"].width = max(14, min(40, 2 + 2 * longest))
    for letter in "BCDEFGH"[: len(chart.series)]:
        sheet.column_dimensions[letter].width = 16
    return sheet


def write_excel(charts: Sequence[Chart], stream: IO[bytes], *, cover: Sequence[str] = ()) -> None:
    """One workbook, one sheet per chart (and a cover sheet with ``cover`` lines, if any)."""
    from openpyxl import Workbook

    workbook = Workbook()
    default = workbook.active
    taken: set[str] = set()
    if cover:
        default.title = sheet_name("说明", taken)
        for line in cover:
            default.append([line])
        default.column_dimensions["A"].width = 60
    else:
        workbook.remove(default)
    for item in charts:
        add_sheet(workbook, item, taken)
    if not workbook.sheetnames:
        workbook.create_sheet("Sheet")
    workbook.properties.creator = "jifen"
    workbook.properties.created = dt.datetime(2000, 1, 1)
    workbook.save(stream)


def excel_bytes(charts: Sequence[Chart], *, cover: Sequence[str] = ()) -> bytes:
    buffer = io.BytesIO()
    write_excel(charts, buffer, cover=cover)
    return buffer.getvalue()
