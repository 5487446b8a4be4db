"""AmiProjector: idempotent, order-tolerant, revisable; checked on captures and built events."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from hotline.ami.protocol import Event
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_ami import AmiProjector

from .conftest import PBX, Scenario, event, project

CALLER = "1700000000.0"
AGENT_CH = "1700000001.1"


def _latest_emitted(events: list[Event]) -> tuple[AmiProjector, dict[tuple[str, str, int], QueueAttempt]]:
    projector, latest = AmiProjector(), {}
    for e in events:
        for attempt in projector.feed(PBX, e):
            latest[attempt.key] = attempt
    return projector, latest


def test_emitted_rows_end_as_the_final_state(scenario: Scenario) -> None:
    projector, latest = _latest_emitted(scenario.events())
    assert sorted(latest.values(), key=lambda a: a.key) == projector.attempts()


def test_same_event_twice_changes_nothing(scenario: Scenario) -> None:
    events = scenario.events()
    projector = AmiProjector()
    for e in events:
        projector.feed(PBX, e)
        assert projector.feed(PBX, e) == []
    once = project(events)
    assert projector.attempts() == once
    assert all(projector.feed(PBX, e) == [] for e in events)  # a whole replay too
    assert projector.attempts() == once


def test_byte_by_byte_parsing_gives_the_same_attempts(scenario: Scenario) -> None:
    assert scenario.from_ami(scenario.events_byte_by_byte()) == scenario.from_ami()


@pytest.mark.parametrize("seed", range(6))
def test_any_arrival_order_gives_the_same_attempts(scenario: Scenario, seed: int) -> None:
    events = scenario.events()
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    projector, latest = _latest_emitted(shuffled)
    assert projector.attempts() == project(events)
    assert sorted(latest.values(), key=lambda a: a.key) == projector.attempts()


def test_reversed_order_gives_the_same_attempts(scenario: Scenario) -> None:
    events = scenario.events()
    assert project(reversed(events)) == project(events)


# --- built events ------------------------------------------------------------------------


def _caller(name: str, ts: float, queue: str = "cc-informasi", **extra: str | int | float) -> Event:
    return event(
        name,
        Timestamp=f"{ts:.6f}",
        Uniqueid=CALLER,
        Linkedid=CALLER,
        CallerIDNum="081234567890",
        Queue=queue,
        **extra,
    )


def _agent(name: str, ts: float, **extra: str | int | float) -> Event:
    return event(name, Timestamp=f"{ts:.6f}", Uniqueid=AGENT_CH, Linkedid=CALLER, **extra)


def _delivered(connect_at: float = 10.0, talk: int = 20) -> list[Event]:
    agent = {"DestUniqueid": AGENT_CH, "MemberName": "Siti Rahma", "Interface": "PJSIP/1001"}
    return [
        _caller("QueueCallerJoin", 1.0, Position=1),
        _caller("AgentConnect", connect_at, HoldTime=int(connect_at - 1), **agent),
        _caller("AgentComplete", connect_at + talk, HoldTime=int(connect_at - 1), TalkTime=talk,
                Reason="agent", **agent),
    ]  # fmt: skip


def test_two_holds_are_summed_and_an_unpaired_unhold_adds_nothing() -> None:
    events = [
        *_delivered(),
        _agent("Unhold", 11.0),
        _agent("Hold", 12.0),
        _agent("Unhold", 14.5),
        _agent("Hold", 20.0),
        _agent("Hold", 21.0),  # a repeated Hold does not restart the interval
        _agent("Unhold", 23.0),
    ]
    [attempt] = project(events)
    assert attempt.hold_s == pytest.approx(2.5 + 3.0)
    assert attempt.talk_s == pytest.approx(20 - 5.5)


def test_a_hold_open_at_the_end_counts_until_the_end() -> None:
    [attempt] = project([*_delivered(), _agent("Hold", 25.0)])
    assert attempt.hold_s == pytest.approx(5.0)


def test_hold_never_exceeds_the_whole_second_talk_time() -> None:
    # TalkTime 2 (truncated) while on hold 10.2 -> 12.9: hold capped at the handle time.
    events = _delivered(talk=2)
    events[2] = _caller("AgentComplete", 12.95, HoldTime=9, TalkTime=2, Reason="caller",
                        DestUniqueid=AGENT_CH, MemberName="Siti Rahma")  # fmt: skip
    [attempt] = project([*events, _agent("Hold", 10.2), _agent("Unhold", 12.9)])
    assert attempt.hold_s == 2.0 and attempt.talk_s == 0.0


def test_hold_before_the_connect_arrives_is_kept() -> None:
    join, connect, complete = _delivered()
    [attempt] = project([_agent("Hold", 12.0), _agent("Unhold", 13.0), join, complete, connect])
    assert attempt.hold_s == pytest.approx(1.0)


def test_abandon_decision_is_revised_when_the_hangup_request_comes_late() -> None:
    projector = AmiProjector()
    projector.feed(PBX, _caller("QueueCallerJoin", 1.0))
    projector.feed(PBX, event("Newchannel", Timestamp="0.5", Uniqueid=CALLER))
    [provisional] = projector.feed(PBX, _caller("QueueCallerAbandon", 9.0, HoldTime=8))
    assert provisional.outcome == "timeout"  # the caller was alive as far as we know
    [revised] = projector.feed(PBX, event("HangupRequest", Timestamp="8.9", Uniqueid=CALLER))
    assert (revised.outcome, revised.wait_s, revised.ended_at) == ("abandoned", 8.0, 9.0)


def test_a_hangup_request_after_the_abandon_does_not_make_it_an_abandon() -> None:
    events = [
        _caller("QueueCallerJoin", 1.0),
        event("Newchannel", Timestamp="0.1", Uniqueid=CALLER),
        _caller("QueueCallerAbandon", 31.0, HoldTime=30),
        event("Newexten", Timestamp="31.1", Uniqueid=CALLER),
        event("SoftHangupRequest", Timestamp="31.2", Uniqueid=CALLER),
        event("Hangup", Timestamp="31.3", Uniqueid=CALLER),
    ]
    [attempt] = project(events)
    assert attempt.outcome == "timeout"


def test_without_any_channel_event_an_abandon_keeps_asterisks_word() -> None:
    [attempt] = project([_caller("QueueCallerJoin", 1.0), _caller("QueueCallerAbandon", 9.0, HoldTime=8)])
    assert attempt.outcome == "abandoned"


def test_leave_without_agent_then_dialplan_is_an_exit_with_key() -> None:
    projector = AmiProjector()
    projector.feed(PBX, _caller("QueueCallerJoin", 100.7))
    assert projector.feed(PBX, _caller("QueueCallerLeave", 104.2)) == []
    assert projector.attempts()[0].outcome == "waiting"  # AgentConnect may still be on its way
    [left] = projector.feed(PBX, event("Newexten", Timestamp="104.3", Uniqueid=CALLER))
    assert (left.outcome, left.wait_s, left.ended_at) == ("exit_key", 4.0, 104.2)


def test_leave_then_connect_is_answered_in_any_order() -> None:
    join, connect, complete = _delivered()
    leave = _caller("QueueCallerLeave", 9.99)
    after = event("Newexten", Timestamp="31", Uniqueid=CALLER)
    assert project([join, leave, after, connect, complete])[0].outcome == "answered"


def test_a_caller_hangup_with_no_queue_verdict_is_an_abandon() -> None:
    [attempt] = project([_caller("QueueCallerJoin", 1.5), event("Hangup", Timestamp="7.2", Uniqueid=CALLER)])
    assert (attempt.outcome, attempt.wait_s, attempt.ended_at) == ("abandoned", 6.0, 7.2)


def test_attended_transfer_target_is_written_as_queue_log_does() -> None:
    transfer = event(
        "AttendedTransfer",
        Timestamp="25.0",
        Result="Success",
        OrigTransfererUniqueid=AGENT_CH,
        SecondTransfererUniqueid="1700000030.5",
        DestType="Bridge",
        DestBridgeUniqueid="b-42",
    )
    [attempt] = project([*_delivered(), transfer])
    assert (attempt.completed_by, attempt.transfer_target) == ("transfer", "BRIDGE|b-42")


def test_failed_transfer_is_ignored() -> None:
    failed = event("BlindTransfer", Timestamp="25.0", Result="Fail", TransfererUniqueid=AGENT_CH,
                   TransfereeUniqueid=CALLER, Extension="1600", Context="from-agents")  # fmt: skip
    [attempt] = project([*_delivered(), failed])
    assert (attempt.completed_by, attempt.transfer_target) == ("agent", None)


def test_a_call_already_in_the_queue_at_start_up_is_not_lost() -> None:
    _, connect, complete = _delivered(connect_at=10.0, talk=20)
    [attempt] = project([connect, complete])
    assert attempt.attempt == 1 and attempt.outcome == "answered"
    assert attempt.entered_at == pytest.approx(1.0)  # connect time - HoldTime
    assert attempt.position is None and attempt.handle_s == 20


def test_bad_headers_do_not_crash_the_projector(make_event: Callable[..., Event]) -> None:
    projector = AmiProjector(clock=lambda: 42.0)
    assert projector.feed(PBX, make_event("QueueCallerJoin", Queue="q")) == []  # no Uniqueid
    assert projector.feed(PBX, make_event("Hold")) == []
    [attempt] = projector.feed(PBX, make_event("QueueCallerJoin", Uniqueid="u", Queue="q", Timestamp="x",
                                               Position="first", CallerIDNum="<unknown>"))  # fmt: skip
    assert (attempt.entered_at, attempt.position, attempt.caller_number) == (42.0, None, None)
    [attempt] = projector.feed(PBX, make_event("AgentConnect", Uniqueid="u", Queue="q", Timestamp="43",
                                               HoldTime="nan", MemberName="A"))  # fmt: skip
    assert attempt.outcome == "answered" and attempt.wait_s is None
    assert projector.feed(PBX, make_event("UserEvent", Uniqueid="u")) == []


def test_pbxs_are_kept_apart() -> None:
    projector = AmiProjector()
    for pbx in ("jkt-1", "yog-1"):
        projector.feed(pbx, _caller("QueueCallerJoin", 1.0))
    assert [a.pbx for a in projector.attempts()] == ["jkt-1", "yog-1"]


def test_prune_forgets_old_calls_only() -> None:
    projector = AmiProjector()
    for e in _delivered():
        projector.feed(PBX, e)
    projector.feed(PBX, event("QueueCallerJoin", Timestamp="500", Uniqueid="later.1", Queue="q"))
    assert projector.prune(older_than=100.0) == 1
    assert [a.call_id for a in projector.attempts()] == ["later.1"]
