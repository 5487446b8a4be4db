"""Agent sessions from AMI member events and from queue_log member verbs (pure projections)."""

from __future__ import annotations

import math
import random

import pytest

from hotline.ami.protocol import Event
from hotline.kpi import facts
from hotline.kpi.agent_definitions import agent_times, totals
from hotline.kpi.agent_queue_log import sessions_from_queue_log
from hotline.kpi.agent_reconcile import reconcile_agents
from hotline.kpi.agent_sessions import AgentSessionProjector
from hotline.kpi.agent_spans import LOGIN, PAUSE, AgentSpan
from hotline.kpi.from_queue_log import parse_queue_log

from .conftest import PBX, Scenario

T0 = 1_795_500_000
AGENT, IFACE = "Ani Lestari", "PJSIP/2001"


def member(
    name: str,
    queue: str,
    at: float | None,
    *,
    agent: str = AGENT,
    iface: str = IFACE,
    login: int = T0,
    paused: bool = False,
    reason: str = "",
    last_pause: int = 0,
    action: str | None = None,
) -> Event:
    """A queue member event as Asterisk 22 writes it (list items have Name/Location, no Timestamp)."""
    list_item = name == "QueueMember"
    headers = [("Event", name)]
    if at is not None:
        headers.append(("Timestamp", f"{at:.6f}"))
    headers += [
        ("Queue", queue),
        ("Name" if list_item else "MemberName", agent),
        ("Location" if list_item else "Interface", iface),
        ("StateInterface", iface),
        ("Membership", "dynamic"),
        ("LastPause", str(last_pause)),
        ("LoginTime", str(login)),
        ("Paused", "1" if paused else "0"),
        ("PausedReason", reason),
    ]
    if action is not None:
        headers.append(("ActionID", action))
    return Event(tuple(headers))


def spans_of(events: list[Event], projector: AgentSessionProjector | None = None) -> list[AgentSpan]:
    projector = projector or AgentSessionProjector()
    for event in events:
        projector.feed(PBX, event)
    return projector.spans()


def shape(spans: list[AgentSpan]) -> list[tuple[str, str, float, float | None, str | None]]:
    return sorted((s.agent, s.kind, s.started_at, s.ended_at, s.reason) for s in spans)


# --- the captures ------------------------------------------------------------------------------


def test_the_actions_capture_gives_the_sessions_asterisk_reported(load: object) -> None:
    actions = Scenario("actions")
    spans = shape(spans_of(actions.events()))
    # Dewi Anggraini: QueueAdd at ...391, paused 'istirahat' ...392 -> ...393, removed ...394.
    assert ("Dewi Anggraini", LOGIN, 1795515391.0, 1795515394.0, None) in spans
    assert ("Dewi Anggraini", PAUSE, 1795515392.0, 1795515393.0, "istirahat") in spans
    # The static members are logged in since Asterisk started (LoginTime), still at the end.
    for name in ("Siti Rahma", "Budi Santoso", "Rina Wati"):
        assert (name, LOGIN, 1795515375.0, None, None) in spans
    # Rina Wati was paused in cc-pengaduan only: still taking calls from her other queues.
    assert not [s for s in spans if s[0] == "Rina Wati" and s[1] == PAUSE]
    assert len(spans) == 5


def test_the_actions_queue_log_names_dewi_by_her_interface_and_tells_the_same_story() -> None:
    actions = Scenario("actions")
    result = actions.from_queue_log()
    sessions = sessions_from_queue_log(result, pbx=PBX)
    # ADDMEMBER/REMOVEMEMBER name PJSIP/1004 (log_membername_as_agent = no); PAUSE names Dewi.
    assert sessions.names == {"PJSIP/1004": "Dewi Anggraini"} and sessions.ambiguous == []
    spans = shape(sessions.spans)
    assert ("Dewi Anggraini", LOGIN, 1795515391.0, 1795515394.0, None) in spans
    assert ("Dewi Anggraini", PAUSE, 1795515392.0, 1795515393.0, "istirahat") in spans
    # Never added in the log: members from its first line (1795515382) to its last (...407).
    for name in ("Siti Rahma", "Budi Santoso", "Rina Wati"):
        assert (name, LOGIN, 1795515382.0, 1795515407.0, None) in spans
    assert not [s for s in spans if s[0] == "Rina Wati" and s[1] == PAUSE]


