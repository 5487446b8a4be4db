"""Attempts AMI never saw (the caller was in a queue only while the link was down), from the captures.

A capture is replayed into the projector up to a cut (the link drops there); what queue_log or the
CDR says of the rest is turned into whole attempts and fed back through the synthetic event, as
the service does, and compared with the queue_log's own attempts of the same calls.
"""

from __future__ import annotations

import dataclasses

from hotline.ami.protocol import Event
from hotline.kpi import facts, gap, gap_unseen
from hotline.kpi.definitions import summarize
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_ami import AmiProjector
from hotline.kpi.gap import GapCompletion
from hotline.kpi.gap_unseen import Window
from hotline.rollup.contrib import effective

from .conftest import PBX, Capture

AGENTS = {"PJSIP/1001": "Siti Rahma", "PJSIP/1002": "Budi Santoso", "PJSIP/1003": "Rina Wati"}
AT = 1_800_000_000.0
COMPARED = ("queue", "outcome", "ended_at", "wait_s", "agent", "handle_s", "completed_by", "transfer_target")


def _feed(projector: AmiProjector, completions: list[GapCompletion]) -> list[QueueAttempt]:
    changed: list[QueueAttempt] = []
    for completion in completions:
        changed += projector.feed(PBX, Event(gap.to_headers(completion, AT)))
    return changed


def _known(projector: AmiProjector) -> dict[str, list[QueueAttempt]]:
    known: dict[str, list[QueueAttempt]] = {}
    for attempt in projector.attempts():
        known.setdefault(attempt.call_id, []).append(attempt)
    return known


def _cut_after(capture: Capture, name: str, nth: int = 1) -> tuple[AmiProjector, Window]:
    """The projector when the link dropped after the ``nth`` ``name``; the gap until the capture's end."""
    stop = capture.index_after(name, nth)
    assert stop is not None
    events = capture.events()
    since = float(events[stop - 1].get("Timestamp") or 0)
    until = float(events[-1].get("Timestamp") or 0) + 60
    return capture.projector_until(stop), Window(since, until)


def _fields(attempt: QueueAttempt) -> tuple[object, ...]:
    return tuple(getattr(attempt, name) for name in COMPARED)


def test_the_second_queue_of_a_call_transferred_during_the_gap_is_added() -> None:
    capture = Capture("blind-transfer")
    projector, window = _cut_after(capture, "AgentConnect")
    logged = capture.queue_log()
    [first] = projector.open_attempts(PBX)
    completion = gap.from_queue_log(first, logged)
    assert completion is not None
    unseen = gap_unseen.from_queue_log(logged, _known(projector), window)
    [second] = unseen.attempts
    assert (second.attempt, second.queue, second.entered_at) == (2, "sapa-helpdesk", 1795515819.0)
    assert unseen.unfinished == []
    _feed(projector, [completion, second])
    now = projector.attempts()
    assert [_fields(a) for a in now] == [_fields(a) for a in logged]
    assert [(a.attempt, a.source, a.completed_from) for a in now] == [
        (1, facts.SOURCE_AMI, facts.FROM_QUEUE_LOG),
        (2, facts.SOURCE_AMI, facts.FROM_QUEUE_LOG),
    ]
    assert now[1].hold_s is None and now[1].position == 1
    # The rollups count one source per call: with both attempts under AMI, the KPIs are queue_log's.
    both = [*now, *logged]
    assert effective(both) == now
    assert summarize(now).as_dict() == summarize(logged).as_dict()
    # The known attempt 1 is never added again, nor is attempt 2 once it is there.
    assert gap_unseen.from_queue_log(logged, _known(projector), window).attempts == []


