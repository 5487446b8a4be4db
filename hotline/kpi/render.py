"""A :class:`~hotline.kpi.report.KpiReport` as a readable table or as CSV.

CSV has a header row and a stable column order: the group column (named after ``--by``) when
grouped, ``start`` when per interval, then :data:`~hotline.kpi.report.SUMMARY_KEYS`, and per agent
:data:`~hotline.kpi.agent_definitions.AGENT_KEYS` after them. Missing values (an SCR with nothing
offered) are empty cells. ``pause_by_reason`` is one cell, ``reason=seconds`` pairs joined by
``;`` in reason order (``istirahat=600.0;makan=1800.0``; a pause without a reason is ``=seconds``);
``%``, ``;`` and ``=`` inside a reason are written ``%25``, ``%3B`` and ``%3D``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any, Final

from hotline.kpi.agent_definitions import AGENT_KEYS
from hotline.kpi.definitions import BY_AGENT
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
_AGENT_TABLE: Final = (
    ("login_s", "login s", "{:.0f}"),
    ("pause_s", "pause s", "{:.0f}"),
    ("available_s", "avail s", "{:.0f}"),
    ("occupancy", "occ %", "{:.2f}"),
)


def to_csv(report: KpiReport, by: str | None) -> str:
    """One row per group and interval, per group, per interval, or one row overall."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ([by] if by and report.groups is not None else []) + (
        ["start"] if report.intervals is not None else []
    )
    keys = (*SUMMARY_KEYS, *AGENT_KEYS) if by == BY_AGENT and report.groups is not None else SUMMARY_KEYS
    writer.writerow([*header, *keys])
    for leading, figures in _csv_rows(report):
        writer.writerow([*leading, *(_cell(figures.get(key)) for key in keys)])
    return out.getvalue()


def reasons_cell(seconds_by_reason: dict[str, float]) -> str:
    """``istirahat=600.0;makan=1800.0``: the pause seconds per reason in one CSV cell."""
    return ";".join(f"{_escape(reason)}={seconds}" for reason, seconds in sorted(seconds_by_reason.items()))


def _escape(reason: str) -> str:
    return reason.replace("%", "%25").replace(";", "%3B").replace("=", "%3D")


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
    if isinstance(value, dict):
        return reasons_cell(value)
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
        columns = (*_TABLE, *_AGENT_TABLE) if by == BY_AGENT else _TABLE
        lines += ["", *_table(label, list(report.groups.items()), columns)]
        if by == BY_AGENT:
            lines += _pauses(report.groups)
        for name, rows in report.group_intervals.items():
            lines += ["", f"{label} {name}", *_table("start", [(row["start"], row) for row in rows], columns)]
    return "\n".join(lines)


def _pauses(groups: dict[str, Figures]) -> list[str]:
    """Each agent's pause seconds per reason (wrap-up included), under the agent table."""
    rows = [
        f"  {name}: "
        + ", ".join(f"{reason or '(no reason)'} {seconds:.0f} s" for reason, seconds in by.items())
        for name, figures in groups.items()
        if (by := figures.get("pause_by_reason"))
    ]
    return ["", "pause by reason", *rows] if rows else []


def _show(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _table(
    first: str, rows: list[tuple[str, Figures]], columns: tuple[tuple[str, str, str], ...] = _TABLE
) -> list[str]:
    headings = [first] + [heading for _, heading, _ in columns]
    cells = [[name] + [_show(figures.get(key), fmt) for key, _, fmt in columns] for name, figures in rows]
    widths = [max(len(row[i]) for row in [headings, *cells]) for i in range(len(headings))]

    def line(row: list[str]) -> str:
        # Names left-aligned, numbers right-aligned: columns of figures read best that way.
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    return [line(headings), *(line(row) for row in cells)] if cells else [line(headings), "(no calls)"]
