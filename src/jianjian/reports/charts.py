"""Server-rendered SVG charts: no JavaScript, nothing to download, prints and screenshots as is.

Each chart is a small ``<svg>`` with a ``viewBox`` so it scales to the page width, a legend, and
a ``<title>`` per mark (the browser shows the value on hover or long-press).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 28, 34


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    colour: str


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return value


def _frame(labels: Sequence[str], top: float, title: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" font-size="11">'
    ]
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d8dee4"/>'
        )
        out.append(
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#5b6b78">{value:g}</text>'
        )
    step = max(1, len(labels) // 10)
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = LEFT + slot * (i + 0.5)
            out.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
                f'fill="#5b6b78">{escape(label)}</text>'
            )
    return out


def _legend(series: Sequence[Series]) -> list[str]:
    out, x = [], LEFT
    for s in series:
        out.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{s.colour}"/>')
        out.append(f'<text x="{x + 14}" y="17">{escape(s.label)}</text>')
        x += 24 + 12 * len(s.label) if not s.label.isascii() else 24 + 7 * len(s.label)
    return out


def bars(labels: Sequence[str], series: Sequence[Series], title: str) -> SafeString:
    """Grouped bars: one group per label, one bar per series."""
    top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    out = _frame(labels, top, title)
    for si, s in enumerate(series):
        for i, value in enumerate(s.values):
            if not value:
                continue
            h = plot_h * value / top
            x = LEFT + slot * i + slot * 0.1 + bar_w * si
            out.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{s.colour}"><title>{escape(labels[i])} '
                f"{escape(s.label)}: {value:g}</title></rect>"
            )
    out += _legend(series)
    out.append("</svg>")
    return mark_safe("".join(out))  # every text above went through escape()


def lines(labels: Sequence[str], series: Sequence[Series], title: str) -> SafeString:
    """One polyline per series; gaps (None) break the line."""
    top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    out = _frame(labels, top, title)
    for s in series:
        points: list[str] = []
        segments: list[list[str]] = [points]
        for i, value in enumerate(s.values):
            if value is None:
                points = []
                segments.append(points)
                continue
            x = LEFT + slot * (i + 0.5)
            y = TOP + plot_h - plot_h * value / top
            points.append(f"{x:.1f},{y:.1f}")
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{s.colour}"><title>'
                f"{escape(labels[i])} {escape(s.label)}: {value:g}</title></circle>"
            )
        for seg in segments:
            if len(seg) > 1:
                out.append(
                    f'<polyline fill="none" stroke="{s.colour}" stroke-width="2" '
                    f'points="{" ".join(seg)}"/>'
                )
    out += _legend(series)
    out.append("</svg>")
    return mark_safe("".join(out))  # every text above went through escape()
