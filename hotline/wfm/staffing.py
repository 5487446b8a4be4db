"""Agents needed per interval: the forecast run through Erlang C for the staffing targets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hotline.wfm.erlang import Staffing, agents_needed
from hotline.wfm.forecast import IntervalForecast


@dataclass(frozen=True, slots=True)
class StaffingTarget:
    """What a staffed interval must achieve (defaults: 80 % in 20 s, at most 85 % occupancy)."""

    service_level: float = 0.80
    """Fraction of calls answered within ``answer_s``."""
    answer_s: float = 20.0
    max_occupancy: float = 0.85
    shrinkage: float = 0.0
    """Share of paid time not on the phones (breaks, training, absence): 0.3 rosters 1/0.7 agents."""

    def __post_init__(self) -> None:
        if not 0.0 < self.service_level < 1.0:
            raise ValueError(
                f"target service level must be between 0 and 100 %, not {self.service_level:.0%}"
            )
        if not 0.0 < self.max_occupancy <= 1.0:
            raise ValueError(f"maximum occupancy must be in (0, 100 %], not {self.max_occupancy:.0%}")
        if not 0.0 <= self.shrinkage < 1.0:
            raise ValueError(f"shrinkage must be in [0, 100 %), not {self.shrinkage:.0%}")
        if self.answer_s < 0:
            raise ValueError(f"target answer time cannot be negative, not {self.answer_s} s")


@dataclass(frozen=True, slots=True)
class IntervalPlan:
    """One interval's forecast and the staffing it needs."""

    forecast: IntervalForecast
    staffing: Staffing | None
    """None when calls are expected but no AHT is known (no answered call in the history)."""


def staff_interval(
    calls: float, aht_s: float | None, interval_s: float, target: StaffingTarget
) -> Staffing | None:
    """Erlang C staffing of one interval's load; None when it cannot be known (calls, no AHT)."""
    if calls <= 0:
        return agents_needed(0, 0, interval_s)
    if aht_s is None or aht_s <= 0:
        return None
    return agents_needed(
        calls,
        aht_s,
        interval_s,
        target_service_level=target.service_level,
        target_s=target.answer_s,
        max_occupancy=target.max_occupancy,
        shrinkage=target.shrinkage,
    )


def plan(
    forecasts: Iterable[IntervalForecast], interval_s: float, target: StaffingTarget | None = None
) -> list[IntervalPlan]:
    """The staffing of every forecast interval."""
    wanted = target or StaffingTarget()
    return [IntervalPlan(f, staff_interval(f.offered, f.aht, interval_s, wanted)) for f in forecasts]


def agent_hours(plans: Iterable[IntervalPlan], interval_s: float) -> tuple[float, float]:
    """Total (on-phone, scheduled) agent hours of a plan; unknown intervals count 0."""
    on_phone = scheduled = 0.0
    for item in plans:
        if item.staffing is not None:
            on_phone += item.staffing.agents * interval_s / 3600
            scheduled += item.staffing.scheduled * interval_s / 3600
    return on_phone, scheduled
