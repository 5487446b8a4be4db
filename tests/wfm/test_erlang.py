"""Erlang C against a published worked example, a direct formula, and its properties."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.wfm.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
    traffic_intensity,
)


def test_the_call_centre_helper_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
    (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls in 30 minutes,
    AHT 180 s, 80 % answered in 20 s, at most 85 % occupancy, 30 % shrinkage.

    The article works out A = 10 Erlangs; with 11 agents P(wait) = 68.21 % and SL = 39 %; the answer
    is 14 agents (SL 88.8 %, occupancy 71.4 %, ASA 7.8 s), 20 rostered after shrinkage (14 / 0.7).
    The same figures are asserted by pyworkforce's own tests (rodrigo-arenas/pyworkforce,
    pyworkforce/queuing/tests/test_erlang.py: raw_positions 14, positions 20, service_level 0.888,
    occupancy 0.714, waiting_probability 0.174). 13 agents reach only 79.6 %: not enough.
    """
    traffic = traffic_intensity(100, 180, 30 * 60)
    assert traffic == 10.0
    assert erlang_c(11, traffic) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(11, traffic, 180, 20) == pytest.approx(0.3897, abs=5e-4)
    assert service_level(13, traffic, 180, 20) == pytest.approx(0.7956, abs=5e-4)

    staffing = agents_needed(100, 180, 1800, target_service_level=0.8, target_s=20, shrinkage=0.3)
    assert (staffing.agents, staffing.scheduled) == (14, 20)
    assert staffing.service_level == pytest.approx(0.888, abs=5e-4)
    assert staffing.occupancy == pytest.approx(0.714, abs=5e-4)
    assert staffing.waiting_probability == pytest.approx(0.174, abs=5e-4)
    assert staffing.asa == pytest.approx(7.8, abs=0.05)


def test_the_occupancy_cap_adds_agents_the_service_level_does_not_need() -> None:
    # 11 agents give 39 % in 20 s, enough for a 30 % target, but run at 91 % occupancy.
    assert agents_needed(100, 180, 1800, target_service_level=0.3).agents == 12
    # pyworkforce's over-occupancy case: 70 % cap -> 15 agents (occupancy 66.7 %, SL 94.1 %).
    capped = agents_needed(100, 180, 1800, max_occupancy=0.7)
    assert capped.agents == 15
    assert capped.service_level == pytest.approx(0.941, abs=5e-4)


def test_erlang_b_matches_the_traffic_table() -> None:
    # Erlang B tables: 10 Erlangs on 10 lines block 21.5 % of calls.
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, abs=5e-5)
    assert erlang_b(0, 3.0) == 1.0


def _direct_c(agents: int, traffic: Fraction) -> Fraction:
    """The textbook formula with factorials, in exact fractions (only for small N)."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    below = sum(traffic**k / math.factorial(k) for k in range(agents))
    return top / (below + top)


@given(st.integers(min_value=1, max_value=60), st.fractions(min_value=0, max_value=59, max_denominator=8))
def test_the_iterative_form_equals_the_factorial_formula(agents: int, traffic: Fraction) -> None:
    if traffic >= agents:
        assert erlang_c(agents, float(traffic)) == 1.0
        return
    assert erlang_c(agents, float(traffic)) == pytest.approx(
        float(_direct_c(agents, traffic)), rel=1e-9, abs=1e-12
    )


def test_two_thousand_agents_do_not_overflow() -> None:
    waits = erlang_c(2000, 1950.0)
    assert 0.0 < waits < 1.0
    assert math.isfinite(average_speed_of_answer(2000, 1950.0, 300))
    staffing = agents_needed(1950 * 1800 / 300, 300, 1800, max_occupancy=1.0)
    assert 1950 < staffing.agents < 2000  # economies of scale: a big pool needs few spare agents
    assert staffing.service_level >= 0.8
    # With the 85 % occupancy cap, the cap decides: ceil(1950 / 0.85).
    assert agents_needed(1950 * 1800 / 300, 300, 1800).agents == 2295


@given(
    calls=st.floats(min_value=0.5, max_value=3000),
    aht=st.floats(min_value=10, max_value=1200),
    target=st.floats(min_value=0.05, max_value=0.99),
)
def test_properties_of_the_staffing(calls: float, aht: float, target: float) -> None:
    staffing = agents_needed(calls, aht, 1800, target_service_level=target)
    traffic = staffing.traffic
    assert staffing.agents > traffic  # N > A: below it the queue grows forever
    assert staffing.service_level >= target
    assert staffing.occupancy <= 0.85 + 1e-12
    assert staffing.asa >= 0
    fewer = staffing.agents - 1
    assert fewer <= traffic or service_level(fewer, traffic, aht, 20) < target or traffic / fewer > 0.85


@given(traffic=st.floats(min_value=0.1, max_value=400), aht=st.floats(min_value=5, max_value=900))
def test_service_level_rises_and_waiting_falls_with_agents(traffic: float, aht: float) -> None:
    first = math.floor(traffic) + 1
    levels = [service_level(n, traffic, aht, 20) for n in range(first, first + 30)]
    waits = [erlang_c(n, traffic) for n in range(first, first + 30)]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(levels))
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(waits))
    assert all(0.0 <= value <= 1.0 for value in levels + waits)


def test_no_calls_need_no_agents_and_an_overload_has_no_service() -> None:
    assert agents_needed(0, 300, 1800).agents == 0
    assert service_level(5, 10.0, 180, 20) == 0.0
    assert average_speed_of_answer(10, 10.0, 180) == math.inf
    assert occupancy(0, 0.0) == 0.0 and occupancy(4, 2.0) == 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_service_level": 1.0}, "target service level"),
        ({"max_occupancy": 0.0}, "maximum occupancy"),
        ({"shrinkage": 1.0}, "shrinkage"),
        ({"target_s": -1}, "answer time"),
    ],
)
def test_bad_targets_are_refused_clearly(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        agents_needed(100, 180, 1800, **kwargs)  # type: ignore[arg-type]


def test_bad_loads_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="negative"):
        traffic_intensity(-1, 180, 1800)
    with pytest.raises(ValueError, match="interval"):
        traffic_intensity(10, 180, 0)
    with pytest.raises(ValueError, match="agents"):
        erlang_b(-1, 2.0)
