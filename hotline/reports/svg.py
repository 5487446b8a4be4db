"""Inline SVG charts for the HTML reports: no script, no library, no network.

A report is mailed and archived; it must open the same in any browser years later, so the charts
are plain SVG elements with their numbers in ``<title>`` tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 36, 56
GOOD, BAD, INK, GRID, TARGET = "#1b7f3b", "#c62828", "#263238", "#d5dbe0", "#ef6c00"


@dataclass(frozen=True, slots=True)
class Series:
    """One line or set of bars."""

    name: str
    values: Sequence[float | None]
    color: str


def _nice_max(value: float) -> float:
    """A round axis top at or above ``value`` whose quarters (the grid lines) are round too.

    Quarters up to 10 are whole numbers, so an axis of call counts never shows 2.5 calls.
    """
    quarter = value / 4
    if quarter <= 10:
        return 4.0 * max(1, math.ceil(quarter))
    power = 10.0 ** math.floor(math.log10(quarter))
    for step in (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5, 10.0):
        if quarter <= step * power:
            return 4 * step * power
    return 40 * power  # pragma: no cover - the loop always ends at 10 x power


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


class _Frame:
    """Axes, grid and label slots shared by the line and bar charts."""

    def __init__(self, title: str, labels: Sequence[str], top: float, unit: str) -> None:
        self.labels = labels
        self.top = top
        self.plot_w = WIDTH - LEFT - RIGHT
        self.plot_h = HEIGHT - TOP - BOTTOM
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'class="chart" aria-label="{escape(title)}">',
            f'<text x="{LEFT}" y="22" class="chart-title">{escape(title)}</text>',
        ]
        for step in range(5):
            value = top * step / 4
            y = self.y(value)
            self.parts.append(
                f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            )
            self.parts.append(
                f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
                f"{_fmt(value)}{escape(unit)}</text>"
            )
        every = max(1, math.ceil(len(labels) / 16))  # at most ~16 labels keep them legible
        for index, label in enumerate(labels):
            if index % every == 0:
                x = self.x(index)
                self.parts.append(
                    f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" class="axis">'
                    f"{escape(label)}</text>"
                )

    def slot(self) -> float:
        return self.plot_w / max(1, len(self.labels))

    def x(self, index: int) -> float:
        return LEFT + self.slot() * (index + 0.5)

    def y(self, value: float) -> float:
        return TOP + self.plot_h * (1 - min(value, self.top) / self.top)

    def target(self, value: float, label: str) -> None:
        y = self.y(value)
        self.parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{TARGET}" '
            'stroke-width="2" stroke-dasharray="8 5"/>'
        )
        self.parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{y - 6:.1f}" text-anchor="end" class="target">'
            f"{escape(label)}</text>"
        )

    def legend(self, series: Sequence[Series]) -> None:
        x = WIDTH - RIGHT
        for item in reversed(series):
            width = 18 + 8 * len(item.name)
            x -= width
            self.parts.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{item.color}"/>')
            self.parts.append(f'<text x="{x + 16}" y="22" class="axis">{escape(item.name)}</text>')

    def close(self) -> str:
        axis = TOP + self.plot_h
        self.parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{axis}" y2="{axis}" stroke="{INK}"/>')
        self.parts.append("</svg>")
        return "\n".join(self.parts)


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    unit: str = "",
    target: float | None = None,
    target_label: str = "",
    higher_is_better: bool = True,
    top: float | None = None,
) -> str:
    """A line over the buckets (gaps where None), points green on target and red off it."""
    known = [v for v in values if v is not None]
    frame = _Frame(title, labels, top or _nice_max(max([*known, target or 0.0, 0.0]) * 1.1), unit)
    if target is not None:
        frame.target(target, target_label)
    segment: list[str] = []
    segments: list[list[str]] = []
    for index, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{frame.x(index):.1f},{frame.y(value):.1f}")
    if segment:
        segments.append(segment)
    for points in segments:
        frame.parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{INK}" stroke-width="2"/>'
        )
    for index, value in enumerate(values):
        if value is None:
            continue
        ok = target is None or (value >= target if higher_is_better else value <= target)
        frame.parts.append(
            f'<circle cx="{frame.x(index):.1f}" cy="{frame.y(value):.1f}" r="4" fill="{GOOD if ok else BAD}">'
            f"<title>{escape(labels[index])}: {value:,.1f}{unit}</title></circle>"
        )
    return frame.close()


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    target: float | None = None,
    target_label: str = "",
    higher_is_better: bool | None = None,
) -> str:
    """Grouped bars, one colour per series, with an optional dashed target line.

    With ``higher_is_better`` (True or False) and a target, each bar is green on target, red off it.
    """
    known = [v for item in series for v in item.values if v is not None]
    frame = _Frame(title, labels, _nice_max(max([*known, target or 0.0, 0.0]) * 1.1), unit)
    width = frame.slot() * 0.8 / max(1, len(series))
    for number, item in enumerate(series):
        for index, value in enumerate(item.values):
            if value is None:
                continue
            x = frame.x(index) - frame.slot() * 0.4 + number * width
            y = frame.y(value)
            color = item.color
            if target is not None and higher_is_better is not None:
                color = GOOD if (value >= target) == higher_is_better or value == target else BAD
            frame.parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width - 1, 1):.1f}" '
                f'height="{TOP + frame.plot_h - y:.1f}" fill="{color}">'
                f"<title>{escape(labels[index])} {escape(item.name)}: {value:,.1f}{unit}</title></rect>"
            )
    if target is not None:
        frame.target(target, target_label)
    if len(series) > 1:
        frame.legend(series)
    return frame.close()
