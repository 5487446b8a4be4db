"""A report as CSV files: per bucket, per group, and per group and bucket.

Columns are :meth:`KpiSummary.as_dict` of the KPI module, the same keys and rounding as
``hotline kpi --json``, so a spreadsheet and the command agree to the last digit. Per agent, the
agent's time follows (:data:`~hotline.kpi.agent_definitions.AGENT_KEYS`, ``pause_by_reason`` as
``reason=seconds;...``, as ``hotline kpi --csv`` writes it); the total row leaves them empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.kpi.agent_definitions import AGENT_KEYS, AgentTime, zero
from hotline.kpi.definitions import BY_AGENT, KpiSummary
from hotline.kpi.render import reasons_cell
from hotline.reports.model import Report

TOTAL = "total"


_COUNTS = frozenset(
    {
        "offered", "answered", "abandoned", "short_abandoned", "timed_out", "exited", "waiting",
        "acd_calls", "transfers", "ring_no_answer",
    }
)  # fmt: skip
_FIELDS = list(KpiSummary.__dataclass_fields__)


def _values(summary: KpiSummary | None) -> list[Any]:
    if summary is None:  # an idle bucket: no call entered, so counts are 0 and ratios unknown
        return [0 if name in _COUNTS else "" for name in _FIELDS]
    values = summary.as_dict()
    return ["" if values[name] is None else values[name] for name in _FIELDS]


BUCKETS = "buckets"
GROUPS = "groups"
GROUP_BUCKETS = "group_buckets"
TABLES = (BUCKETS, GROUPS, GROUP_BUCKETS)
"""The CSV tables of a report: per bucket, per group, per group and bucket (the last two need ``by``)."""


_Row = tuple[list[str], KpiSummary | None] | tuple[list[str], KpiSummary | None, AgentTime | None]


def _agent_values(time_of: AgentTime | None) -> list[Any]:
    figures = time_of.as_dict() if time_of is not None else zero()
    return [
        reasons_cell(figures[key])
        if key == "pause_by_reason"
        else ""
        if figures[key] is None
        else figures[key]
        for key in AGENT_KEYS
    ]


def _text(keys: list[str], rows: Iterable[_Row], *, agents: bool = False) -> str:
    """CSV of ``rows``; with ``agents`` each row's third item (agent time) fills the agent columns."""
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow([*keys, *_FIELDS, *(AGENT_KEYS if agents else ())])
    for row in rows:
        key_values, summary = row[0], row[1]
        extra: list[Any] = []
        if agents:
            # The total row (two items) has no agent: its agent columns stay empty.
            extra = _agent_values(row[2]) if len(row) == 3 else [""] * len(AGENT_KEYS)
        writer.writerow([*key_values, *_values(summary), *extra])
    return handle.getvalue()


def csv_tables(report: Report, stem: str, tz: ZoneInfo) -> dict[str, tuple[str, str]]:
    """Each table of the report: ``{table: (file name, CSV text)}`` (see :data:`TABLES`)."""

    def iso(start: float) -> str:
        return datetime.fromtimestamp(start, tz).isoformat()

    tables = {
        BUCKETS: (
            f"{stem}.csv",
            _text(
                ["start"],
                [*(([iso(start)], kpis) for start, kpis in report.buckets), ([TOTAL], report.overall)],
            ),
        )
    }
    if report.by is None:
        return tables
    agents = report.by == BY_AGENT
    group_rows: list[_Row] = [
        ([name], kpis, report.agent_time.get(name)) for name, kpis in report.groups.items()
    ]
    tables[GROUPS] = (
        f"{stem}-by-{report.by}.csv",
        _text([report.by], [*group_rows, ([TOTAL], report.overall)], agents=agents),
    )
    tables[GROUP_BUCKETS] = (
        f"{stem}-by-{report.by}-{report.period.bucket.label}.csv",
        _text(
            [report.by, "start"],
            (
                ([name, iso(start)], kpis, report.agent_time_buckets.get(name, {}).get(start))
                for name, series in report.group_buckets.items()
                for start, kpis in series
                # A bucket is listed when a call entered or the agent was logged in.
                if kpis is not None or start in report.agent_time_buckets.get(name, {})
            ),
            agents=agents,
        ),
    )
    return tables


def write_csv(report: Report, out: Path, stem: str, tz: ZoneInfo) -> list[Path]:
    """Write the report's CSV files into ``out``; returns their paths."""
    written = []
    for name, text in csv_tables(report, stem, tz).values():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written