def test_both_sources_give_the_same_agent_figures_over_the_time_both_cover() -> None:
    actions = Scenario("actions")
    events = actions.events()
    log = actions.from_queue_log()
    stamps = [float(t) for e in events if (t := e.get("Timestamp"))]
    assert log.first_at is not None and log.last_at is not None
    since = float(max(math.ceil(min(stamps)), log.first_at))
    until = float(min(math.floor(max(stamps)), log.last_at))
    result = reconcile_agents(spans_of(events), sessions_from_queue_log(log, pbx=PBX).spans, since, until)
    assert result.agree, result.differences
    assert result.ami == result.queue_log
    assert result.ami["Dewi Anggraini"] == {
        "login_s": 3.0,
        "pause_s": 1.0,
        "pause_by_reason": {"istirahat": 1.0},
        "available_s": 2.0,
        "occupancy": 0.0,
    }
    assert set(result.ami) == {"Dewi Anggraini", "Siti Rahma", "Budi Santoso", "Rina Wati"}
    assert result.ami["Rina Wati"]["login_s"] == until - since


def test_a_source_that_lost_a_pause_is_a_difference() -> None:
    actions = Scenario("actions")
    log = actions.from_queue_log()
    log.agent_events = [e for e in log.agent_events if e.verb != "UNPAUSE" or e.agent != "Dewi Anggraini"]
    result = reconcile_agents(
        spans_of(actions.events()), sessions_from_queue_log(log, pbx=PBX).spans, 1795515383.0, 1795515403.0
    )
    assert not result.agree
    # Without the unpause, queue_log keeps Dewi paused until her removal.
    assert result.differences["Dewi Anggraini"]["pause_s"] == (1.0, 2.0)


# --- hand-made sequences -----------------------------------------------------------------------


def test_a_pause_in_some_queues_only_is_no_pause_of_the_agent() -> None:
    t = T0 + 100
    events = [
        member("QueueMemberAdded", "q1", t),
        member("QueueMemberAdded", "q2", t + 1),
        member("QueueMemberPause", "q1", t + 10, paused=True, reason="istirahat", last_pause=t + 10),
        member("QueueMemberPause", "q2", t + 20, paused=True, reason="makan", last_pause=t + 20),
        member("QueueMemberPause", "q1", t + 30, last_pause=t + 10),
        member("QueueMemberPause", "q2", t + 40, last_pause=t + 20),
    ]
    spans = shape(spans_of([member("QueueMemberAdded", "q1", t, login=t), *events[1:]]))
    # Paused in both from t+20 (the latest pause gives the reason) until q1 is unpaused at t+30.
    assert [s for s in spans if s[1] == PAUSE] == [(AGENT, PAUSE, t + 20.0, t + 30.0, "makan")]


def test_overlapping_memberships_make_one_login() -> None:
    t = T0 + 500
    spans = shape(
        spans_of(
            [
                member("QueueMemberAdded", "q1", t, login=t),
                member("QueueMemberAdded", "q2", t + 50, login=t + 50),
                member("QueueMemberRemoved", "q1", t + 100, login=t),
                member("QueueMemberRemoved", "q2", t + 200, login=t + 50),
            ]
        )
    )
    assert spans == [(AGENT, LOGIN, t + 0.0, t + 200.0, None)]


def test_a_logout_while_paused_ends_the_pause() -> None:
    t = T0 + 900
    spans = shape(
        spans_of(
            [
                member("QueueMemberAdded", "q1", t, login=t),
                member(
                    "QueueMemberPause", "q1", t + 60, login=t, paused=True, reason="sholat", last_pause=t + 60
                ),
                member(
                    "QueueMemberRemoved",
                    "q1",
                    t + 90.5,
                    login=t,
                    paused=True,
                    reason="sholat",
                    last_pause=t + 60,
                ),
            ]
        )
    )
    assert spans == [
        (AGENT, LOGIN, t + 0.0, t + 90.0, None),
        (AGENT, PAUSE, t + 60.0, t + 90.0, "sholat"),
    ]


def test_a_new_reason_while_paused_starts_a_new_pause() -> None:
    t = T0 + 1300
    spans = shape(
        spans_of(
            [
                member("QueueMemberAdded", "q1", t, login=t),
                member(
                    "QueueMemberPause",
                    "q1",
                    t + 10,
                    login=t,
                    paused=True,
                    reason="briefing",
                    last_pause=t + 10,
                ),
                member(
                    "QueueMemberPause", "q1", t + 70, login=t, paused=True, reason="makan", last_pause=t + 70
                ),
                member("QueueMemberPause", "q1", t + 100, login=t, last_pause=t + 70),
            ]
        )
    )
    assert [s for s in spans if s[1] == PAUSE] == [
        (AGENT, PAUSE, t + 10.0, t + 70.0, "briefing"),
        (AGENT, PAUSE, t + 70.0, t + 100.0, "makan"),
    ]


