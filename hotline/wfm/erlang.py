"""Erlang C: how many agents an interval's traffic needs for a service level target.

The M/M/N queue (Poisson arrivals, exponential handling, callers who never hang up) that every
WFM tool uses for inbound voice:

- traffic intensity ``A = calls x AHT / interval length`` (Erlangs: agents busy on average);
- probability that a call waits ``C(N, A)``;
- service level ``SL = 1 - C x exp(-(N - A) x T / AHT)`` (answered within ``T`` seconds);
- average speed of answer ``ASA = C x AHT / (N - A)``;
- occupancy ``A / N``.

``C`` is computed from Erlang B by the recurrence ``B(0) = 1``,
``B(k) = A B(k-1) / (k + A B(k-1))``, then ``C = N B / (N - A (1 - B))``. Every step stays within
0..1, so there is no ``A^N / N!`` to overflow: N = 2,000 agents works as well as N = 2.

Erlang C ignores abandons, so it overstaffs a little for a centre whose callers give up; that is
the safe side, and the industry's common reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 100_000
"""Upper bound of the search: a target no staffing below this meets is a configuration error."""


def traffic_intensity(calls: float, aht_s: float, interval_s: float) -> float:
    """Erlangs offered: ``calls`` per interval of ``interval_s`` seconds, each ``aht_s`` seconds long."""
    if calls < 0 or aht_s < 0:
        raise ValueError(f"calls ({calls}) and AHT ({aht_s} s) cannot be negative")
    if interval_s <= 0:
        raise ValueError(f"interval must be positive, not {interval_s} s")
    return calls * aht_s / interval_s


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of ``agents`` servers offered ``traffic`` Erlangs (no waiting room)."""
    _check(agents, traffic)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits at all; 1.0 when ``agents <= traffic`` (the queue grows forever)."""
    _check(agents, traffic)
    if agents <= traffic:
        return 1.0
    blocking = erlang_b(agents, traffic)
    return agents * blocking / (agents - traffic * (1.0 - blocking))


def service_level(agents: int, traffic: float, aht_s: float, target_s: float) -> float:
    """Fraction (0..1) of calls answered within ``target_s`` seconds."""
    if aht_s <= 0:
        raise ValueError(f"AHT must be positive, not {aht_s} s")
    if agents <= traffic:
        return 0.0
    waits = erlang_c(agents, traffic)
    return max(0.0, 1.0 - waits * math.exp(-(agents - traffic) * target_s / aht_s))


def average_speed_of_answer(agents: int, traffic: float, aht_s: float) -> float:
    """Mean queue wait in seconds over all calls; ``inf`` when ``agents <= traffic``."""
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_s / (agents - traffic)


def occupancy(agents: int, traffic: float) -> float:
    """Fraction of the agents' time spent on calls (capped at 1: more traffic only makes a queue)."""
    if agents <= 0:
        return 1.0 if traffic > 0 else 0.0
    return min(1.0, traffic / agents)


@dataclass(frozen=True, slots=True)
class Staffing:
    """The agents one interval needs and what they achieve."""

    traffic: float
    """Erlangs offered."""
    agents: int
    """Agents on the phones (the Erlang C answer): smallest N meeting both targets."""
    scheduled: int
    """Agents to roster once shrinkage (breaks, training, absence) is allowed for."""
    waiting_probability: float
    service_level: float
    """0..1, within the target time."""
    asa: float
    """Seconds."""
    occupancy: float
    """0..1."""


def agents_needed(
    calls: float,
    aht_s: float,
    interval_s: float,
    *,
    target_service_level: float = 0.80,
    target_s: float = 20.0,
    max_occupancy: float = 0.85,
    shrinkage: float = 0.0,
) -> Staffing:
    """Smallest agent count meeting ``target_service_level`` within ``target_s`` AND ``max_occupancy``.

    ``scheduled = ceil(agents / (1 - shrinkage))``. No calls need no agents.
    """
    if not 0.0 < target_service_level < 1.0:
        raise ValueError(f"target service level must be in (0, 1), not {target_service_level}")
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError(f"maximum occupancy must be in (0, 1], not {max_occupancy}")
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError(f"shrinkage must be in [0, 1), not {shrinkage}")
    if target_s < 0:
        raise ValueError(f"target answer time cannot be negative, not {target_s} s")
    traffic = traffic_intensity(calls, aht_s, interval_s)
    if traffic == 0:
        return Staffing(0.0, 0, 0, 0.0, 1.0, 0.0, 0.0)
    # Neither target can be met with N <= A; the occupancy cap alone already needs A / max.
    agents = max(math.floor(traffic) + 1, math.ceil(traffic / max_occupancy - 1e-9))
    while service_level(agents, traffic, aht_s, target_s) < target_service_level:
        agents += 1
        if agents > MAX_AGENTS:
            raise ValueError(f"{traffic:.1f} Erlangs need more than {MAX_AGENTS} agents: check the inputs")
    return Staffing(
        traffic=traffic,
        agents=agents,
        scheduled=math.ceil(agents / (1.0 - shrinkage) - 1e-9),
        waiting_probability=erlang_c(agents, traffic),
        service_level=service_level(agents, traffic, aht_s, target_s),
        asa=average_speed_of_answer(agents, traffic, aht_s),
        occupancy=occupancy(agents, traffic),
    )


def _check(agents: int, traffic: float) -> None:
    if agents < 0:
        raise ValueError(f"agents cannot be negative, not {agents}")
    if traffic < 0 or math.isnan(traffic):
        raise ValueError(f"traffic must be a non-negative number of Erlangs, not {traffic}")
