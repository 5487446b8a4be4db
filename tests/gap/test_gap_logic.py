"""Completing attempts cut off by an AMI gap, checked against the real captures.

Each capture is replayed into the projector up to a cut (the link drops there); the attempts
left open are completed from the capture's own queue_log or cdr.csv through the synthetic
event, exactly as the service does, and compared with what queue_log says of the same calls.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from hotline.ami.protocol import Event
from hotline.kpi import facts, gap
from hotline.kpi.cdr_csv import CdrRecord
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_ami import AmiProjector
from hotline.kpi.from_queue_log import parse_queue_log
from hotline.kpi.gap import GapCompletion

from .conftest import PBX, WITH_CDR, Capture

AGENTS = {"PJSIP/1001": "Siti Rahma", "PJSIP/1002": "Budi Santoso", "PJSIP/1003": "Rina Wati"}
AT = 1_800_000_000.0


def _cut(capture: Capture, where: str) -> AmiProjector | None:
    stop = len(capture.events()) if where == "end" else capture.index_after(where)
    if stop is None:
        return None
    return capture.projector_until(stop)


def _gap_cases() -> list[tuple[str, str]]:
    """(capture, where the link drops) for every cut that leaves attempts open."""
    cases = []
    for name in WITH_CDR:
        for where in ("QueueCallerJoin", "AgentConnect", "end"):
            projector = _cut(Capture(name), where)
            if projector is not None and projector.open_attempts(PBX):
                cases.append((name, where))
    return cases


GAP_CASES = _gap_cases()


def _apply(projector: AmiProjector, completions: list[GapCompletion]) -> list[QueueAttempt]:
    changed: list[QueueAttempt] = []
    for completion in completions:
        changed += projector.feed(PBX, Event(gap.to_headers(completion, AT)))
    return changed


def _by_key(attempts: list[QueueAttempt]) -> dict[tuple[str, str, int], QueueAttempt]:
    return {a.key: a for a in attempts}


def _open_after(capture: Capture, where: str) -> tuple[AmiProjector, list[QueueAttempt]]:
    projector = _cut(capture, where)
    assert projector is not None
    return projector, projector.open_attempts(PBX)


def test_the_cases_cover_waiting_answered_and_capture_end() -> None:
    assert len(GAP_CASES) >= 12
    assert {where for _, where in GAP_CASES} == {"QueueCallerJoin", "AgentConnect", "end"}


@pytest.mark.parametrize(("name", "where"), GAP_CASES)
def test_queue_log_completes_what_the_link_missed(name: str, where: str) -> None:
    capture = Capture(name)
    projector, cut_off = _open_after(capture, where)
    logged = _by_key(capture.queue_log())
    completions = [gap.from_queue_log(a, logged.values()) for a in cut_off]
    assert all(c is not None for c in completions), capture.name
    changed = _apply(projector, [c for c in completions if c is not None])
    assert {a.key for a in changed} == {a.key for a in cut_off}
    now = _by_key(projector.attempts())
    for before in cut_off:
        after, expected = now[before.key], logged[before.key]
        assert after.completed_from == facts.FROM_QUEUE_LOG
        assert after.source == facts.SOURCE_AMI
        for name in ("queue", "outcome", "wait_s", "agent", "handle_s", "completed_by", "transfer_target"):
            assert getattr(after, name) == getattr(expected, name), (capture.name, where, name)
        assert after.ring_no_answer == expected.ring_no_answer
        assert after.ended_at is not None and expected.ended_at is not None
        assert abs(after.ended_at - expected.ended_at) < 1.0
        # What AMI saw before the gap stays (microsecond times, the interface).
        assert after.entered_at == before.entered_at and after.linkedid == before.linkedid
        if before.outcome == facts.ANSWERED:
            assert after.connected_at == before.connected_at
            assert after.agent_interface == before.agent_interface
        if after.outcome == facts.ANSWERED:
            assert after.hold_s is None  # hold during the gap is unknown
    assert projector.open_attempts(PBX) == []


@pytest.mark.parametrize(("name", "where"), GAP_CASES)
def test_cdr_completes_what_it_honestly_can(name: str, where: str) -> None:
    capture = Capture(name)
    projector, cut_off = _open_after(capture, where)
    logged = _by_key(capture.queue_log())
    records = capture.cdr().records
    _apply(projector, [c for a in cut_off if (c := gap.from_cdr(a, records, AGENTS)) is not None])
    now = _by_key(projector.attempts())
    for before in cut_off:
        after, expected = now[before.key], logged[before.key]
        assert after.completed_from == facts.FROM_CDR, (capture.name, where)
        assert after.outcome == expected.outcome
        assert expected.ended_at is not None and after.ended_at == math.floor(expected.ended_at)
        assert after.agent == expected.agent
        if after.outcome != facts.ANSWERED:
            assert after.wait_s == expected.wait_s
            continue
        # A CDR does not say who hung up; a transfer shows as the caller going on into a queue.
        transferred = expected.completed_by == facts.BY_TRANSFER
        assert after.completed_by == (facts.BY_TRANSFER if transferred else None)
        assert after.transfer_target == expected.transfer_target
        if before.outcome == facts.ANSWERED:
            # The connect AMI saw, to the CDR's end, in whole seconds as app_queue counts calltime.
            assert (after.wait_s, after.handle_s) == (before.wait_s, expected.handle_s)
        else:
            # Connected during the gap: CDR does not say when, so neither wait nor handle time.
            assert (after.wait_s, after.handle_s, after.connected_at) == (None, None, None)
            assert after.agent_interface in AGENTS


def test_named_outcomes_of_the_captures() -> None:
    cases = {
        "abandon": (facts.ABANDONED, 8.0, None),
        "queue-timeout": (facts.TIMEOUT, 30.0, None),
        "actions": (facts.ABANDONED, 25.0, None),
        "blind-transfer": (facts.ANSWERED, 2.0, "1600@from-agents"),
    }
    for name, (outcome, wait, target) in cases.items():
        capture = Capture(name)
        stop = capture.index_after("AgentConnect") or capture.index_after("QueueCallerJoin")
        assert stop is not None
        [attempt] = capture.projector_until(stop).open_attempts(PBX)
        completion = gap.from_cdr(attempt, capture.cdr().records, AGENTS)
        assert completion is not None
        assert (completion.outcome, completion.wait_s, completion.transfer_target) == (outcome, wait, target)


def test_a_real_ami_end_wins_over_the_completion() -> None:
    capture = Capture("answered-hold")
    events = capture.events()
    stop = capture.index_after("AgentConnect")
    assert stop is not None
    projector = capture.projector_until(stop)
    [open_attempt] = projector.open_attempts(PBX)
    completion = gap.from_queue_log(open_attempt, capture.queue_log())
    assert completion is not None
    _apply(projector, [completion])
    assert projector.attempts()[0].completed_from == facts.FROM_QUEUE_LOG
    for event in events[stop:]:  # the link was not down after all: AMI's own end arrives
        projector.feed(PBX, event)
    full = AmiProjector()
    for event in events:
        full.feed(PBX, event)
    assert projector.attempts() == full.attempts()
    assert projector.attempts()[0].completed_from is None
    assert projector.attempts()[0].hold_s is not None and projector.attempts()[0].hold_s > 0


def test_the_same_completion_twice_changes_nothing() -> None:
    capture = Capture("abandon")
    projector = capture.projector_until(capture.index_after("QueueCallerJoin") or 0)
    [attempt] = projector.open_attempts(PBX)
    completion = gap.from_queue_log(attempt, capture.queue_log())
    assert completion is not None
    assert len(_apply(projector, [completion])) == 1
    assert _apply(projector, [completion]) == []
    assert _apply(projector, [dataclasses.replace(completion, completed_from=facts.FROM_CDR)]) != []


def test_a_completion_for_a_call_the_projector_does_not_know_is_ignored() -> None:
    completion = GapCompletion(PBX, "1.1", 1, "cc-informasi", facts.FROM_QUEUE_LOG, facts.ABANDONED, AT)
    assert AmiProjector().feed(PBX, Event(gap.to_headers(completion, AT))) == []


def test_event_round_trip_and_rejected_events() -> None:
    completion = GapCompletion(
        PBX, "1795515812.0", 1, "cc-informasi", facts.FROM_CDR, facts.ANSWERED, 1795515819.0,
        wait_s=2.0, agent="Siti Rahma", agent_interface="PJSIP/1001", connected_at=1795515815.25,
        handle_s=4.0, completed_by=facts.BY_TRANSFER, transfer_target="1600@from-agents", ring_no_answer=1,
    )  # fmt: skip
    headers = gap.to_headers(completion, AT)
    assert gap.from_event(PBX, Event(headers)) == completion
    minimal = GapCompletion(PBX, "1.1", 2, "q", facts.FROM_QUEUE_LOG, facts.TIMEOUT, None)
    assert gap.from_event(PBX, Event(gap.to_headers(minimal, AT))) == minimal
    bad = {
        "Uniqueid": "",
        "Outcome": "waiting",
        "CompletedFrom": "memory",
        "EndedAt": "soon",
        "WaitS": "-3",
        "Attempt": "0",
        "RingNoAnswer": "x",
        "CompletedBy": "nobody",
    }
    for header, value in bad.items():
        event = Event(tuple((k, value if k == header else v) for k, v in headers))
        with pytest.raises(ValueError, match=gap.EVENT):
            gap.from_event(PBX, event)
        with pytest.raises(ValueError):
            AmiProjector().feed(PBX, event)


def test_only_attempts_whose_channel_is_gone_ended_during_the_gap() -> None:
    capture = Capture("two-calls-concurrent")
    projector = capture.projector_until(capture.index_after("AgentConnect", 2) or 0)
    open_now = projector.open_attempts(PBX)
    assert [a.call_id for a in open_now] == ["1795515159.0", "1795515161.2"]
    ended = gap.ended_during_gap(open_now, {"1795515161.2", "1795515163.3"})
    assert [a.call_id for a in ended] == ["1795515159.0"]
    assert gap.ended_during_gap(open_now, set()) == open_now


def test_agent_names_come_from_queue_status() -> None:
    members = [e for e in Capture("actions").events() if e.name == "QueueMember"]
    names = gap.agent_names(members)
    assert {k: v for k, v in names.items() if k in AGENTS} == AGENTS
    assert gap.interface_of("PJSIP/1002-0000000a") == "PJSIP/1002"
    assert gap.interface_of("Local/1001@from-agents-00000001;1") == "Local/1001@from-agents"


def test_nothing_to_complete_from_yet() -> None:
    capture = Capture("ringnoanswer")
    projector = capture.projector_until(capture.index_after("QueueCallerJoin") or 0)
    [attempt] = projector.open_attempts(PBX)
    before_the_end = [line for line in capture.queue_log_lines() if "COMPLETE" not in line]
    still_talking = parse_queue_log(before_the_end, pbx=PBX).attempts
    assert gap.from_queue_log(attempt, still_talking) is None
    assert gap.from_queue_log(attempt, []) is None
    assert gap.from_cdr(attempt, [], AGENTS) is None


def _record(app: str, start: float, end: float, data: str = "") -> CdrRecord:
    return CdrRecord(
        "9.1", "PJSIP/provider-01", "", app, data, "1500569", "from-provider", start, start, end, "ANSWERED"
    )


def test_a_queue_no_agent_was_rung_in_leaves_one_record_of_the_last_application() -> None:
    attempt = QueueAttempt(
        PBX, "9.1", 1, "cc-informasi", None, None, 1000.4, 1, facts.WAITING, None, None,
        None, None, None, None, None, None, None, 0, facts.SOURCE_AMI,
    )  # fmt: skip
    timed_out = gap.from_cdr(attempt, [_record("Hangup", 995.0, 1030.0)], AGENTS)
    assert timed_out is not None
    assert (timed_out.outcome, timed_out.ended_at, timed_out.wait_s) == (facts.TIMEOUT, 1030.0, 30.0)
    abandoned = gap.from_cdr(attempt, [_record("Queue", 995.0, 1012.0, "cc-informasi,t,,,30")], AGENTS)
    assert abandoned is not None and (abandoned.outcome, abandoned.wait_s) == (facts.ABANDONED, 12.0)
    # After another application the moment the queue ended is unknown: not guessed.
    assert gap.from_cdr(attempt, [_record("VoiceMail", 995.0, 1090.0, "100")], AGENTS) is None
