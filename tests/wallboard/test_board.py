"""The wallboard state: waiting callers, agents by state, resync, and a rolling 24 h that never resets."""

from __future__ import annotations

from hotline.ami.protocol import Event
from hotline.rollup.contrib import WIDTH
from hotline.rollup.tables import INTERVAL_S, SUM_COLUMNS
from hotline.wallboard.board import DAY_BUCKETS, Board

MIDNIGHT_JAKARTA = 1_767_200_400  # 2026-01-01T00:00:00+07:00


def _event(name: str, **headers: str) -> Event:
    return Event((("Event", name), *headers.items()))


def _board() -> Board:
    return Board({"jkt": "jakarta", "yog": "yogyakarta"}, scr_target=90, aht_target=450, service_level_s=20)


def _vector(**values: int) -> list[int]:
    vector = [0] * WIDTH
    for name, value in values.items():
        vector[SUM_COLUMNS.index(name)] = value
    return vector


def test_waiting_callers_and_the_longest_wait() -> None:
    board = _board()
    board.on_event("jkt", _event("QueueCallerJoin", Queue="q1", Uniqueid="1.1"), 1000.0)
    board.on_event("jkt", _event("QueueCallerJoin", Queue="q1", Uniqueid="1.2"), 1010.0)
    board.on_event("yog", _event("QueueCallerJoin", Queue="q1", Uniqueid="1.1"), 1005.0)
    snap = board.snapshot(1020.0)
    assert snap["total"]["waiting"] == 3 and snap["total"]["oldest_join"] == 1000.0
    assert board.on_event("jkt", _event("QueueCallerAbandon", Queue="q1", Uniqueid="1.1"), 1030.0)
    assert not board.on_event("jkt", _event("QueueCallerLeave", Queue="q1", Uniqueid="1.1"), 1030.0)
    jakarta = board.snapshot(1040.0)["sites"][0]
    assert (jakarta["site"], jakarta["waiting"], jakarta["oldest_join"]) == ("jakarta", 1, 1010.0)


def test_agents_by_state_and_the_resync_after_a_reconnect() -> None:
    board = _board()
    member = {"Queue": "q1", "Interface": "PJSIP/1001", "MemberName": "Siti", "Paused": "0"}
    board.on_event("jkt", _event("QueueMemberStatus", Status="1", **member), 1.0)
    board.on_event("jkt", _event("QueueMemberStatus", Status="2", **{**member, "Queue": "q2"}), 1.0)
    board.on_event(
        "jkt", _event("QueueMemberStatus", Status="1", **{**member, "Interface": "PJSIP/1002"}), 1.0
    )
    board.on_event(
        "jkt",
        _event(
            "QueueMemberPause",
            **{**member, "Interface": "PJSIP/1002", "Paused": "1", "PausedReason": "lunch"},
        ),
        1.0,
    )
    board.on_event(
        "jkt", _event("QueueMemberStatus", Status="5", **{**member, "Interface": "PJSIP/1003"}), 1.0
    )
    board.on_event("jkt", _event("QueueCallerJoin", Queue="q1", Uniqueid="9.9"), 1.0)
    agents = board.snapshot(2.0)["total"]["agents"]
    assert agents == {"available": 0, "ringing": 0, "talking": 1, "paused": 1, "offline": 1}
    # Reconnect: QueueStatus says q1 has only 1001 (Name/Location spelling), idle, and one caller waiting 7 s.
    board.on_event("jkt", _event("QueueParams", Queue="q1"), 50.0)
    board.on_event(
        "jkt",
        _event("QueueMember", Queue="q1", Name="Siti", Location="PJSIP/1001", Status="1", Paused="0"),
        50.0,
    )
    board.on_event("jkt", _event("QueueEntry", Queue="q1", Uniqueid="9.8", Wait="7"), 50.0)
    board.on_event("jkt", _event("QueueParams", Queue="q2"), 50.0)
    snap = board.snapshot(51.0)
    q1 = next(q for q in snap["sites"][0]["queues"] if q["queue"] == "q1")
    assert (q1["waiting"], q1["oldest_join"]) == (1, 43.0)
    assert q1["agents"]["available"] == 1 and sum(q1["agents"].values()) == 1
    assert snap["total"]["agents"]["available"] == 1


def test_rolling_24_hours_cross_midnight_and_forget_what_is_older() -> None:
    board = _board()
    before_midnight = MIDNIGHT_JAKARTA - INTERVAL_S
    board.on_rollup(
        {
            ("jkt", "q1", "", before_midnight): _vector(
                offered=10, answered=9, attempts_offered=10, attempts_answered=9
            )
        }
    )
    board.on_rollup(
        {
            ("jkt", "q1", "", MIDNIGHT_JAKARTA): _vector(
                offered=4, answered=2, attempts_offered=4, attempts_answered=2
            )
        }
    )
    board.on_rollup(
        {("jkt", "q1", "Siti", MIDNIGHT_JAKARTA): _vector(offered=99)}
    )  # agent rows are inside the queue row
    snap = board.snapshot(MIDNIGHT_JAKARTA + 60)
    assert snap["total"]["current"]["offered"] == 4
    assert snap["total"]["day"]["offered"] == 14 and snap["total"]["day"]["answered"] == 11
    assert snap["total"]["day"]["scr_ok"] is False and snap["total"]["current"]["scr"] == 50.0
    # A day later the first bucket has left the window, and pruning frees it.
    later = before_midnight + DAY_BUCKETS * INTERVAL_S + 1
    assert board.snapshot(later)["total"]["day"]["offered"] == 4
    board.prune(later)
    assert list(board.buckets[("jkt", "q1")]) == [MIDNIGHT_JAKARTA]


def test_warm_start_from_rollup_rows_and_a_pbx_clock_that_runs_ahead() -> None:
    board = _board()
    row = {"pbx": "yog", "queue": "q9", "interval_start": MIDNIGHT_JAKARTA, **dict.fromkeys(SUM_COLUMNS, 0)}
    board.warm([{**row, "offered": 3, "attempts_offered": 3}])
    board.on_event(
        "yog",
        _event("QueueCallerJoin", Queue="q9", Uniqueid="1.1", Timestamp=str(MIDNIGHT_JAKARTA + 10)),
        MIDNIGHT_JAKARTA - 30,
    )
    snap = board.snapshot(MIDNIGHT_JAKARTA - 20)  # our clock is behind the PBX's: its interval counts
    assert snap["interval_start"] == MIDNIGHT_JAKARTA
    assert snap["sites"][0]["site"] == "yogyakarta" and snap["sites"][0]["current"]["offered"] == 3