def _a_shift(t: int) -> list[Event]:
    """Two agents, two queues, pauses, a logout and a re-login: facts of every kind."""
    return [
        member("QueueMemberAdded", "q1", t + 0.2, login=t),
        member("QueueMemberAdded", "q2", t + 0.4, login=t),
        member("QueueMemberAdded", "q1", t + 5.1, login=t + 5, agent="Budi", iface="PJSIP/2002"),
        member("QueueMemberStatus", "q1", t + 9.0, login=t),
        member(
            "QueueMemberPause", "q1", t + 30.1, login=t, paused=True, reason="istirahat", last_pause=t + 30
        ),
        member(
            "QueueMemberPause", "q2", t + 30.2, login=t, paused=True, reason="istirahat", last_pause=t + 30
        ),
        member(
            "QueueMemberStatus", "q2", t + 45.0, login=t, paused=True, reason="istirahat", last_pause=t + 30
        ),
        member("QueueMemberPause", "q1", t + 95.7, login=t, last_pause=t + 30),
        member("QueueMemberPause", "q2", t + 95.8, login=t, last_pause=t + 30),
        member(
            "QueueMemberPause",
            "q1",
            t + 120.3,
            login=t + 5,
            paused=True,
            reason="toilet",
            last_pause=t + 120,
            agent="Budi",
            iface="PJSIP/2002",
        ),
        member("QueueMemberRemoved", "q1", t + 200.1, login=t),
        member("QueueMemberRemoved", "q2", t + 200.2, login=t),
        member("QueueMemberAdded", "q1", t + 230.6, login=t + 230),
        member(
            "QueueMemberPause",
            "q1",
            t + 260.0,
            login=t + 5,
            last_pause=t + 120,
            agent="Budi",
            iface="PJSIP/2002",
        ),
    ]


def test_out_of_order_and_repeated_events_give_the_same_spans() -> None:
    events = _a_shift(T0 + 2000)
    in_order = shape(spans_of(events))
    assert (AGENT, LOGIN, T0 + 2000.0, T0 + 2200.0, None) in in_order
    assert (AGENT, LOGIN, T0 + 2230.0, None, None) in in_order
    assert (AGENT, PAUSE, T0 + 2030.0, T0 + 2095.0, "istirahat") in in_order
    assert ("Budi", PAUSE, T0 + 2120.0, T0 + 2260.0, "toilet") in in_order
    for seed in range(20):
        shuffled = events * 2
        random.Random(seed).shuffle(shuffled)
        assert shape(spans_of(shuffled)) == in_order, seed


def test_an_event_fed_again_changes_nothing() -> None:
    projector = AgentSessionProjector()
    for event in _a_shift(T0 + 3000):
        projector.feed(PBX, event)
    assert projector.changes().upserts
    for event in _a_shift(T0 + 3000):
        assert projector.feed(PBX, event) is False
    assert not projector.changes()


def test_a_resync_snapshot_shows_an_agent_already_logged_in_and_paused() -> None:
    t = T0 + 5000
    projector = AgentSessionProjector()
    snapshot = [
        member("QueueMemberStatus", "q9", t + 600, agent="Other", iface="PJSIP/2099"),
        Event((("Event", "QueueParams"), ("Queue", "q1"), ("ActionID", "resync-1"))),
        member(
            "QueueMember",
            "q1",
            None,
            login=t,
            paused=True,
            reason="briefing",
            last_pause=t + 300,
            action="resync-1",
        ),
        Event((("Event", "QueueStatusComplete"), ("ActionID", "resync-1"), ("EventList", "Complete"))),
    ]
    spans = shape(spans_of(snapshot, projector))
    assert (AGENT, LOGIN, t + 0.0, None, None) in spans
    assert (AGENT, PAUSE, t + 300.0, None, "briefing") in spans
    # A later complete answer that no longer lists the agent in q1: logged out by then.
    later = [
        member("QueueMemberStatus", "q9", t + 900, agent="Other", iface="PJSIP/2099"),
        Event((("Event", "QueueParams"), ("Queue", "q1"), ("ActionID", "resync-2"))),
        Event((("Event", "QueueStatusComplete"), ("ActionID", "resync-2"), ("EventList", "Complete"))),
    ]
    spans = shape(spans_of(later, projector))
    assert (AGENT, LOGIN, t + 0.0, t + 900.0, None) in spans
    assert (AGENT, PAUSE, t + 300.0, t + 900.0, "briefing") in spans


