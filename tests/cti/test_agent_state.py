"""Agent state derived from real Asterisk 22 events: states, reasons, resync, wrap-up, intervals."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.agentrecord import Interval
from cti.agentstate import AgentStates
from cti.protocol import event_time
from cti.store import IntervalWriter, state_intervals
from hotline.ami.protocol import Event

from .conftest import fixture_events, with_headers

PBX = "jakarta"


def run(events: list[Event], states: AgentStates) -> list[tuple[str, str, str | None]]:
    """Feed events; every (iface, state, reason) the tracker reported as changed, in order."""
    seen: list[tuple[str, str, str | None]] = []
    for event in events:
        ts = event_time(event) or 0.0
        for record in states.feed(PBX, event, ts):
            step = (record.iface, record.state, record.reason)
            if not seen or seen[-1] != step:
                seen.append(step)
    return seen


def states_of(steps: list[tuple[str, str, str | None]], iface: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for who, state, reason in steps:
        if who == iface and (not out or out[-1] != (state, reason)):
            out.append((state, reason))
    return out


def test_a_queue_call_rings_connects_holds_and_ends_in_wrapup() -> None:
    intervals: list[Interval] = []
    states = AgentStates(wrapup_s=10, on_interval=intervals.append)
    steps = run(fixture_events("answered-hold"), states)
    assert states_of(steps, "PJSIP/1001") == [("ringing", None), ("on_call", None), ("wrapup", None)]
    record = states.get(PBX, "PJSIP/1001")
    assert record is not None
    assert sorted(record.memberships) == ["cc-informasi", "cc-pengaduan", "sapa-helpdesk"]
    assert record.name == "Siti Rahma" and record.device == "NOT_INUSE" and record.call is None
    # AgentComplete at 1795514661.485279 + wrapuptime 10 s.
    assert record.wrapup_until == pytest.approx(1795514671.485279)
    spans = [(i.state, round(i.duration_s, 3)) for i in intervals]
    # AgentCalled .479414 -> AgentConnect 650.529925 -> AgentComplete 661.485279 (Asterisk's clock).
    assert spans == [("ringing", 2.051), ("on_call", 10.955)]


def test_hold_and_unhold_mark_the_current_call() -> None:
    states = AgentStates()
    events = fixture_events("answered-hold")
    hold_at = next(i for i, e in enumerate(events) if e.name == "Hold")
    run(events[: hold_at + 1], states)
    record = states.get(PBX, "PJSIP/1001")
    assert record is not None and record.call is not None
    assert record.call.held and record.call.connected and record.call.call_id == "1795514646.0"
    assert record.call.caller_channel == "PJSIP/provider-00000000"
    assert record.call.agent_channel == "PJSIP/1001-00000001"
    run([events[hold_at + 1 :][[e.name for e in events[hold_at + 1 :]].index("Unhold")]], states)
    assert not record.call.held


def test_pause_login_and_logout_of_a_dynamic_member_with_reasons_and_durations() -> None:
    intervals: list[Interval] = []
    states = AgentStates(on_interval=intervals.append)
    steps = run(fixture_events("actions"), states)
    assert states_of(steps, "PJSIP/1004") == [
        ("ready", None),
        ("not_ready", "istirahat"),
        ("ready", None),
        ("logged_out", None),
    ]
    dewi = [(i.state, i.reason, round(i.duration_s, 4)) for i in intervals if i.iface == "PJSIP/1004"]
    # QueueMemberAdded 391.297127, Pause 392.497400, unpause 393.697630, Removed 394.897686.
    assert dewi == [("ready", None, 1.2003), ("not_ready", "istirahat", 1.2002), ("ready", None, 1.2001)]
    assert all(i.name == "Dewi Anggraini" for i in intervals if i.iface == "PJSIP/1004")


def test_paused_in_one_queue_of_three_is_still_ready_as_queue_show_says() -> None:
    states = AgentStates()
    events = fixture_events("actions")
    first_pause = next(i for i, e in enumerate(events) if e.name == "QueueMemberPause")
    run(events[: first_pause + 1], states)
    rina = states.get(PBX, "PJSIP/1003")
    assert rina is not None and rina.state == "ready"
    assert [(q, m.paused, m.reason) for q, m in sorted(rina.memberships.items())] == [
        ("cc-informasi", False, ""),
        ("cc-pengaduan", True, "istirahat"),
        ("sapa-helpdesk", False, ""),
    ]
    others = [
        with_headers(events[first_pause], Queue=queue, PausedReason="makan", LastPause="1795515390")
        for queue in ("cc-informasi", "sapa-helpdesk")
    ]
    run(others, states)
    assert (rina.state, rina.reason) == ("not_ready", "makan")  # the reason of the latest pause


def test_a_queue_status_answer_is_the_truth_for_the_queues_it_lists() -> None:
    states = AgentStates()
    added = next(e for e in fixture_events("actions") if e.name == "QueueMemberAdded")
    stale = [
        with_headers(added, Interface="PJSIP/1009", MemberName="Gone", StateInterface="PJSIP/1009"),
        with_headers(added, Interface="PJSIP/1009", Queue="cc-saran", StateInterface="PJSIP/1009"),
    ]
    run(stale, states)
    gone = states.get(PBX, "PJSIP/1009")
    assert gone is not None and sorted(gone.memberships) == ["cc-pengaduan", "cc-saran"]
    answer = [e for e in fixture_events("actions") if e.get("ActionID") == "qstatus-1"]
    assert [e.name for e in answer][-1] == "QueueStatusComplete"
    run(answer, states)
    # cc-pengaduan was listed without 1009: gone from it. cc-saran was not listed: kept.
    assert sorted(gone.memberships) == ["cc-saran"]
    for iface in ("PJSIP/1001", "PJSIP/1002", "PJSIP/1003"):
        record = states.get(PBX, iface)
        assert record is not None
        assert sorted(record.memberships) == ["cc-informasi", "cc-pengaduan", "sapa-helpdesk"]
    siti = states.get(PBX, "PJSIP/1001")
    assert siti is not None and siti.state == "ringing" and siti.device == "RINGING"  # Status: 6


def test_wrapup_ends_at_its_deadline_by_timer_or_by_a_later_event() -> None:
    intervals: list[Interval] = []
    states = AgentStates(wrapup_s=5, on_interval=intervals.append)
    events = fixture_events("answered-hold")
    run(events, states)
    record = states.get(PBX, "PJSIP/1001")
    assert record is not None and record.state == "wrapup"
    assert record.wrapup_until is not None
    assert states.expire(PBX, "PJSIP/1001", record.wrapup_until - 1) is None  # too early: nothing
    assert states.expire(PBX, "PJSIP/1001", 1795514666.485279) is record
    assert record.state == "ready" and intervals[-1].state == "wrapup"
    assert intervals[-1].duration_s == pytest.approx(5.0)

    late = AgentStates(wrapup_s=5, on_interval=(closed := []).append)
    run(events, late)
    pause = with_headers(
        next(e for e in fixture_events("actions") if e.name == "QueueMemberPause"),
        Interface="PJSIP/1001",
        Timestamp="1795514700.0",
    )
    run([pause], late)
    assert [(i.state, round(i.duration_s, 3)) for i in closed][-1] == ("wrapup", 5.0)


def test_a_pause_with_the_wrapup_reason_is_wrapup() -> None:
    states = AgentStates(wrapup_reason="wrapup")
    pause = next(e for e in fixture_events("actions") if e.name == "QueueMemberPause")
    run([with_headers(pause, PausedReason="wrapup")], states)
    record = states.get(PBX, "PJSIP/1003")
    assert record is not None and record.state == "wrapup"


def test_ringing_stops_when_the_caller_abandons() -> None:
    states = AgentStates()
    steps = run(fixture_events("abandon"), states)
    assert states_of(steps, "PJSIP/1001")[:2] == [("ringing", None), ("ready", None)]
    assert states_of(steps, "PJSIP/1002")[-1] == ("ready", None)
    for record in states.records():
        assert not record.ringing and record.call is None


def test_a_busy_phone_outside_the_queues_is_on_call_and_the_log_out_wins_when_idle() -> None:
    states = AgentStates()
    added = next(e for e in fixture_events("actions") if e.name == "QueueMemberAdded")
    device = Event((("Event", "DeviceStateChange"), ("Device", "PJSIP/1004"), ("State", "INUSE")))
    steps = run([added, device, with_headers(device, State="NOT_INUSE")], states)
    assert states_of(steps, "PJSIP/1004") == [("ready", None), ("on_call", None), ("ready", None)]


async def test_intervals_are_stored_for_the_kpi_reports(engine: AsyncEngine) -> None:
    writer = IntervalWriter(engine, agent_of=lambda pbx, iface: "1004" if iface == "PJSIP/1004" else None)
    run(fixture_events("actions"), AgentStates(on_interval=writer.add))
    await writer.flush()
    rows = await state_intervals(engine, pbx=PBX, iface="PJSIP/1004")
    assert [(r["state"], r["reason"], r["agent"], r["member_name"]) for r in rows] == [
        ("ready", None, "1004", "Dewi Anggraini"),
        ("not_ready", "istirahat", "1004", "Dewi Anggraini"),
        ("ready", None, "1004", "Dewi Anggraini"),
    ]
    assert rows[1]["duration_s"] == pytest.approx(1.20023, abs=1e-5)
    assert rows[1]["started_at"] == pytest.approx(1795515392.4974)
    assert writer.written == len(await state_intervals(engine)) and writer.pending == 0