def test_a_call_entirely_inside_the_gap_is_added_whole() -> None:
    for name in ("ringnoanswer", "abandon", "queue-timeout", "answered-hold"):
        capture = Capture(name)
        logged = capture.queue_log()
        projector = AmiProjector()
        window = Window(logged[0].entered_at - 5, (logged[-1].ended_at or 0) + 60)
        unseen = gap_unseen.from_queue_log(logged, {}, window)
        assert [a.attempt for a in unseen.attempts] == [1], name
        assert len(_feed(projector, unseen.attempts)) == 1
        [attempt] = projector.attempts()
        assert _fields(attempt) == _fields(logged[0]), name
        assert (attempt.entered_at, attempt.position, attempt.caller_number, attempt.ring_no_answer) == (
            logged[0].entered_at,
            logged[0].position,
            logged[0].caller_number,
            logged[0].ring_no_answer,
        )
        assert (attempt.source, attempt.completed_from, attempt.hold_s) == ("ami", "queue_log", None)
        assert projector.open_attempts(PBX) == []
        # The same whole attempt twice (a retry, a rebuild replaying the log) changes nothing.
        assert _feed(projector, unseen.attempts) == []


def test_outside_the_window_or_unfinished_nothing_is_added() -> None:
    capture = Capture("ringnoanswer")
    logged = capture.queue_log()
    entered = logged[0].entered_at
    assert gap_unseen.from_queue_log(logged, {}, Window(entered + 3, entered + 100)).attempts == []
    assert gap_unseen.from_queue_log(logged, {}, Window(entered - 100, entered - 1)).attempts == []
    still_talking = [dataclasses.replace(logged[0], outcome=facts.ANSWERED, ended_at=None, handle_s=None)]
    unseen = gap_unseen.from_queue_log(still_talking, {}, Window(entered - 5, entered + 100))
    assert (unseen.attempts, unseen.unfinished) == ([], [logged[0].call_id])


def test_ami_wins_over_an_added_attempt_of_a_stay_it_did_see() -> None:
    capture = Capture("answered-hold")
    logged = capture.queue_log()
    projector = AmiProjector()
    _feed(projector, gap_unseen.from_queue_log(logged, {}, Window(logged[0].entered_at - 5, AT)).attempts)
    for event in capture.events():  # the link was up after all: AMI's own events arrive
        projector.feed(PBX, event)
    full = AmiProjector()
    for event in capture.events():
        full.feed(PBX, event)
    assert projector.attempts() == full.attempts()
    assert projector.attempts()[0].completed_from is None and projector.attempts()[0].hold_s


def test_attempts_are_numbered_by_entry_whatever_arrives_first() -> None:
    capture = Capture("blind-transfer")
    logged = capture.queue_log()
    events = capture.events()
    second_join = capture.index_after("QueueCallerJoin", 2)
    assert second_join is not None
    # AMI saw only the second queue (the link came back during the transfer); queue_log has the first.
    projector = AmiProjector()
    for event in events[second_join - 1 :]:
        projector.feed(PBX, event)
    assert [a.queue for a in projector.attempts()] == ["sapa-helpdesk"]
    window = Window(logged[0].entered_at - 5, float(events[second_join - 1].get("Timestamp") or 0))
    unseen = gap_unseen.from_queue_log(logged, _known(projector), window)
    assert [(a.queue, a.attempt) for a in unseen.attempts] == [("cc-informasi", 2)]
    _feed(projector, unseen.attempts)
    now = projector.attempts()
    assert [(a.attempt, a.queue) for a in now] == [(1, "cc-informasi"), (2, "sapa-helpdesk")]
    assert _fields(now[0]) == _fields(logged[0]) and now[0].completed_from == facts.FROM_QUEUE_LOG
    assert now[1].completed_from is None  # AMI's own, with its microseconds


def test_cdr_tells_the_stays_that_rang_an_agent() -> None:
    expected = {
        "ringnoanswer": (facts.ANSWERED, "Budi Santoso", "PJSIP/1002", None),
        "abandon": (facts.ABANDONED, None, None, None),
        "queue-timeout": (facts.TIMEOUT, None, None, None),
        "two-calls-concurrent": (facts.ANSWERED, "Siti Rahma", "PJSIP/1001", None),
    }
    for name, (outcome, agent, interface, target) in expected.items():
        capture = Capture(name)
        records = capture.cdr().records
        logged = capture.queue_log()
        window = Window(min(r.start for r in records) - 1, max(r.end for r in records) + 1)
        unseen = gap_unseen.from_cdr(PBX, records, {}, window, AGENTS)
        calls = {a.call_id for a in logged}
        assert {a.call_id for a in unseen.attempts} == calls, name
        first = next(a for a in unseen.attempts if a.call_id == logged[0].call_id)
        assert (first.outcome, first.agent, first.agent_interface, first.transfer_target) == (
            outcome,
            agent,
            interface,
            target,
        )
        assert first.completed_from == facts.FROM_CDR
        assert logged[0].ended_at is not None and first.ended_at == logged[0].ended_at
        # What a CDR cannot say stays unknown; the entry is the channel's start, never after the join.
        assert (first.wait_s, first.connected_at, first.handle_s) == (None, None, None)
        assert first.entered_at is not None and first.entered_at <= logged[0].entered_at
        assert first.outcome == logged[0].outcome


