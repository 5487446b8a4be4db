"""The daily draw, without IO: the period a working day covers, the peak intervals, the sample.

- The sample of working day D covers the calls from 00:00 of the previous working day to 00:00
  of D (local time), so with Monday-Friday Monday's sample includes the weekend and every call
  falls in exactly one period.
- Peak intervals come from the store's own traffic: calls offered per interval of the day over
  the last weeks; the busiest intervals that together carry ``peak_traffic_share`` of the calls
  are peak, the rest off-peak.
- The draw is seeded with ``seed``, the day and the agent, over candidates in a fixed order: the
  same traffic and seed give the same sample, and one agent's calls do not change another's.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from recording.qc.tables import OFFPEAK, PEAK


@dataclass(frozen=True)
class Candidate:
    """One answered call of one agent that may be drawn."""

    pbx: str
    call_key: str
    """The call's Linkedid (the recording's call id), or the caller channel's Uniqueid."""
    call_id: str
    agent: str
    agent_name: str | None
    team: str | None
    queue: str
    started_at: float
    handle_s: float | None
    stratum: str = OFFPEAK


def local_midnight(day: date, tz: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def previous_working_day(day: date, working_days: frozenset[int]) -> date:
    """The last working day before ``day`` (a week back at most)."""
    for back in range(1, 8):
        candidate = day - timedelta(days=back)
        if candidate.weekday() in working_days:
            return candidate
    raise ValueError("no working day in the week")  # working_days is never empty


def sampling_period(day: date, working_days: frozenset[int], tz: ZoneInfo) -> tuple[float, float]:
    """``[since, until)`` in epoch seconds: the calls the sample of ``day`` is drawn from."""
    start = previous_working_day(day, working_days)
    return local_midnight(start, tz), local_midnight(day, tz)


def interval_of(at: float, tz: ZoneInfo, minutes: int) -> int:
    local = datetime.fromtimestamp(at, tz)
    return (local.hour * 60 + local.minute) // minutes


def interval_label(index: int, minutes: int) -> str:
    start, end = index * minutes, (index + 1) * minutes
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def peak_intervals(offered_at: Iterable[float], tz: ZoneInfo, minutes: int, share: float) -> frozenset[int]:
    """The busiest intervals of the day that together hold at least ``share`` of the calls.

    Ties are broken by the earlier interval, so the answer does not depend on input order.
    No traffic at all: no peak (every call is off-peak).
    """
    counts = Counter(interval_of(at, tz, minutes) for at in offered_at)
    total = sum(counts.values())
    peak: set[int] = set()
    carried = 0
    for index, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if carried >= share * total:
            break
        peak.add(index)
        carried += count
    return frozenset(peak)


def split(n: int, peak_share: float, peak_available: int, offpeak_available: int) -> tuple[int, int]:
    """How many calls to draw from peak and off-peak: ``n`` split by share, a short side filled
    from the other one."""
    wanted_peak = math.floor(n * peak_share + 0.5)
    offpeak = min(offpeak_available, n - min(wanted_peak, peak_available))
    peak = min(peak_available, n - offpeak)
    return peak, offpeak


@dataclass(frozen=True)
class Drawn:
    calls: tuple[Candidate, ...]
    short: tuple[str, ...]
    """Agents who had fewer eligible calls than the sample size."""


def draw(
    candidates: Sequence[Candidate],
    n: int,
    peak_share: float,
    seed: int,
    day: date,
    peak: frozenset[int],
    tz: ZoneInfo,
    minutes: int,
) -> Drawn:
    """Up to ``n`` calls per agent, split between peak and off-peak, reproducibly."""
    by_agent: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        stratum = PEAK if interval_of(candidate.started_at, tz, minutes) in peak else OFFPEAK
        by_agent.setdefault(candidate.agent, []).append(replace(candidate, stratum=stratum))
    chosen: list[Candidate] = []
    short: list[str] = []
    for agent in sorted(by_agent):
        calls = sorted(by_agent[agent], key=lambda c: (c.started_at, c.pbx, c.call_key))
        strata: Mapping[str, list[Candidate]] = {
            PEAK: [c for c in calls if c.stratum == PEAK],
            OFFPEAK: [c for c in calls if c.stratum == OFFPEAK],
        }
        # A string seed is hashed with SHA-512 by random.seed: stable across runs and machines.
        rng = random.Random(f"{seed}:{day.isoformat()}:{agent}")
        take_peak, take_off = split(n, peak_share, len(strata[PEAK]), len(strata[OFFPEAK]))
        picked = rng.sample(strata[PEAK], take_peak) + rng.sample(strata[OFFPEAK], take_off)
        chosen.extend(sorted(picked, key=lambda c: c.started_at))
        if len(picked) < n:
            short.append(agent)
    return Drawn(tuple(chosen), tuple(short))
