"""queue_log reader: every verb, blind-transfer attempts, member verbs, and bad lines."""

from __future__ import annotations

import pytest

from hotline.kpi.from_queue_log import QueueLogProjector, parse_queue_log

PBX = "jkt-1"


def _one(text: str) -> dict[str, object]:
    result = parse_queue_log(text, pbx=PBX)
    assert result.errors == []
    [attempt] = result.attempts
    return {
        "outcome": attempt.outcome,
        "wait_s": attempt.wait_s,
        "ended_at": attempt.ended_at,
        "handle_s": attempt.handle_s,
        "completed_by": attempt.completed_by,
        "transfer_target": attempt.transfer_target,
    }


ENTER = "1000|c.1|q1|NONE|ENTERQUEUE||0811|2\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("1008|c.1|q1|NONE|ABANDON|1|2|8", ("abandoned", 8.0, 1008.0, None, None, None)),
        ("1030|c.1|q1|NONE|EXITWITHTIMEOUT|1|2|30", ("timeout", 30.0, 1030.0, None, None, None)),
        ("1003|c.1|q1|NONE|EXITEMPTY|1|2|3", ("exit_empty", 3.0, 1003.0, None, None, None)),
        ("1004|c.1|q1|NONE|EXITWITHKEY|5|1|2|4", ("exit_key", 4.0, 1004.0, None, None, None)),
        ("1006|c.1|q1|NONE|WITHDRAW|1|2|6|vip", ("timeout", 6.0, 1006.0, None, None, None)),
        ("1009|c.1|q1|Ani|COMPLETECALLER|2|7|2", ("answered", 2.0, 1009.0, 7.0, "caller", None)),
        ("1009|c.1|q1|Ani|COMPLETEAGENT|2|7|2", ("answered", 2.0, 1009.0, 7.0, "agent", None)),
        (
            "1009|c.1|q1|Ani|BLINDTRANSFER|1600|from-agents|2|7|2",
            ("answered", 2.0, 1009.0, 7.0, "transfer", "1600@from-agents"),
        ),
        (
            "1009|c.1|q1|Ani|ATTENDEDTRANSFER|BRIDGE|b-42|2|7|2",
            ("answered", 2.0, 1009.0, 7.0, "transfer", "BRIDGE|b-42"),
        ),
        (
            "1009|c.1|q1|Ani|ATTENDEDTRANSFER|LINK|Local/1@x-1;1|Local/1@x-1;2|2|7|2",
            ("answered", 2.0, 1009.0, 7.0, "transfer", "LINK|Local/1@x-1;1|Local/1@x-1;2"),
        ),
    ],
)
def test_every_verb_that_ends_an_attempt(line: str, expected: tuple[object, ...]) -> None:
    connect = "1002|c.1|q1|Ani|CONNECT|2|1002.5|1\n" if "|Ani|" in line else ""
    assert tuple(_one(ENTER + connect + line).values()) == expected


def test_enterqueue_connect_and_rings() -> None:
    text = ENTER + "1006|c.1|q1|Ani|RINGNOANSWER|6000\n1007|c.1|q1|Budi|RINGCANCELED|1000\n"
    text += "1009|c.1|q1|Cici|CONNECT|9|1009.4|2\n"
    [a] = parse_queue_log(text, pbx=PBX).attempts
    assert (a.pbx, a.call_id, a.attempt, a.queue, a.caller_number, a.position) == (
        PBX,
        "c.1",
        1,
        "q1",
        "0811",
        2,
    )
    assert (a.outcome, a.wait_s, a.agent, a.connected_at, a.ring_no_answer) == (
        "answered",
        9.0,
        "Cici",
        1009.0,
        1,
    )
    assert a.ended_at is None and a.handle_s is None and a.hold_s is None and a.source == "queue_log"


