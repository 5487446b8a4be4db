"""The real Asterisk 22 captures: AMI and queue_log must tell the same story, and the right one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hotline.kpi.definitions import by_agent, by_queue, summarize
from hotline.kpi.facts import QueueAttempt

from .conftest import Scenario

# Fields both sources know; times are compared separately (queue_log has whole seconds).
SHARED_FIELDS = (
    "pbx",
    "call_id",
    "attempt",
    "queue",
    "caller_number",
    "position",
    "outcome",
    "wait_s",
    "agent",
    "handle_s",
    "completed_by",
    "transfer_target",
    "ring_no_answer",
)
TIME_FIELDS = ("entered_at", "connected_at", "ended_at")
UNKNOWN_TO_QUEUE_LOG = ("talk_total", "hold_total")


def _pairs(scenario: Scenario) -> list[tuple[QueueAttempt, QueueAttempt]]:
    from_ami = scenario.from_ami()
    # The AMI session of `actions` logs off while the caller still waits: compare the same window.
    from_log = scenario.from_queue_log(until=scenario.last_ami_time()).attempts
    assert [a.key for a in from_ami] == [q.key for q in from_log]
    return list(zip(from_ami, from_log, strict=True))


def test_attempts_agree_field_by_field(scenario: Scenario) -> None:
    for ami, log in _pairs(scenario):
        assert ami.source == "ami" and log.source == "queue_log"
        for name in SHARED_FIELDS:
            assert getattr(ami, name) == getattr(log, name), (scenario.name, name)
        for name in TIME_FIELDS:
            a, q = getattr(ami, name), getattr(log, name)
            assert (a is None) == (q is None), (scenario.name, name)
            if a is not None and q is not None:
                assert abs(a - q) < 1.0, (scenario.name, name)
        assert log.hold_s is None and log.linkedid is None and log.agent_interface is None


def test_kpi_summaries_agree_exactly(scenario: Scenario) -> None:
    from_ami = scenario.from_ami()
    from_log = scenario.from_queue_log(until=scenario.last_ami_time()).attempts
    ami, log = summarize(from_ami).as_dict(), summarize(from_log).as_dict()
    for name in UNKNOWN_TO_QUEUE_LOG:
        # queue_log cannot split handling into talk and hold; with no ACD call both are 0.
        ami_value, log_value = ami.pop(name), log.pop(name)
        assert log_value is None if log["acd_calls"] else log_value == ami_value == 0
    assert ami == log
    for grouping in (by_queue, by_agent):
        a_groups, l_groups = grouping(from_ami), grouping(from_log)
        assert a_groups.keys() == l_groups.keys()
        for key in a_groups:
            a_dict, l_dict = a_groups[key].as_dict(), l_groups[key].as_dict()
            for name in UNKNOWN_TO_QUEUE_LOG:
                del a_dict[name], l_dict[name]
            assert a_dict == l_dict, (scenario.name, grouping.__name__, key)


def test_queue_log_of_every_capture_reads_without_errors(scenario: Scenario) -> None:
    assert scenario.from_queue_log().errors == []


EXPECTED = {
    # scenario: offered, answered, abandoned, timed_out, waiting, scr, aht, asa, ring_no_answer, longest_wait
    "abandon": (1, 0, 1, 0, 0, 0.0, None, None, 1, 8.0),
    "actions": (1, 0, 0, 0, 1, 0.0, None, None, 3, None),
    "agi-hangup": (0, 0, 0, 0, 0, None, None, None, 0, None),
    "login-failed": (0, 0, 0, 0, 0, None, None, None, 0, None),
    "answered-hold": (1, 1, 0, 0, 0, 100.0, 11.0, 2.0, 0, 2.0),
    "answered-hold-stopmixmonitor": (1, 1, 0, 0, 0, 100.0, 10.0, 2.0, 0, 2.0),
    "blind-transfer": (1, 1, 0, 0, 0, 100.0, 5.0, 2.0, 0, 2.0),
    "queue-timeout": (1, 0, 0, 1, 0, 0.0, None, None, 5, 30.0),
    "ringnoanswer": (1, 1, 0, 0, 0, 100.0, 6.0, 9.0, 1, 9.0),
    "two-calls-concurrent": (2, 2, 0, 0, 0, 100.0, 13.0, 1.0, 0, 1.0),
}


def test_hand_checked_kpis(scenario: Scenario) -> None:
    s = summarize(scenario.from_ami())
    got = (s.offered, s.answered, s.abandoned, s.timed_out, s.waiting, s.scr, s.aht, s.asa)
    assert (*got, s.ring_no_answer, s.longest_wait) == EXPECTED[scenario.name]
    assert s.offered == s.answered + s.abandoned + s.timed_out + s.exited + s.waiting


@pytest.mark.parametrize(
    ("name", "hold_start", "hold_end", "talk_time"),
    [
        ("answered-hold", 1795514653.601714, 1795514656.673103, 11.0),
        ("answered-hold-stopmixmonitor", 1795516077.134077, 1795516080.181142, 10.0),
    ],
)
def test_hold_comes_from_hold_unhold_on_the_agent_channel(
    load: Callable[[str], Scenario], name: str, hold_start: float, hold_end: float, talk_time: float
) -> None:
    [attempt] = load(name).from_ami()
    hold = hold_end - hold_start  # ~3.07 s: what the agent's re-INVITEs say
    assert attempt.hold_s == pytest.approx(hold, abs=1e-6)
    assert attempt.handle_s == talk_time  # TalkTime includes the hold ...
    assert attempt.talk_s == pytest.approx(talk_time - hold, abs=1e-6)  # ... so talk excludes it
    s = summarize([attempt])
    assert s.hold_total == pytest.approx(hold, abs=1e-6)
    assert s.talk_total is not None and s.hold_total is not None
    assert s.talk_total + s.hold_total == pytest.approx(talk_time)
    assert s.aht == talk_time and s.service_level == 100.0 and s.acd_calls == 1
    assert attempt.completed_by == "caller" and attempt.agent == "Siti Rahma"
    assert attempt.caller_number == "081234567890" and attempt.agent_interface == "PJSIP/1001"


def test_blind_transfer_is_one_call_and_two_acd_calls(load: Callable[[str], Scenario]) -> None:
    first, second = load("blind-transfer").from_ami()
    assert (first.call_id, first.attempt, first.queue) == ("1795515812.0", 1, "cc-informasi")
    assert (second.call_id, second.attempt, second.queue) == ("1795515812.0", 2, "sapa-helpdesk")
    assert first.completed_by == "transfer" and first.transfer_target == "1600@from-agents"
    assert first.hold_s == 0.0  # the Unhold Asterisk sends at the REFER has no Hold before it
    assert (first.handle_s, second.handle_s) == (4.0, 6.0)
    assert second.completed_by == "agent" and second.agent == "Budi Santoso"
    s = summarize([first, second])
    assert (s.offered, s.answered, s.acd_calls, s.transfers) == (1, 1, 2, 1)
    assert s.aht == (4 + 6) / 2 and s.scr == 100.0
    queues = by_queue([first, second])
    assert {q: (k.offered, k.answered, k.aht) for q, k in queues.items()} == {
        "cc-informasi": (1, 1, 4.0),
        "sapa-helpdesk": (1, 1, 6.0),
    }


def test_timeout_is_not_an_abandon(load: Callable[[str], Scenario]) -> None:
    [timeout] = load("queue-timeout").from_ami()
    [abandon] = load("abandon").from_ami()
    assert (timeout.outcome, timeout.wait_s, timeout.ring_no_answer) == ("timeout", 30.0, 5)
    assert (abandon.outcome, abandon.wait_s, abandon.ring_no_answer) == ("abandoned", 8.0, 1)
    s = summarize([timeout, abandon])
    assert (s.offered, s.abandoned, s.timed_out, s.short_abandoned, s.scr) == (2, 1, 1, 0, 0.0)
    assert s.abandon_rate == 50.0


def test_ringnoanswer_then_answer(load: Callable[[str], Scenario]) -> None:
    [attempt] = load("ringnoanswer").from_ami()
    assert (attempt.outcome, attempt.ring_no_answer, attempt.wait_s) == ("answered", 1, 9.0)
    assert (attempt.agent, attempt.completed_by, attempt.handle_s) == ("Budi Santoso", "agent", 6.0)


def test_two_concurrent_calls_stay_apart(load: Callable[[str], Scenario]) -> None:
    a, b = load("two-calls-concurrent").from_ami()
    assert (a.queue, a.agent, a.caller_number) == ("cc-informasi", "Siti Rahma", "081211112222")
    assert (b.queue, b.agent, b.caller_number) == ("cc-pengaduan", "Budi Santoso", "081233334444")
    assert a.linkedid == a.call_id and b.linkedid == b.call_id
    agents = by_agent([a, b])
    assert {k: (v.answered, v.aht) for k, v in agents.items()} == {
        "Budi Santoso": (1, 13.0),
        "Siti Rahma": (1, 13.0),
    }


def test_nothing_offered_without_a_queue(load: Callable[[str], Scenario]) -> None:
    assert load("agi-hangup").from_ami() == []
    assert load("agi-hangup").from_queue_log().attempts == []


def test_actions_capture_ends_while_the_caller_still_waits(load: Callable[[str], Scenario]) -> None:
    scenario = load("actions")
    [live] = scenario.from_ami()
    [logged] = scenario.from_queue_log().attempts  # the whole log: the caller gave up later
    assert (live.outcome, live.ring_no_answer) == ("waiting", 3)
    assert (logged.outcome, logged.wait_s, logged.ring_no_answer) == ("abandoned", 25.0, 3)
    assert len(scenario.from_queue_log().agent_events) == 6  # PAUSE/UNPAUSE/ADDMEMBER/REMOVEMEMBER
