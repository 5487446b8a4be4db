"""The daily sample in the store: read the traffic, draw (:mod:`recording.qc.sampling`), keep it.

Candidates are the answered queue attempts of the period (``queue_attempt``, the KPI facts), one
per call and agent. An attempt's agent is resolved to the agent's user (by phone interface, then
by name) so the sample carries the username and team the access rules use. A call already in
``sampled_call`` is never a candidate again, and the table's unique key on the call makes a
concurrent draw lose the race instead of drawing a call twice. Drawing a day again adds only
agents who had no sample that day (late traffic), so a retried job changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.auth.model import User, interface_of
from hotline.auth.users import list_users, transaction
from hotline.store.models import Base, QueueAttemptRow
from hotline.store.repo import load_attempts
from recording.qc.sampling import (
    Candidate,
    draw,
    interval_label,
    peak_intervals,
    sampling_period,
)
from recording.qc.settings import QcSettings
from recording.qc.tables import PEAK, sampled_call

_ATTEMPT: Final = Base.metadata.tables[QueueAttemptRow.__tablename__]
_CHUNK: Final = 500
_SOURCE_RANK: Final = {"ami": 0, "queue_log": 1}
"""Both projections may hold the same attempt; the AMI one knows the Linkedid and interface."""


@dataclass(frozen=True)
class SampleSummary:
    """What one draw did (printed by ``hotline qc sample``, returned by the API)."""

    day: date
    since: float
    until: float
    peak_intervals: tuple[str, ...]
    agents: int
    drawn: int
    peak_calls: int
    offpeak_calls: int
    already_sampled: tuple[str, ...]
    short: tuple[str, ...]

    def public(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "since": self.since,
            "until": self.until,
            "peak_intervals": list(self.peak_intervals),
            "agents": self.agents,
            "drawn": self.drawn,
            "peak_calls": self.peak_calls,
            "offpeak_calls": self.offpeak_calls,
            "already_sampled": list(self.already_sampled),
            "short": list(self.short),
        }


class AgentDirectory:
    """Queue member -> (username, display name, team) of the agent user, when one matches."""

    def __init__(self, users: Iterable[User]) -> None:
        self.by_iface: dict[str, User] = {}
        self.by_name: dict[str, User] = {}
        for user in users:
            if user.iface:
                self.by_iface[interface_of(user.iface)] = user
            self.by_name[user.username.casefold()] = user
            self.by_name.setdefault(user.display_name.casefold(), user)

    def resolve(self, member: str, interface: str | None, pbx: str) -> tuple[str, str | None, str | None]:
        user = self.by_iface.get(interface_of(interface)) if interface else None
        if user is not None and user.pbx not in (None, pbx):
            user = None  # both sites may have an extension 1001
        if user is None:
            user = self.by_name.get(member.strip().casefold())
        if user is None:
            return member[:64], None, None
        return user.username, user.display_name, user.team


def _best_attempts(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    best: dict[tuple[str, str, int], dict[str, Any]] = {}
    for row in rows:
        key = (row["pbx"], row["call_id"], row["attempt"])
        kept = best.get(key)
        if kept is None or _SOURCE_RANK.get(row["source"], 9) < _SOURCE_RANK.get(kept["source"], 9):
            best[key] = row
    return list(best.values())


def candidates(attempts: Iterable[dict[str, Any]], directory: AgentDirectory) -> list[Candidate]:
    """One candidate per answered call and agent (a transferred call may have two agents)."""
    found: dict[tuple[str, str, str], Candidate] = {}
    for row in _best_attempts(attempts):
        if row["outcome"] != "answered" or not row["agent"]:
            continue
        agent, name, team = directory.resolve(row["agent"], row["agent_interface"], row["pbx"])
        call_key = str(row["linkedid"] or row["call_id"])[:64]
        key = (row["pbx"], call_key, agent)
        if key not in found:
            found[key] = Candidate(
                pbx=row["pbx"],
                call_key=call_key,
                call_id=str(row["call_id"])[:64],
                agent=agent,
                agent_name=name,
                team=team,
                queue=str(row["queue"])[:64],
                started_at=float(row["connected_at"] or row["entered_at"]),
                handle_s=row["handle_s"],
            )
    return list(found.values())


async def _offered_times(engine: AsyncEngine, since: float, until: float) -> list[float]:
    # One time per attempt, whichever projections stored it; only the column the peak needs.
    query = (
        sa.select(sa.func.min(_ATTEMPT.c.entered_at))
        .where(_ATTEMPT.c.entered_at >= since, _ATTEMPT.c.entered_at < until)
        .group_by(_ATTEMPT.c.pbx, _ATTEMPT.c.call_id, _ATTEMPT.c.attempt)
    )
    async with transaction(engine, "read the queue traffic") as connection:
        return [float(value) for value in (await connection.execute(query)).scalars()]


async def _taken(connection: AsyncConnection, calls: Sequence[Candidate]) -> set[tuple[str, str]]:
    keys = sorted({c.call_key for c in calls})
    taken: set[tuple[str, str]] = set()
    for start in range(0, len(keys), _CHUNK):
        query = sa.select(sampled_call.c.pbx, sampled_call.c.call_key).where(
            sampled_call.c.call_key.in_(keys[start : start + _CHUNK])
        )
        taken.update((row.pbx, row.call_key) for row in await connection.execute(query))
    return taken


def _insert(connection: AsyncConnection) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(sampled_call).on_conflict_do_nothing(index_elements=["pbx", "call_key"])


async def draw_sample(
    engine: AsyncEngine, settings: QcSettings, day: date, *, drawn_by: str = "cli"
) -> SampleSummary:
    """Draw and store the sample of working day ``day``; see the module docstring."""
    since, until = sampling_period(day, settings.working_days, settings.timezone)
    traffic = await _offered_times(engine, until - settings.traffic_days * 86_400.0, until)
    peak = peak_intervals(traffic, settings.timezone, settings.interval_minutes, settings.peak_traffic_share)
    directory = AgentDirectory(await list_users(engine, role="agent"))
    pool = candidates(await load_attempts(engine, since=since, until=until), directory)
    async with transaction(engine, "draw the QC sample") as connection:
        done_query = sa.select(sampled_call.c.agent).where(sampled_call.c.sample_date == day).distinct()
        already = {row.agent for row in await connection.execute(done_query)}
        taken = await _taken(connection, pool)
        pool = [c for c in pool if c.agent not in already and (c.pbx, c.call_key) not in taken]
        drawn = draw(
            pool,
            settings.samples_per_agent,
            settings.peak_share,
            settings.seed,
            day,
            peak,
            settings.timezone,
            settings.interval_minutes,
        )
        stored: list[Candidate] = []
        now = time.time()
        for call in drawn.calls:
            values = {**call.__dict__, "sample_date": day, "seed": settings.seed}
            values.update(drawn_at=now, drawn_by=drawn_by[:64])
            result = await connection.execute(_insert(connection).values(values))
            if result.rowcount:
                stored.append(call)
    return SampleSummary(
        day=day,
        since=since,
        until=until,
        peak_intervals=tuple(interval_label(i, settings.interval_minutes) for i in sorted(peak)),
        agents=len({c.agent for c in stored}),
        drawn=len(stored),
        peak_calls=sum(1 for c in stored if c.stratum == PEAK),
        offpeak_calls=sum(1 for c in stored if c.stratum != PEAK),
        already_sampled=tuple(sorted(already)),
        short=drawn.short,
    )
