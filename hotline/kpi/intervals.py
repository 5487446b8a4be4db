"""Report intervals on the contact center's local clock (15/30/60 minutes, day, week, month).

An interval is a span of the *local wall clock*: the 15-minute interval "10:15" holds every
moment whose local time is in [10:15, 10:30). Its start is the first real moment (epoch) at which
the clock shows a time of the interval. That definition stays right across daylight-saving
changes (Asia/Jakarta has none, but the timezone is configurable):

- the clock jumps forward over 02:00..03:00: the wall times in the gap never happen, so their
  intervals do not exist (or, if a gap ends inside an interval, it starts when the clock resumes);
- the clock falls back and shows 02:00..03:00 twice: each pass is its own interval, told apart
  by ``fold`` and by its UTC offset in the ISO start (``02:00+02:00`` then ``02:00+01:00``).

Minute intervals must divide an hour, so that they also divide every whole-hour DST shift and
line up with the hour. Weeks start on Monday (ISO 8601). Pure functions, no IO.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.config import ConfigError

MINUTE: Final = "minute"
DAY: Final = "day"
WEEK: Final = "week"
MONTH: Final = "month"
_NAMED: Final = {
    "hour": (MINUTE, 60),
    "1h": (MINUTE, 60),
    "day": (DAY, 1),
    "1d": (DAY, 1),
    "week": (WEEK, 1),
    "1w": (WEEK, 1),
    "month": (MONTH, 1),
}
_MINUTES: Final = re.compile(r"(\d{1,2})\s*(m|min|minutes?)?")


@dataclass(frozen=True, slots=True)
class IntervalSpec:
    """How long an interval is: ``minutes`` (a divisor of 60) or one calendar day/week/month."""

    kind: str
    minutes: int = 0

    @property
    def label(self) -> str:
        """A short name for reports: ``15m``, ``60m``, ``day``, ``week``, ``month``."""
        return f"{self.minutes}m" if self.kind == MINUTE else self.kind


def parse_interval(text: str) -> IntervalSpec:
    """Read ``15``, ``30``, ``60``, ``15m``, ``1h``, ``day``, ``week``, ``month``; ConfigError if not."""
    cleaned = text.strip().lower()
    if cleaned in _NAMED:
        kind, amount = _NAMED[cleaned]
        return IntervalSpec(kind, amount if kind == MINUTE else 0)
    match = _MINUTES.fullmatch(cleaned)
    if match and int(match.group(1)) > 0 and 60 % int(match.group(1)) == 0:
        return IntervalSpec(MINUTE, int(match.group(1)))
    raise ConfigError(
        f"--interval: {text!r} is not an interval; use minutes that divide an hour "
        "(15, 30, 60, also 5, 10, 20 ...; '15m' works too), '1h', 'day', 'week' or 'month'"
    )


def zone(name: str) -> ZoneInfo:
    """The contact center's timezone ([kpi] timezone), as a ConfigError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[kpi] timezone: unknown time zone {name!r} (e.g. 'Asia/Jakarta')") from None


def _floor(local: datetime, spec: IntervalSpec) -> datetime:
    """The naive local wall time at which the interval holding ``local`` begins."""
    wall = local.replace(tzinfo=None, fold=0)
    if spec.kind == MINUTE:
        minute = wall.minute - wall.minute % spec.minutes
        return wall.replace(minute=minute, second=0, microsecond=0)
    midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    if spec.kind == WEEK:
        return midnight - timedelta(days=midnight.weekday())
    if spec.kind == MONTH:
        return midnight.replace(day=1)
    return midnight


def _next_wall(wall: datetime, spec: IntervalSpec) -> datetime:
    if spec.kind == MINUTE:
        return wall + timedelta(minutes=spec.minutes)
    if spec.kind == WEEK:
        return wall + timedelta(days=7)
    if spec.kind == MONTH:
        return wall.replace(year=wall.year + wall.month // 12, month=wall.month % 12 + 1)
    return wall + timedelta(days=1)


def _resolve(wall: datetime, fold: int, tz: ZoneInfo) -> float:
    """The epoch at which the local clock shows ``wall`` (pass ``fold`` when it shows it twice).

    A wall time skipped by a jump forward resolves to the moment the clock resumes after it.
    """
    stamp = wall.replace(tzinfo=tz, fold=fold).timestamp()
    if _wall(stamp, tz) == wall:
        return stamp
    # In a gap the two folds straddle the jump: find the first second whose wall time is past it.
    low, high = sorted(wall.replace(tzinfo=tz, fold=f).timestamp() for f in (0, 1))
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(middle, tz) >= wall:
            high = middle
        else:
            low = middle
    return high


def _wall(stamp: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(stamp, tz).replace(tzinfo=None, fold=0)


def interval_start(stamp: float, spec: IntervalSpec, tz: ZoneInfo) -> float:
    """The start (epoch) of the interval holding the moment ``stamp``."""
    local = datetime.fromtimestamp(stamp, tz)
    # Minute intervals inside a repeated hour belong to the pass the moment is in; days begin at
    # the first midnight.
    fold = local.fold if spec.kind == MINUTE else 0
    return _resolve(_floor(local, spec), fold, tz)


def interval_starts(since: float, until: float, spec: IntervalSpec, tz: ZoneInfo) -> list[float]:
    """Every interval start touching [since, until), in order, the first one at or before ``since``."""
    first = interval_start(since, spec, tz)
    folds = (0, 1) if spec.kind == MINUTE else (0,)  # the same rule as interval_start
    starts = {first}
    wall = _floor(datetime.fromtimestamp(since, tz), spec)
    # The second pass of a repeated hour comes after the first pass of the wall times that
    # follow it, so collect every start of the window, then sort.
    while _resolve(wall, 0, tz) < until:
        starts.update(s for s in (_resolve(wall, fold, tz) for fold in folds) if first <= s < until)
        wall = _next_wall(wall, spec)
    return sorted(starts)


def iso(stamp: float, tz: ZoneInfo) -> str:
    """ISO 8601 local time with its UTC offset, e.g. ``2026-11-24T10:15:00+07:00``."""
    return datetime.fromtimestamp(stamp, tz).isoformat()
