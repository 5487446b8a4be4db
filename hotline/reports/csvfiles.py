"""A report as CSV files: per bucket, per group, and per group and bucket.

Columns are :meth:`KpiSummary.as_dict` of the KPI module, the same keys and rounding as
``hotline kpi --json``, so a spreadsheet and the command agree to the last digit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.kpi.definitions import KpiSummary
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


def _text(keys: list[str], rows: Iterable[tuple[list[str], KpiSummary | None]]) -> str:
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow([*keys, *_FIELDS])
    for key_values, summary in rows:
        writer.writerow([*key_values, *_values(summary)])
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
    tables[GROUPS] = (
        f"{stem}-by-{report.by}.csv",
        _text(
            [report.by],
            [*(([name], kpis) for name, kpis in report.groups.items()), ([TOTAL], report.overall)],
        ),
    )
    tables[GROUP_BUCKETS] = (
        f"{stem}-by-{report.by}-{report.period.bucket.label}.csv",
        _text(
            [report.by, "start"],
            (
                ([name, iso(start)], kpis)
                for name, series in report.group_buckets.items()
                for start, kpis in series
                if kpis is not None
            ),
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