def test_blind_transfer_second_enterqueue_is_attempt_two() -> None:
    text = (
        ENTER
        + "1002|c.1|q1|Ani|CONNECT|2|1000.1|1\n"
        + "1006|c.1|q1|Ani|BLINDTRANSFER|1600|from-agents|2|4|1\n"
        + "1006|c.1|q2|NONE|ENTERQUEUE||0811|1\n"
        + "1008|c.1|q2|Budi|CONNECT|2|1006.2|2\n"
        + "1014|c.1|q2|Budi|COMPLETEAGENT|2|6|1\n"
    )
    first, second = parse_queue_log(text, pbx=PBX).attempts
    assert (first.attempt, first.queue, first.completed_by, first.handle_s) == (1, "q1", "transfer", 4.0)
    assert (second.attempt, second.queue, second.completed_by, second.handle_s) == (2, "q2", "agent", 6.0)
    assert (second.entered_at, second.agent) == (1006.0, "Budi")


def test_member_verbs_are_agent_events_not_attempts() -> None:
    text = (
        "1|NONE|q1|Rina Wati|PAUSE|istirahat\n"
        "2|MANAGER|q1|PJSIP/1004|ADDMEMBER|\n"
        "3|NONE|q1|Rina Wati|UNPAUSE|\n"
        "4|NONE|NONE|NONE|QUEUESTART|\n"
    )
    result = parse_queue_log(text, pbx=PBX)
    assert result.attempts == [] and result.errors == []
    assert [(e.at, e.agent, e.verb, e.data) for e in result.agent_events] == [
        (1.0, "Rina Wati", "PAUSE", ("istirahat",)),
        (2.0, "PJSIP/1004", "ADDMEMBER", ("",)),
        (3.0, "Rina Wati", "UNPAUSE", ("",)),
    ]


def test_malformed_lines_are_reported_with_their_number_and_reading_goes_on() -> None:
    text = (
        ENTER
        + "garbage\n"
        + "abc|c.1|q1|NONE|ABANDON|1|1|8\n"
        + "\n"
        + "1002|c.1|q1|Ani|CONNECT|soon|x|1\n"
        + "1003|NONE|q1|NONE|ABANDON|1|1|3\n"
        + "1004|c.1|q1|Ani|COMPLETECALLER|2\n"
        + "1005|c.1|q1|Ani|BLINDTRANSFER|2|7|1\n"
        + "1006|c.1|q1|NONE|SOMETHINGNEW|x\n"
        + "1007|c.1|q1|NONE|ABANDON|1|1|7\n"
    )
    result = parse_queue_log(text, pbx=PBX)
    assert [(e.line_no, e.reason) for e in result.errors] == [
        (2, "expected epoch|callid|queue|agent|event[|data...]"),
        (3, "epoch 'abc' is not a number"),
        (5, "CONNECT holdtime 'soon' is not a number"),
        (6, "ABANDON without a call id"),
        (7, "COMPLETECALLER needs holdtime|calltime|origpos"),
        (8, "BLINDTRANSFER needs exten|context before holdtime"),
    ]
    assert "queue_log line 5" in str(result.errors[2])
    [attempt] = result.attempts  # the bad lines left no trace on it
    assert (attempt.outcome, attempt.wait_s, attempt.agent, attempt.handle_s) == (
        "abandoned",
        7.0,
        None,
        None,
    )


def test_a_call_whose_enterqueue_was_rotated_away_still_counts() -> None:
    result = parse_queue_log("1020|c.9|q1|Ani|COMPLETECALLER|5|15|1\n", pbx=PBX)
    [attempt] = result.attempts
    assert (attempt.outcome, attempt.entered_at, attempt.connected_at) == ("answered", 1000.0, 1005.0)
    assert (attempt.wait_s, attempt.handle_s, attempt.agent, attempt.caller_number) == (
        5.0,
        15.0,
        "Ani",
        None,
    )


def test_feed_line_returns_the_changed_attempt_as_a_copy() -> None:
    reader = QueueLogProjector(PBX)
    [entered] = reader.feed_line(ENTER)
    assert entered.outcome == "waiting"
    [left] = reader.feed_line("1008|c.1|q1|NONE|ABANDON|1|2|8\r\n")
    assert entered.outcome == "waiting" and left.outcome == "abandoned"  # no aliasing
    assert reader.feed_line("1009|c.1|q1|NONE|RINGCANCELED|10") == []
    assert reader.attempts() == [left]