def test_a_restart_goes_on_from_the_spans_stored_open() -> None:
    t = T0 + 8000
    stored = [
        AgentSpan(PBX, AGENT, LOGIN, float(t), None, None, str(t), IFACE),
        AgentSpan(PBX, AGENT, PAUSE, t + 60.0, None, "makan", str(t + 60), IFACE),
    ]
    projector = AgentSessionProjector()
    projector.seed(stored)
    # The unpause is the first event after the restart.
    projector.feed(PBX, member("QueueMemberPause", "q1", t + 1800.2, login=t, last_pause=t + 60))
    changes = projector.changes()
    assert {(s.kind, s.started_at, s.ended_at, s.reason) for s in changes.upserts} == {
        (PAUSE, t + 60.0, t + 1800.0, "makan")
    }
    assert changes.deletes == []


def test_folding_the_past_keeps_every_span_and_its_key() -> None:
    written: dict[object, AgentSpan] = {}
    kept: dict[object, AgentSpan] = {}
    folding, keeping = AgentSessionProjector(memory_s=600), AgentSessionProjector(memory_s=10**9)
    for hour in range(6):
        for event in _a_shift(T0 + 10_000 + hour * 1800):
            for projector, into in ((folding, written), (keeping, kept)):
                projector.feed(PBX, event)
                changes = projector.changes()
                for key in changes.deletes:
                    into.pop(key, None)
                into.update((s.key, s) for s in changes.upserts)
    assert written == kept
    assert len(folding.spans()) < len(keeping.spans())


def test_an_agent_is_named_by_interface_without_a_member_name() -> None:
    spans = spans_of([member("QueueMemberAdded", "q1", T0 + 1.5, agent="", login=T0)])
    assert [(s.agent, s.interface) for s in spans] == [(IFACE, IFACE)]


# --- queue_log ---------------------------------------------------------------------------------


def _log(*lines: str) -> list[AgentSpan]:
    return sessions_from_queue_log(parse_queue_log("\n".join(lines), pbx=PBX), pbx=PBX).spans


def test_pauseall_pauses_the_agent_in_every_queue() -> None:
    t = T0
    spans = shape(
        _log(
            f"{t}|MANAGER|q1|Ani|ADDMEMBER|",
            f"{t}|MANAGER|q2|Ani|ADDMEMBER|",
            f"{t + 40}|NONE|NONE|Ani|PAUSEALL|makan",
            f"{t + 40}|NONE|q1|Ani|PAUSE|makan",
            f"{t + 40}|NONE|q2|Ani|PAUSE|makan",
            f"{t + 100}|NONE|NONE|Ani|UNPAUSEALL|",
            f"{t + 100}|NONE|q1|Ani|UNPAUSE|",
            f"{t + 100}|NONE|q2|Ani|UNPAUSE|",
            f"{t + 130}|MANAGER|q1|Ani|REMOVEMEMBER|",
            f"{t + 131}|MANAGER|q2|Ani|REMOVEMEMBER|",
        )
    )
    assert spans == [("Ani", LOGIN, t + 0.0, t + 131.0, None), ("Ani", PAUSE, t + 40.0, t + 100.0, "makan")]


def test_queue_log_spans_open_at_the_end_stop_at_the_last_line() -> None:
    t = T0
    spans = shape(
        _log(
            f"{t}|MANAGER|q1|Ani|ADDMEMBER|PAUSED",
            f"{t + 20}|NONE|q1|Ani|UNPAUSE|",
            f"{t + 50}|x|q1|NONE|ENTERQUEUE||1|1",
        )
    )
    # Added paused: paused (no reason) from the add.
    assert spans == [("Ani", LOGIN, t + 0.0, t + 50.0, None), ("Ani", PAUSE, t + 0.0, t + 20.0, "")]


@pytest.mark.parametrize("named_in_store", [False, True])
def test_two_agents_added_by_interface_together_cannot_be_told_apart(named_in_store: bool) -> None:
    t = T0
    log = parse_queue_log(
        "\n".join(
            [
                f"{t}|MANAGER|q1|PJSIP/2001|ADDMEMBER|",
                f"{t + 1}|MANAGER|q1|PJSIP/2002|ADDMEMBER|",
                f"{t + 30}|NONE|q1|Ani|PAUSE|makan",
                f"{t + 40}|NONE|q1|Budi|PAUSE|makan",
                f"{t + 90}|MANAGER|q1|PJSIP/2001|REMOVEMEMBER|",
                f"{t + 91}|MANAGER|q1|PJSIP/2002|REMOVEMEMBER|",
            ]
        ),
        pbx=PBX,
    )
    names = {"PJSIP/2001": "Ani", "PJSIP/2002": "Budi"} if named_in_store else {}
    sessions = sessions_from_queue_log(log, pbx=PBX, names=names)
    if named_in_store:
        assert sessions.ambiguous == []
        assert ("Ani", PAUSE, t + 30.0, t + 90.0, "makan") in shape(sessions.spans)
    else:
        assert sessions.ambiguous == ["Ani", "Budi"]


