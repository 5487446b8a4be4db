"""The ``[qc]`` section turned into what QC works with: the form, the working days, the clock.

``hotline.config.QcConfig`` keeps plain values (one environment variable each); this module
checks them once, at setup or when a command starts, and says exactly which key is wrong.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import time as clock
from typing import Final

from hotline.config import Config, ConfigError
from recording.qc.form import Form, parse_criteria

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Index = ``date.weekday()``."""


def parse_working_days(names: tuple[str, ...]) -> frozenset[int]:
    """``("mon", "fri")`` -> ``{0, 4}``; at least one day, each a known name."""
    days = set()
    for name in names:
        key = name.strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ConfigError(f"[qc] working_days: {name!r} is not a day (use {', '.join(WEEKDAYS)})")
        days.add(WEEKDAYS.index(key))
    if not days:
        raise ConfigError("[qc] working_days is empty: name at least one day")
    return frozenset(days)


def parse_clock(text: str) -> clock:
    hours, sep, minutes = text.strip().partition(":")
    try:
        value = clock(int(hours), int(minutes)) if sep else None
    except ValueError:
        value = None
    if value is None:
        raise ConfigError(f"[qc] sample_time {text!r} is not a time of day HH:MM")
    return value


def _share(value: float, key: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"[qc] {key} must be between 0 and 1, not {value}")
    return value


@dataclass(frozen=True)
class QcSettings:
    """Everything QC needs from the configuration, checked."""

    timezone: zoneinfo.ZoneInfo
    form: Form
    working_days: frozenset[int]
    sample_time: clock
    auto_sample: bool
    samples_per_agent: int
    peak_share: float
    peak_traffic_share: float
    interval_minutes: int
    traffic_days: int
    seed: int
    calibration_share: float

    @classmethod
    def from_config(cls, config: Config) -> QcSettings:
        section = config.qc
        try:
            tz = zoneinfo.ZoneInfo(config.kpi.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"[kpi] timezone {config.kpi.timezone!r} is not a known time zone") from None
        if section.samples_per_agent < 0:
            raise ConfigError("[qc] samples_per_agent must be >= 0")
        if section.interval_minutes < 1 or 1440 % section.interval_minutes:
            raise ConfigError("[qc] interval_minutes must divide a day (e.g. 15, 30, 60)")
        if section.traffic_days < 1:
            raise ConfigError("[qc] traffic_days must be >= 1")
        if not 0.0 <= section.target <= 100.0:
            raise ConfigError("[qc] target must be between 0 and 100")
        return cls(
            timezone=tz,
            form=Form(parse_criteria(section.criteria), section.target),
            working_days=parse_working_days(section.working_days),
            sample_time=parse_clock(section.sample_time),
            auto_sample=section.auto_sample,
            samples_per_agent=section.samples_per_agent,
            peak_share=_share(section.peak_share, "peak_share"),
            peak_traffic_share=_share(section.peak_traffic_share, "peak_traffic_share"),
            interval_minutes=section.interval_minutes,
            traffic_days=section.traffic_days,
            seed=section.seed,
            calibration_share=_share(section.calibration_share, "calibration_share"),
        )
