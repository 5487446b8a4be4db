"""KPI definitions: hand-checked numbers, counting units, rounding, and properties."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.kpi.definitions import by_agent, by_queue, summarize
from hotline.kpi.facts import OUTCOMES, QueueAttempt
from hotline.kpi.from_ami import AmiProjector

from .conftest import PBX, event


def attempt(call_id: str = "c.1", number: int = 1, **fields: Any) -> QueueAttempt:
    row: dict[str, Any] = {
        "pbx": PBX, "call_id": call_id, "attempt": number, "queue": "q1", "linkedid": None,
        "caller_number": None, "entered_at": 0.0, "position": 1, "outcome": "answered", "ended_at": None,
        "wait_s": 10.0, "agent": "Ani", "agent_interface": None, "connected_at": None, "handle_s": 100.0,
        "hold_s": 0.0, "completed_by": "caller", "transfer_target": None, "ring_no_answer": 0,
        "source": "ami",
    }  # fmt: skip
    row.update(fields)
    return QueueAttempt(**row)


def test_manual_formulas_on_a_small_day() -> None:
    rows = [
        attempt("c.1", wait_s=5.0, handle_s=300.0, hold_s=60.0),
        attempt("c.2", wait_s=25.0, handle_s=500.0, hold_s=0.0, agent="Budi"),
        attempt("c.3", outcome="abandoned", wait_s=3.0, agent=None, handle_s=None, hold_s=None),
        attempt("c.4", outcome="abandoned", wait_s=40.0, agent=None, handle_s=None, hold_s=None),
        attempt("c.5", outcome="timeout", wait_s=60.0, agent=None, handle_s=None, hold_s=None),
    ]
    s = summarize(rows, service_level_s=20, short_abandon_s=5)
    assert (s.offered, s.answered, s.abandoned, s.short_abandoned, s.timed_out) == (5, 2, 2, 1, 1)
    assert s.scr == 40.0  # 2 answered / 5 incoming x 100
    assert s.aht == 400.0  # (talk 240 + 500 + hold 60 + 0) / 2 ACD calls
    assert (s.talk_total, s.hold_total) == (740.0, 60.0)
    assert s.asa == 15.0 and s.service_level == 50.0 and s.longest_wait == 60.0
    assert s.abandon_rate == 25.0  # (2 - 1 short) / (5 - 1) x 100


def test_no_traffic_means_no_ratio_rather_than_zero() -> None:
    s = summarize([])
    assert (s.offered, s.scr, s.aht, s.asa, s.service_level, s.abandon_rate) == (
        0,
        None,
        None,
        None,
        None,
        None,
    )


def test_a_call_still_in_conversation_counts_as_answered_but_not_yet_in_aht() -> None:
    s = summarize([attempt("c.1", handle_s=120.0), attempt("c.2", handle_s=None, hold_s=None, wait_s=30.0)])
    assert (s.answered, s.acd_calls, s.aht, s.asa) == (2, 1, 120.0, 20.0)


def test_a_call_answered_then_abandoned_after_transfer_is_one_answered_call() -> None:
    rows = [
        attempt("c.1", 1, completed_by="transfer", transfer_target="1600@from-agents", handle_s=30.0),
        attempt(
            "c.1", 2, queue="q2", outcome="abandoned", agent=None, handle_s=None, hold_s=None, wait_s=50.0
        ),
    ]
    s = summarize(rows)
    assert (s.offered, s.answered, s.abandoned, s.scr, s.transfers) == (1, 1, 0, 100.0, 1)
    queues = by_queue(rows)  # the second queue did lose the caller
    assert (queues["q2"].offered, queues["q2"].abandoned, queues["q2"].scr) == (1, 1, 0.0)


def test_a_call_timed_out_then_abandoned_in_the_next_queue_takes_its_last_outcome() -> None:
    rows = [
        attempt("c.1", 2, queue="q2", outcome="abandoned", agent=None, handle_s=None, wait_s=2.0),
        attempt("c.1", 1, outcome="timeout", agent=None, handle_s=None, wait_s=30.0),
    ]
    s = summarize(rows)
    assert (s.offered, s.abandoned, s.timed_out, s.short_abandoned) == (1, 1, 0, 1)


def test_queue_log_rows_have_aht_but_no_talk_hold_split() -> None:
    s = summarize([attempt(hold_s=None, handle_s=90.0)])
    assert (s.aht, s.talk_total, s.hold_total) == (90.0, None, None)


def test_by_agent_counts_only_what_the_agent_answered() -> None:
    rows = [
        attempt("c.1", agent="Ani", handle_s=100.0),
        attempt("c.2", agent="Ani", handle_s=200.0),
        attempt("c.3", agent="Budi", handle_s=50.0),
        attempt("c.4", outcome="abandoned", agent=None, handle_s=None),
    ]
    agents = by_agent(rows)
    assert {name: (k.answered, k.aht) for name, k in agents.items()} == {"Ani": (2, 150.0), "Budi": (1, 50.0)}


def test_as_dict_rounds_for_reports() -> None:
    rows = [
        attempt("c.1", handle_s=10.0, hold_s=1.23456),
        attempt("c.2", outcome="abandoned", agent=None, handle_s=None, wait_s=9.0),
        attempt("c.3", outcome="abandoned", agent=None, handle_s=None),
    ]
    d = summarize(rows).as_dict()
    assert d["scr"] == 33.33 and d["hold_total"] == 1.2 and d["talk_total"] == 8.8 and d["aht"] == 10.0
    assert {"offered", "answered", "abandoned", "scr", "aht", "asa", "service_level"} <= d.keys()


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="unit"):
        summarize([], unit="minutes")


# --- properties --------------------------------------------------------------------------

seconds = st.floats(min_value=0, max_value=36_000, allow_nan=False)


@st.composite
def attempts(draw: st.DrawFn) -> QueueAttempt:
    outcome = draw(st.sampled_from(sorted(OUTCOMES)))
    answered = outcome == "answered"
    handle = draw(st.none() | seconds) if answered else None
    hold = draw(st.none() | st.floats(min_value=0, max_value=handle, allow_nan=False)) if handle else None
    return attempt(
        f"c.{draw(st.integers(0, 6))}",
        draw(st.integers(1, 3)),
        queue=draw(st.sampled_from(["q1", "q2"])),
        outcome=outcome,
        wait_s=draw(st.none() | seconds),
        agent=draw(st.sampled_from(["Ani", "Budi"])) if answered else None,
        handle_s=handle,
        hold_s=hold,
        ring_no_answer=draw(st.integers(0, 5)),
    )


@given(st.lists(attempts(), max_size=25), st.sampled_from(["call", "attempt"]))
def test_kpis_stay_within_their_ranges(rows: list[QueueAttempt], unit: str) -> None:
    s = summarize(rows, unit=unit)
    for percent in (s.scr, s.service_level, s.abandon_rate):
        assert percent is None or 0 <= percent <= 100
    assert s.aht is None or s.aht >= 0
    assert s.offered == s.answered + s.abandoned + s.timed_out + s.exited + s.waiting
    assert 0 <= s.short_abandoned <= s.abandoned
    if s.talk_total is not None and s.hold_total is not None and s.aht is not None:
        assert s.talk_total + s.hold_total == pytest.approx(s.aht * s.acd_calls)
    for row in rows:
        if row.handle_s is not None:
            assert row.talk_s is not None and row.talk_s >= 0
            assert row.talk_s + (row.hold_s or 0.0) == pytest.approx(row.handle_s)


@given(
    talk_time=st.integers(0, 600),
    marks=st.lists(st.tuples(st.floats(0, 700, allow_nan=False), st.booleans()), max_size=12),
    seed=st.integers(0, 2**16),
)
def test_projected_hold_never_breaks_talk_plus_hold_equals_handle(
    talk_time: int, marks: list[tuple[float, bool]], seed: int
) -> None:
    caller, agent_ch = "9.0", "9.1"
    agent = {"DestUniqueid": agent_ch, "MemberName": "Ani"}
    events = [
        event("QueueCallerJoin", Timestamp="1000", Uniqueid=caller, Queue="q1"),
        event("AgentConnect", Timestamp="1005", Uniqueid=caller, Queue="q1", HoldTime=5, **agent),
        event("AgentComplete", Timestamp=f"{1005 + talk_time}", Uniqueid=caller, Queue="q1", HoldTime=5,
              TalkTime=talk_time, Reason="caller", **agent),
    ] + [
        event("Hold" if is_hold else "Unhold", Timestamp=f"{1000 + t:.6f}", Uniqueid=agent_ch)
        for t, is_hold in marks
    ]  # fmt: skip
    random.Random(seed).shuffle(events)
    projector = AmiProjector()
    for e in events:
        projector.feed(PBX, e)
    [row] = projector.attempts()
    assert row.handle_s == talk_time and row.hold_s is not None and row.talk_s is not None
    assert 0 <= row.hold_s <= row.handle_s and row.talk_s >= 0
    assert row.talk_s + row.hold_s == pytest.approx(row.handle_s)
    s = summarize([row])
    assert s.scr == 100.0 and s.aht == talk_time
