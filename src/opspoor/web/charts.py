"""Bar charts as inline SVG markup, rendered on the server (no JavaScript, no external assets)."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

PALETTE = ("#3b6ea5", "#6a9a3a", "#b5651d", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d")


def bars(title: str, data: list[tuple[str, float]], unit: str = "", width: int = 460) -> Markup:
    """Horizontal bars, one per (label, value), with the value written at the end of each bar."""
    row, left, top = 22, 150, 28
    height = top + row * max(len(data), 1) + 10
    peak = max((v for _, v in data), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not data:
        parts.append(f'<text x="0" y="{top + 14}" class="chart-empty">no data yet</text>')
    for i, (name, value) in enumerate(data):
        y = top + i * row
        length = (width - left - 60) * value / peak
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(name[:22])}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" fill="{color}"/>')
        shown = f"{value:g}{unit}"
        parts.append(f'<text x="{left + length + 4:.1f}" y="{y + 14}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(title: str, data: list[tuple[str, float]], width: int = 460, height: int = 160) -> Markup:
    """Vertical columns over time (e.g. reports per day), labelled every few days."""
    top, bottom = 26, 22
    peak = max((v for _, v in data), default=0) or 1
    step = (width - 10) / max(len(data), 1)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    span = height - top - bottom
    for i, (name, value) in enumerate(data):
        h = span * value / peak
        x = 5 + i * step
        y = top + span - h
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{step - 2:.1f}" height="{h:.1f}" fill="#3b6ea5">'
            f"<title>{escape(name)}: {value:g}</title></rect>"
        )
        if value:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{value:g}</text>'
            )
        if i % max(1, len(data) // 5) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" class="axis">{escape(name[5:])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
