"""The histogram of totals as an inline SVG, drawn on the server (no script, no CDN).

Two bars per band (before: grey, after: blue); each band is a link to its row of the table
of numbers below the chart (``#band-<i>``), and carries a ``<title>`` with the exact counts,
so every figure is one click (or one hover) away.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import escape

WIDTH, HEIGHT = 760, 260
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 56, 36, 12


def histogram_svg(histogram: dict[str, Any], *, before_label: str, after_label: str) -> str:
    """``<svg>`` markup for ``figures["histogram"]``."""
    before, after, edges = histogram["before"], histogram["after"], histogram["edges"]
    bands = len(before)
    top = max([*before, *after, 1])
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    step = plot_w / max(bands, 1)
    bar = max(step / 2 - 1, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="histogram" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" style="max-width:{WIDTH}px">',
        f"<title>{escape(before_label)} / {escape(after_label)}</title>",
    ]
    for k in range(5):  # horizontal grid with counts
        value = round(top * k / 4)
        y = MARGIN_TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end">{value:,}</text>'
        )
    for i in range(bands):
        x = MARGIN_LEFT + i * step
        label = f"{edges[i]}–{edges[i + 1]}"
        parts.append(f'<a href="#band-{i}" class="band" data-band="{i}">')
        parts.append(
            f"<title>{escape(label)}: {escape(before_label)} {before[i]:,}, "
            f"{escape(after_label)} {after[i]:,}</title>"
        )
        for j, (count, colour) in enumerate(((before[i], "#9aa0a6"), (after[i], "#1a73e8"))):
            h = plot_h * count / top
            parts.append(
                f'<rect class="{"before" if j == 0 else "after"}" x="{x + j * (bar + 1):.1f}" '
                f'y="{MARGIN_TOP + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}" data-count="{count}"/>'
            )
        parts.append("</a>")
        if bands <= 30 or i % 2 == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" '
                f'font-size="10" text-anchor="middle">{edges[i]}</text>'
            )
    legend_y = HEIGHT - 6
    parts.append(
        f'<rect x="{MARGIN_LEFT}" y="{legend_y - 9}" width="10" height="10" fill="#9aa0a6"/>'
        f'<text x="{MARGIN_LEFT + 14}" y="{legend_y}" font-size="11">{escape(before_label)}</text>'
        f'<rect x="{MARGIN_LEFT + 220}" y="{legend_y - 9}" width="10" height="10" '
        f'fill="#1a73e8"/><text x="{MARGIN_LEFT + 234}" y="{legend_y}" font-size="11">'
        f"{escape(after_label)}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
