"""QM reports: per agent and week or month, the average score, the criteria below target, the trend.

Built from the review score in force of each sampled call, bucketed by the call's local date
(a call of Friday scored on Monday counts for Friday's week). The trend of a period is its
average minus the agent's previous period with scores. Output as JSON, CSV, or an inline SVG
line chart against the target (:func:`hotline.reports.svg.line_chart`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.users import transaction
from hotline.reports.svg import line_chart
from recording.qc.form import weighted_total
from recording.qc.scores import in_force, scores_of
from recording.qc.tables import REVIEW, qc_score, sampled_call

Grain = Literal["week", "month"]
GRAINS: Final = ("week", "month")
CSV_COLUMNS: Final = (
    "agent",
    "agent_name",
    "team",
    "period",
    "calls",
    "average_qm",
    "target",
    "target_met",
    "below_target",
    "trend",
)


def period_of(day: date, grain: Grain) -> str:
    """``2025-W03`` (ISO week) or ``2025-01``."""
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def periods_between(first: date, last: date, grain: Grain) -> list[str]:
    labels: list[str] = []
    day = first
    while day <= last:
        label = period_of(day, grain)
        if not labels or labels[-1] != label:
            labels.append(label)
        day += timedelta(days=1)
    return labels


@dataclass(frozen=True)
class Report:
    grain: Grain
    target: float
    periods: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    series: tuple[float | None, ...]
    """Average QM of every call in each period (all agents in the report), for the chart."""
    title: str

    def public(self) -> dict[str, Any]:
        return {
            "grain": self.grain,
            "target": self.target,
            "periods": list(self.periods),
            "rows": list(self.rows),
            "series": list(self.series),
        }

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.rows:
            values = {**row, "below_target": ";".join(row["below_target"]), "target": self.target}
            writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
        return out.getvalue()

    def svg(self) -> str:
        return line_chart(
            self.title,
            list(self.periods),
            list(self.series),
            target=self.target,
            target_label=f"target {self.target:g}",
            top=100.0,
        )


async def _scored_calls(
    engine: AsyncEngine, since: float, until: float, agent: str | None, team: str | None
) -> list[Any]:
    has_review = sa.exists().where(qc_score.c.sampled_call_id == sampled_call.c.id, qc_score.c.kind == REVIEW)
    query = sa.select(sampled_call).where(
        sampled_call.c.started_at >= since, sampled_call.c.started_at < until, has_review
    )
    if agent is not None:
        query = query.where(sampled_call.c.agent == agent)
    if team is not None:
        query = query.where(sa.func.lower(sampled_call.c.team) == team.strip().lower())
    async with transaction(engine, "read scored calls") as connection:
        return list((await connection.execute(query.order_by(sampled_call.c.started_at))).all())


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


async def build(
    engine: AsyncEngine,
    first: date,
    last: date,
    tz: ZoneInfo,
    target: float,
    *,
    grain: Grain = "week",
    agent: str | None = None,
    team: str | None = None,
) -> Report:
    """The report over the calls of local days ``first`` to ``last`` (inclusive)."""
    since = datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()
    end = last + timedelta(days=1)
    until = datetime(end.year, end.month, end.day, tzinfo=tz).timestamp()
    calls = await _scored_calls(engine, since, until, agent, team)
    chains = in_force(await scores_of(engine, [int(c.id) for c in calls]))
    groups: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
    by_period: dict[str, list[float]] = {}
    for call in calls:
        pair = chains.get((int(call.id), REVIEW))
        if pair is None:
            continue
        period = period_of(datetime.fromtimestamp(call.started_at, tz).date(), grain)
        groups.setdefault((call.agent, period), []).append((call, pair[1]))
        by_period.setdefault(period, []).append(pair[1].total)
    periods = periods_between(first, last, grain)
    rows: list[dict[str, Any]] = []
    previous: dict[str, float] = {}
    for agent_key, period in sorted(
        groups, key=lambda k: (k[0], periods.index(k[1]) if k[1] in periods else 0)
    ):
        members = groups[(agent_key, period)]
        average = _mean([score.total for _, score in members])
        criteria: dict[str, float | None] = {}
        for key in dict.fromkeys(k for _, s in members for k, _, _ in s.items):
            criteria[key] = weighted_total((1.0, s.ratings().get(key)) for _, s in members)
        last_call = members[-1][0]
        before = previous.get(agent_key)
        rows.append(
            {
                "agent": agent_key,
                "agent_name": last_call.agent_name,
                "team": last_call.team,
                "period": period,
                "calls": len(members),
                "average_qm": average,
                "target_met": average is not None and average >= target,
                "criteria": criteria,
                "below_target": [k for k, v in criteria.items() if v is not None and v < target],
                "trend": None if before is None or average is None else round(average - before, 1),
            }
        )
        if average is not None:
            previous[agent_key] = average
    series = tuple(_mean(by_period.get(p, [])) for p in periods)
    who = f"agent {agent}" if agent else f"team {team}" if team else "all agents"
    title = f"Average QM per {grain}, {who}"
    return Report(grain, target, tuple(periods), tuple(rows), series, title)
