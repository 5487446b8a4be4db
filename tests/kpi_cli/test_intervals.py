"""Interval boundaries on the local clock, including the days the clock jumps."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.config import ConfigError
from hotline.kpi.intervals import (
    DAY,
    MINUTE,
    MONTH,
    WEEK,
    IntervalSpec,
    interval_start,
    interval_starts,
    iso,
    parse_interval,
    zone,
)


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("15", IntervalSpec(MINUTE, 15)),
        ("30", IntervalSpec(MINUTE, 30)),
        ("60", IntervalSpec(MINUTE, 60)),
        ("15m", IntervalSpec(MINUTE, 15)),
        ("5 min", IntervalSpec(MINUTE, 5)),
        ("1h", IntervalSpec(MINUTE, 60)),
        ("Hour", IntervalSpec(MINUTE, 60)),
        ("day", IntervalSpec(DAY)),
        ("week", IntervalSpec(WEEK)),
        ("month", IntervalSpec(MONTH)),
    ],
)
def test_interval_names(text: str, spec: IntervalSpec) -> None:
    assert parse_interval(text) == spec


@pytest.mark.parametrize("text", ["0", "7", "45", "90", "-15", "15s", "2h", "", "year"])
def test_intervals_that_do_not_divide_an_hour_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="--interval"):
        parse_interval(text)


def test_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown time zone"):
        zone("Nowhere/Land")


def _at(text: str, tz_name: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone(tz_name)).timestamp()


def _labels(tz_name: str, since: str, until: str, interval: str) -> list[str]:
    tz = zone(tz_name)
    spec = parse_interval(interval)
    return [iso(s, tz)[11:] for s in interval_starts(_at(since, tz_name), _at(until, tz_name), spec, tz)]


def test_jakarta_quarter_hours_align_to_the_local_clock() -> None:
    tz = zone("Asia/Jakarta")
    start = interval_start(_at("2026-11-24T17:23:33", "Asia/Jakarta"), parse_interval("15"), tz)
    assert iso(start, tz) == "2026-11-24T17:15:00+07:00"
    assert _labels("Asia/Jakarta", "2026-11-24T23:40", "2026-11-25T00:31", "15") == [
        "23:30:00+07:00",
        "23:45:00+07:00",
        "00:00:00+07:00",
        "00:15:00+07:00",
        "00:30:00+07:00",
    ]


def test_spring_forward_skips_the_hour_that_never_happens() -> None:
    assert _labels("Europe/Berlin", "2026-03-29T00:30", "2026-03-29T04:00", "60") == [
        "00:00:00+01:00",
        "01:00:00+01:00",
        "03:00:00+02:00",
    ]


def test_fall_back_lists_the_repeated_hour_twice() -> None:
    assert _labels("Europe/Berlin", "2026-10-25T01:00", "2026-10-25T03:00", "30") == [
        "01:00:00+02:00",
        "01:30:00+02:00",
        "02:00:00+02:00",
        "02:30:00+02:00",
        "02:00:00+01:00",
        "02:30:00+01:00",
    ]
    tz = zone("Europe/Berlin")
    second_pass = _at("2026-10-25T02:10", "Europe/Berlin") + 3600  # 02:10 again, after falling back
    assert iso(interval_start(second_pass, parse_interval("60"), tz), tz) == "2026-10-25T02:00:00+01:00"


def test_a_half_hour_jump_starts_the_interval_when_the_clock_resumes() -> None:
    # Lord Howe Island jumps from 02:00 to 02:30.
    assert _labels("Australia/Lord_Howe", "2026-10-04T00:30", "2026-10-04T04:00", "60") == [
        "00:00:00+10:30",
        "01:00:00+10:30",
        "02:30:00+11:00",
        "03:00:00+11:00",
    ]


def test_days_weeks_and_months_start_at_local_midnight() -> None:
    tz = zone("Asia/Jakarta")
    since, until = _at("2026-01-15T12:00", "Asia/Jakarta"), _at("2026-03-02T00:00", "Asia/Jakarta")
    months = [iso(s, tz) for s in interval_starts(since, until, parse_interval("month"), tz)]
    assert months == ["2026-01-01T00:00:00+07:00", "2026-02-01T00:00:00+07:00", "2026-03-01T00:00:00+07:00"]
    weeks = [iso(s, tz)[:10] for s in interval_starts(since, since + 15 * 86400, parse_interval("week"), tz)]
    assert weeks == ["2026-01-12", "2026-01-19", "2026-01-26"]  # Mondays
    berlin = zone("Europe/Berlin")
    days = interval_starts(
        _at("2026-03-28T12:00", "Europe/Berlin"),
        _at("2026-03-31T00:00", "Europe/Berlin"),
        parse_interval("day"),
        berlin,
    )
    assert [iso(s, berlin) for s in days] == [
        "2026-03-28T00:00:00+01:00",
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
    ]
    assert days[2] - days[1] == 23 * 3600  # the short day really is short


ZONES = ["Asia/Jakarta", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
# Around the 2026 clock changes of the zones above, plus a plain stretch.
AROUND = st.sampled_from(
    ["2026-03-08T00:00", "2026-03-29T00:00", "2026-10-04T00:00", "2026-10-25T00:00", "2026-11-01T00:00"]
)


@settings(max_examples=150, deadline=None)
@given(
    tz_name=st.sampled_from(ZONES),
    around=AROUND,
    offset=st.floats(min_value=0, max_value=6 * 3600),
    interval=st.sampled_from(["5", "15", "20", "30", "60", "day"]),
)
def test_every_moment_falls_in_exactly_one_listed_interval(
    tz_name: str, around: str, offset: float, interval: str
) -> None:
    tz, spec = zone(tz_name), parse_interval(interval)
    since = _at(around, tz_name)
    until = since + 6 * 3600
    starts = interval_starts(since, until, spec, tz)
    assert starts == sorted(set(starts))
    moment = since + offset
    start = interval_start(moment, spec, tz)
    assert start in starts or start >= until
    assert start <= moment
    following = [s for s in starts if s > start]
    assert not following or moment < following[0]