def test_figures_from_queue_log_spans_and_ami_spans_match_for_the_same_shift() -> None:
    t = T0
    ami = spans_of(
        [
            member("QueueMemberAdded", "q1", t + 0.3, login=t),
            member(
                "QueueMemberPause",
                "q1",
                t + 60.2,
                login=t,
                paused=True,
                reason="istirahat",
                last_pause=t + 60,
            ),
            member("QueueMemberPause", "q1", t + 360.9, login=t, last_pause=t + 60),
            member("QueueMemberRemoved", "q1", t + 3600.4, login=t),
        ]
    )
    log = _log(
        f"{t}|MANAGER|q1|{AGENT}|ADDMEMBER|",
        f"{t + 60}|NONE|q1|{AGENT}|PAUSE|istirahat",
        f"{t + 360}|NONE|q1|{AGENT}|UNPAUSE|",
        f"{t + 3600}|MANAGER|q1|{AGENT}|REMOVEMEMBER|",
    )
    assert [s.source for s in log] == [facts.SOURCE_QUEUE_LOG] * 2
    window = (t - 100.0, t + 4000.0)
    assert (
        totals(agent_times(ami, *window))[AGENT].as_dict()
        == totals(agent_times(log, *window))[AGENT].as_dict()
    )


def test_an_unpause_and_a_new_pause_in_one_second_keep_their_order() -> None:
    t = T0
    log = _log(
        f"{t}|MANAGER|q1|Ani|ADDMEMBER|",
        f"{t + 10}|NONE|q1|Ani|PAUSE|istirahat",
        f"{t + 50}|NONE|q1|Ani|UNPAUSE|Auto-Unpause",
        f"{t + 50}|NONE|q1|Ani|PAUSE|makan",
        f"{t + 80}|NONE|q1|Ani|UNPAUSE|",
        f"{t + 99}|MANAGER|q1|Ani|REMOVEMEMBER|",
    )
    expected = [("Ani", PAUSE, t + 10.0, t + 50.0, "istirahat"), ("Ani", PAUSE, t + 50.0, t + 80.0, "makan")]
    assert [s for s in shape(log) if s[1] == PAUSE] == expected
    events = [
        member("QueueMemberAdded", "q1", t + 0.1, agent="Ani", login=t),
        member(
            "QueueMemberPause",
            "q1",
            t + 10.1,
            agent="Ani",
            paused=True,
            reason="istirahat",
            last_pause=t + 10,
        ),
        member("QueueMemberPause", "q1", t + 50.2, agent="Ani", last_pause=t + 10),
        member(
            "QueueMemberPause", "q1", t + 50.7, agent="Ani", paused=True, reason="makan", last_pause=t + 50
        ),
        member("QueueMemberPause", "q1", t + 80.1, agent="Ani", last_pause=t + 50),
    ]
    for seed in range(10):
        random.Random(seed).shuffle(events)
        assert [s for s in shape(spans_of(events)) if s[1] == PAUSE] == expected


def test_a_restart_keeps_the_stored_login_start_and_a_resync_can_end_it() -> None:
    t = T0 + 9000
    stored = AgentSpan(PBX, AGENT, LOGIN, float(t), None, None, str(t), IFACE)
    projector = AgentSessionProjector()
    projector.seed([stored])
    # Asterisk restarted meanwhile: the member now shows a later LoginTime; the login goes on.
    projector.feed(PBX, member("QueueMemberStatus", "q1", t + 700.5, login=t + 600))
    assert not projector.changes()
    assert shape(projector.spans()) == [(AGENT, LOGIN, t + 0.0, None, None)]

    gone = AgentSessionProjector()
    gone.seed([stored])
    resync = [
        Event((("Event", "QueueParams"), ("Queue", "q1"), ("ActionID", "r"), ("Timestamp", f"{t + 900}"))),
        Event((("Event", "QueueStatusComplete"), ("ActionID", "r"), ("Timestamp", f"{t + 900.4}"))),
    ]
    for event in resync:
        gone.feed(PBX, event)
    # Listed in no queue by the resync: logged out (at the latest) then.
    assert shape(gone.changes().upserts) == [(AGENT, LOGIN, t + 0.0, t + 900.0, None)]
