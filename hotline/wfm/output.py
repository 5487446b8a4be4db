"""How ``hotline wfm`` prints a plan or a comparison: a table, one JSON object, or CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.wfm.compare import Comparison
from hotline.wfm.staffing import IntervalPlan, StaffingTarget, agent_hours

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Header:
    """What was asked: printed above a table, kept as the top keys of the JSON object."""

    first_day: date
    last_day: date
    interval_minutes: int
    weeks: int
    weighting: str
    target: StaffingTarget
    queue: str | None
    pbx: str | None

    def as_dict(self) -> Row:
        return {
            "date": self.first_day.isoformat(),
            "last_date": self.last_day.isoformat(),
            "interval_minutes": self.interval_minutes,
            "weeks": self.weeks,
            "weighting": self.weighting,
            "target": {
                "service_level": self.target.service_level * 100,
                "answer_seconds": self.target.answer_s,
                "max_occupancy": self.target.max_occupancy * 100,
                "shrinkage": self.target.shrinkage * 100,
            },
            "queue": self.queue,
            "pbx": self.pbx,
        }

    def title(self, what: str) -> str:
        days = self.first_day.isoformat()
        if self.last_day != self.first_day:
            days += f" .. {self.last_day.isoformat()}"
        scope = "".join(f", {k} {v}" for k, v in (("queue", self.queue), ("pbx", self.pbx)) if v)
        t = self.target
        return (
            f"{what} {days}{scope}: {self.interval_minutes}-min intervals, {self.weeks} weeks "
            f"({self.weighting}); target {t.service_level:.0%} in {t.answer_s:g} s, "
            f"occupancy <= {t.max_occupancy:.0%}, shrinkage {t.shrinkage:.0%}"
        )


def _r(value: float | None, digits: int = 1) -> float | None:
    if value is None or math.isinf(value):
        return None
    return round(value, digits)


def _local(stamp: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(stamp, tz).isoformat()


def plan_rows(plans: Sequence[IntervalPlan], tz: ZoneInfo) -> list[Row]:
    """One flat row per interval (the JSON ``intervals`` and the CSV lines)."""
    rows: list[Row] = []
    for item in plans:
        f, s = item.forecast, item.staffing
        rows.append(
            {
                "start": _local(f.start, tz),
                "offered": _r(f.offered, 2),
                "aht": _r(f.aht),
                "weeks": f.weeks,
                "traffic": _r(s.traffic, 3) if s else None,
                "agents": s.agents if s else None,
                "scheduled": s.scheduled if s else None,
                "service_level": _r(s.service_level * 100, 2) if s else None,
                "asa": _r(s.asa) if s else None,
                "occupancy": _r(s.occupancy * 100, 2) if s else None,
            }
        )
    return rows


def comparison_rows(result: Comparison, tz: ZoneInfo) -> list[Row]:
    return [
        {
            "start": _local(row.start, tz),
            "complete": row.complete,
            "forecast_offered": _r(row.forecast_offered, 2),
            "actual_offered": row.actual_offered,
            "error": _r(row.error, 2),
            "abs_error": _r(row.abs_error, 2),
            "percent_error": _r(row.percent_error, 2),
            "forecast_aht": _r(row.forecast_aht),
            "actual_aht": _r(row.actual_aht),
            "forecast_agents": row.forecast_agents,
            "actual_agents": row.actual_agents,
        }
        for row in result.rows
    ]


def _csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def _json(obj: Row) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(rows: list[Row], columns: Sequence[tuple[str, str]], with_date: bool = False) -> list[str]:
    cells = [[label for _, label in columns]]
    for row in rows:
        # "2026-03-10T10:30:00+07:00" -> "10:30", or "03-10 10:30" when several days are shown.
        start = row["start"][5:16].replace("T", " ") if with_date else row["start"][11:16]
        cells.append([start if key == "start" else _cell(row[key]) for key, _ in columns])
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]


def forecast_text(
    header: Header, plans: Sequence[IntervalPlan], tz: ZoneInfo, as_json: bool, as_csv: bool
) -> str:
    """The staffing plan as text, JSON or CSV."""
    rows = plan_rows(plans, tz)
    if as_csv:
        return _csv(rows)
    on_phone, scheduled = agent_hours(plans, header.interval_minutes * 60)
    totals = {
        "offered": _r(sum(p.forecast.offered for p in plans), 1),
        "agent_hours": _r(on_phone, 1),
        "scheduled_hours": _r(scheduled, 1),
        "peak_agents": max((p.staffing.agents for p in plans if p.staffing), default=0),
        "no_history": not any(p.forecast.weeks for p in plans),
    }
    if as_json:
        return _json({**header.as_dict(), "intervals": rows, "totals": totals})
    columns = [("start", "interval"), ("offered", "offered"), ("aht", "AHT s"), ("traffic", "Erl")]
    columns += [("agents", "agents"), ("scheduled", "roster"), ("service_level", "SL %")]
    columns += [("asa", "ASA s"), ("occupancy", "occ %"), ("weeks", "weeks")]
    lines = [header.title("Forecast"), *_table(rows, columns, header.last_day != header.first_day)]
    lines.append(
        f"total offered {totals['offered']}, {totals['agent_hours']} agent hours on the phones, "
        f"{totals['scheduled_hours']} rostered, peak {totals['peak_agents']} agents"
    )
    if totals["no_history"]:
        lines.append("no history for these weekdays in the store: the forecast is empty")
    return "\n".join(lines) + "\n"


def comparison_text(
    header: Header, result: Comparison, tz: ZoneInfo, now: float, as_json: bool, as_csv: bool
) -> str:
    """Forecast vs actual as text, JSON or CSV."""
    rows = comparison_rows(result, tz)
    if as_csv:
        return _csv(rows)
    acc = result.accuracy
    summary = {
        "as_of": _local(now, tz),
        "day_complete": result.day_complete,
        "compared_intervals": acc.intervals,
        "forecast_offered_so_far": _r(acc.forecast_offered, 1),
        "actual_offered_so_far": acc.actual_offered,
        "mape": _r(acc.mape, 2),
        "wape": _r(acc.wape, 2),
        "forecast_offered_day": _r(result.forecast_offered, 1),
        "projected_offered_day": _r(result.projected_offered, 1),
    }
    if as_json:
        return _json({**header.as_dict(), **summary, "intervals": rows})
    columns = [("start", "interval"), ("forecast_offered", "forecast"), ("actual_offered", "actual")]
    columns += [("error", "error"), ("percent_error", "error %"), ("forecast_aht", "AHT fc")]
    columns += [("actual_aht", "AHT act"), ("forecast_agents", "agents fc"), ("actual_agents", "agents act")]
    columns += [("complete", "ended")]
    state = "end of day" if result.day_complete else f"intraday as of {summary['as_of']}"
    lines = [header.title("Forecast vs actual"), *_table(rows, columns)]
    lines.append(
        f"{state}: {acc.intervals} intervals compared, forecast {summary['forecast_offered_so_far']} "
        f"vs actual {acc.actual_offered} calls; MAPE {_cell(summary['mape'])} %, "
        f"WAPE {_cell(summary['wape'])} %"
    )
    if not result.day_complete:
        lines.append(
            f"day forecast {summary['forecast_offered_day']} calls, projected "
            f"{summary['projected_offered_day']} (actual so far + forecast of the rest)"
        )
    return "\n".join(lines) + "\n"
