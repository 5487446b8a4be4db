"""A :class:`~hotline.kpi.report.KpiReport` as a readable table or as CSV.

CSV has a header row and a stable column order: the group column (named after ``--by``) when
grouped, ``start`` when per interval, then :data:`~hotline.kpi.report.SUMMARY_KEYS`. Missing
values (an SCR with nothing offered) are empty cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, Final

from hotline.kpi.report import SUMMARY_KEYS, Figures, KpiReport

# Columns of the text tables: (key, heading, format).
_TABLE: Final = (
    ("offered", "offered", "{:d}"),
    ("answered", "answered", "{:d}"),
    ("abandoned", "abandoned", "{:d}"),
    ("short_abandoned", "short ab.", "{:d}"),
    ("scr", "SCR %", "{:.2f}"),
    ("aht", "AHT s", "{:.1f}"),
    ("asa", "ASA s", "{:.1f}"),
    ("service_level", "SL %", "{:.2f}"),
    ("longest_wait", "max wait s", "{:.1f}"),
    ("transfers", "transfers", "{:d}"),
)


def to_csv(report: KpiReport, by: str | None) -> str:
    """One row per group and interval, per group, per interval, or one row overall."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ([by] if by and report.groups is not None else []) + (
        ["start"] if report.intervals is not None else []
    )
    writer.writerow([*header, *SUMMARY_KEYS])
    for leading, figures in _csv_rows(report):
        writer.writerow([*leading, *(_cell(figures.get(key)) for key in SUMMARY_KEYS)])
    return out.getvalue()


def _csv_rows(report: KpiReport) -> Iterator[tuple[list[str], Figures]]:
    if report.groups is not None:
        for name, figures in report.groups.items():
            if report.intervals is None:
                yield [name], figures
            else:
                for row in report.group_intervals.get(name, []):
                    yield [name, row["start"]], row
    elif report.intervals is not None:
        for row in report.intervals:
            yield [row["start"]], row
    else:
        yield [], report.overall


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def to_text(report: KpiReport, title: str, *, scr_target: float, aht_target: float, by: str | None) -> str:
    """The overall figures against their targets, then the interval and group tables."""
    figures = report.overall
    lines = [
        title,
        f"  offered    {figures['offered']}",
        f"  answered   {figures['answered']}",
        f"  abandoned  {figures['abandoned']}  (short, within the threshold: {figures['short_abandoned']})",
        f"  SCR        {_show(figures['scr'], '{:.2f} %')}   (target >= {scr_target:g} %)",
        f"  AHT        {_show(figures['aht'], '{:.1f} s')}   (target <= {aht_target:g} s)",
        f"  ASA        {_show(figures['asa'], '{:.1f} s')}",
        f"  service    {_show(figures['service_level'], '{:.2f} %')}",
        f"  max wait   {_show(figures['longest_wait'], '{:.1f} s')}",
    ]
    if report.intervals is not None:
        lines += ["", *_table("start", [(row["start"], row) for row in report.intervals])]
    if report.groups is not None:
        label = by or "group"
        lines += ["", *_table(label, list(report.groups.items()))]
        for name, rows in report.group_intervals.items():
            lines += ["", f"{label} {name}", *_table("start", [(row["start"], row) for row in rows])]
    return "\n".join(lines)


def _show(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _table(first: str, rows: list[tuple[str, Figures]]) -> list[str]:
    headings = [first] + [heading for _, heading, _ in _TABLE]
    cells = [[name] + [_show(figures.get(key), fmt) for key, _, fmt in _TABLE] for name, figures in rows]
    widths = [max(len(row[i]) for row in [headings, *cells]) for i in range(len(headings))]

    def line(row: list[str]) -> str:
        # Names left-aligned, numbers right-aligned: columns of figures read best that way.
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    return [line(headings), *(line(row) for row in cells)] if cells else [line(headings), "(no calls)"]