def test_cdr_adds_the_second_queue_after_a_transfer_in_the_gap() -> None:
    capture = Capture("blind-transfer")
    projector, window = _cut_after(capture, "AgentConnect")
    records = capture.cdr().records
    unseen = gap_unseen.from_cdr(PBX, records, _known(projector), window, AGENTS)
    [second] = unseen.attempts
    logged = capture.queue_log()[1]
    assert (second.attempt, second.queue, second.entered_at) == (2, "sapa-helpdesk", logged.entered_at)
    assert (second.outcome, second.agent, second.ended_at) == (
        facts.ANSWERED,
        "Budi Santoso",
        logged.ended_at,
    )
    # Attempt 1 is AMI's, completed from the CDR: the call went on into a queue, a transfer.
    [first] = projector.open_attempts(PBX)
    completion = gap.from_cdr(first, records, AGENTS)
    assert completion is not None and completion.transfer_target == "1600@from-agents"
    _feed(projector, [completion, second])
    assert [(a.attempt, a.queue, a.outcome) for a in projector.attempts()] == [
        (1, "cc-informasi", facts.ANSWERED),
        (2, "sapa-helpdesk", facts.ANSWERED),
    ]


def test_a_whole_attempt_travels_as_its_own_event() -> None:
    whole = GapCompletion(
        PBX, "9.1", 2, "cc-informasi", facts.FROM_QUEUE_LOG, facts.ANSWERED, 1010.0, wait_s=3.0,
        agent="Siti Rahma", connected_at=1003.0, handle_s=7.0, completed_by=facts.BY_CALLER,
        ring_no_answer=1, entered_at=1000.0, position=2, caller_number="0812",
    )  # fmt: skip
    headers = gap.to_headers(whole, AT)
    assert Event(headers).name == gap.EVENT_ATTEMPT
    assert gap.from_event(PBX, Event(headers)) == whole
    without_entry = tuple((k, "" if k == "EnteredAt" else v) for k, v in headers)
    try:
        gap.from_event(PBX, Event(without_entry))
    except ValueError as exc:
        assert "EnteredAt" in str(exc)
    else:
        raise AssertionError("a whole attempt without its entry was accepted")
    # A completion's event never carries an entry: it completes, it does not add.
    ending = dataclasses.replace(whole, entered_at=None, position=None, caller_number=None)
    assert Event(gap.to_headers(ending, AT)).name == gap.EVENT


def test_ami_wins_over_a_stay_read_from_the_cdr_that_began_before_the_ivr() -> None:
    """A CDR stay starts with the caller's channel: 10 s of IVR before the join, yet the same stay."""
    capture = Capture("answered-hold")
    records = capture.cdr().records
    ivr = [dataclasses.replace(records[0], start=records[0].start - 10), *records[1:]]
    window = Window(min(r.start for r in ivr) - 1, max(r.end for r in ivr) + 1)
    [stay] = gap_unseen.from_cdr(PBX, ivr, {}, window, AGENTS).attempts
    full = AmiProjector()
    for event in capture.events():
        full.feed(PBX, event)
    [seen] = full.attempts()
    assert stay.entered_at is not None and seen.entered_at - stay.entered_at > 10
    projector = AmiProjector()
    _feed(projector, [stay])
    for event in capture.events():  # the link was up after all: AMI's own events arrive
        projector.feed(PBX, event)
    assert projector.attempts() == full.attempts()
    # Read again once AMI's attempt is known: the stay is no attempt to add.
    assert gap_unseen.from_cdr(PBX, ivr, _known(full), window, AGENTS).attempts == []
