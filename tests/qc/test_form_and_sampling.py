"""The scoring form and the draw, without a database: weights, n/a, periods, peak, reproducibility."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.config import Config, ConfigError, QcConfig
from recording.qc.form import Form, ScoreError, parse_criteria
from recording.qc.sampling import Candidate, draw, interval_label, peak_intervals, sampling_period, split
from recording.qc.scheduler import next_run
from recording.qc.settings import QcSettings
from recording.qc.tables import OFFPEAK, PEAK
from tests.qc.helpers import MONDAY, TZ

FORM = Form(parse_criteria(QcConfig().criteria), 90.0)
ALL_YES = {c.key: 100 for c in FORM.criteria}


def test_default_form_follows_the_manual_and_weights_make_the_total() -> None:
    assert [c.key for c in FORM.criteria] == [
        "greeting",
        "identification",
        "needs",
        "accuracy",
        "empathy",
        "closing",
        "cross_selling",
    ]
    assert FORM.sheet(ALL_YES).total == 100.0
    # accuracy weighs 25 of 100: missing it entirely costs 25 points.
    assert FORM.sheet({**ALL_YES, "accuracy": 0}).total == 75.0
    # Cross-selling not applicable: scored over the other 90 weight, still 100.
    assert FORM.sheet({**ALL_YES, "cross_selling": None}).total == 100.0
    assert FORM.sheet({**ALL_YES, "cross_selling": None, "closing": 50}).total == round(100 - 500 / 90, 1)


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        ("nope", "must be an object"),
        ({**ALL_YES, "smile": 100}, "unknown criteria smile"),
        ({k: v for k, v in ALL_YES.items() if k != "empathy"}, "empathy is not rated"),
        ({**ALL_YES, "greeting": 101}, "outside 0-100"),
        ({**ALL_YES, "greeting": True}, "number 0-100 or null"),
        ({**ALL_YES, "greeting": "100"}, "number 0-100 or null"),
        ({k: None for k in ALL_YES}, "at least one criterion"),
    ],
)
def test_bad_ratings_are_refused_with_the_reason(ratings: Any, message: str) -> None:
    with pytest.raises(ScoreError, match=message):
        FORM.sheet(ratings)


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (("greeting",), "not <name>=<weight>"),
        (("greeting=0",), "not <name>=<weight>"),
        (("a=1", "a=2"), "twice"),
        ((), "empty"),
    ],
)
def test_bad_criteria_are_config_errors(criteria: tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_criteria(criteria)


def test_settings_check_each_key() -> None:
    for section, message in (
        (QcConfig(working_days=("mon", "funday")), "funday"),
        (QcConfig(sample_time="25:00"), "sample_time"),
        (QcConfig(interval_minutes=7), "interval_minutes"),
        (QcConfig(peak_share=1.5), "peak_share"),
    ):
        with pytest.raises(ConfigError, match=message):
            QcSettings.from_config(Config(qc=section))


def test_the_form_digest_changes_with_the_weights() -> None:
    other = Form(parse_criteria((*QcConfig().criteria[:-1], "cross_selling=5")), 90.0)
    assert other.digest != FORM.digest and len(FORM.digest) == 12


def test_monday_covers_the_weekend_and_tuesday_covers_monday() -> None:
    weekdays = frozenset(range(5))
    since, until = sampling_period(MONDAY, weekdays, TZ)
    assert datetime.fromtimestamp(since, TZ) == datetime(2026, 11, 20, tzinfo=TZ)  # Friday 00:00
    assert datetime.fromtimestamp(until, TZ) == datetime(2026, 11, 23, tzinfo=TZ)
    tuesday = sampling_period(MONDAY + timedelta(days=1), weekdays, TZ)
    assert tuesday == (until, until + 86_400)


def test_peak_is_the_busiest_intervals_holding_the_share() -> None:
    def at(hour: int) -> float:
        return datetime(2026, 11, 20, hour, 30, tzinfo=TZ).timestamp()

    times = [at(10)] * 10 + [at(9)] * 6 + [at(14)] * 4 + [at(20)] * 2 + [at(3)]
    assert peak_intervals(times, TZ, 60, 0.5) == {10, 9}  # 16 of 23 once 10 alone (10) is < 11.5
    assert peak_intervals(times, TZ, 60, 0.0) == frozenset()
    assert peak_intervals([], TZ, 60, 0.5) == frozenset()
    assert peak_intervals(times, TZ, 30, 0.5) == {21, 19}
    assert interval_label(21, 30) == "10:30-11:00"


@pytest.mark.parametrize(
    ("n", "peak", "off", "expected"),
    [
        (5, 10, 10, (3, 2)),
        (4, 10, 10, (2, 2)),
        (5, 1, 10, (1, 4)),
        (5, 10, 1, (4, 1)),
        (5, 1, 1, (1, 1)),
        (0, 5, 5, (0, 0)),
    ],
)
def test_split_between_peak_and_offpeak_fills_a_short_side(
    n: int, peak: int, off: int, expected: tuple[int, int]
) -> None:
    assert split(n, 0.5, peak, off) == expected


def _candidates(count: int, agents: int = 3) -> list[Candidate]:
    base = datetime(2026, 11, 20, tzinfo=TZ).timestamp()
    return [
        Candidate("jkt", f"c{i}", f"c{i}", f"10{i % agents:02d}", None, None, "q", base + i * 977.0, 60.0)
        for i in range(count)
    ]


def test_the_draw_is_reproducible_and_the_seed_matters() -> None:
    pool = _candidates(300)
    peak = frozenset({9, 10, 11})
    first = draw(pool, 5, 0.5, 42, MONDAY, peak, TZ, 60)
    again = draw(list(reversed(pool)), 5, 0.5, 42, MONDAY, peak, TZ, 60)
    other = draw(pool, 5, 0.5, 43, MONDAY, peak, TZ, 60)
    assert first == again
    assert {c.call_key for c in first.calls} != {c.call_key for c in other.calls}
    for agent in ("1000", "1001", "1002"):
        mine = [c for c in first.calls if c.agent == agent]
        assert len(mine) == 5 and sum(c.stratum == PEAK for c in mine) == 3


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(0, 60),
    n=st.integers(0, 8),
    share=st.floats(0, 1),
    seed=st.integers(0, 2**31),
    peak=st.frozensets(st.integers(0, 23), max_size=24),
)
def test_the_draw_never_repeats_a_call_nor_exceeds_n(
    count: int, n: int, share: float, seed: int, peak: frozenset[int]
) -> None:
    pool = _candidates(count, agents=4)
    drawn = draw(pool, n, share, seed, MONDAY, peak, TZ, 60)
    keys = [c.call_key for c in drawn.calls]
    assert len(keys) == len(set(keys))
    for agent in {c.agent for c in pool}:
        available = sum(1 for c in pool if c.agent == agent)
        got = sum(1 for c in drawn.calls if c.agent == agent)
        assert got == min(n, available)
        assert (agent in drawn.short) == (available < n)
    assert all(c.stratum in (PEAK, OFFPEAK) for c in drawn.calls)


def test_the_scheduler_runs_at_sample_time_on_working_days_only() -> None:
    qc = QcSettings.from_config(Config(qc=QcConfig(sample_time="06:30")))
    friday_noon = datetime(2026, 11, 20, 12, 0, tzinfo=TZ).timestamp()
    assert datetime.fromtimestamp(next_run(friday_noon, qc), TZ) == datetime(2026, 11, 23, 6, 30, tzinfo=TZ)
    monday_early = datetime(2026, 11, 23, 5, 0, tzinfo=TZ).timestamp()
    assert datetime.fromtimestamp(next_run(monday_early, qc), TZ) == datetime(2026, 11, 23, 6, 30, tzinfo=TZ)
    assert date(2026, 11, 23).weekday() == 0
