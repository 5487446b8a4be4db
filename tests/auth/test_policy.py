"""The access rules as tables: every role against every kind of target, allowed and refused."""

from __future__ import annotations

import pytest

from hotline.auth import Principal, can_control_call, can_listen, can_see_agent
from hotline.auth.model import interface_of

AGENT_1001 = Principal("1001", "agent", iface="PJSIP/1001", team="A", site="jakarta")
AGENT_1001_JKT = Principal("1001", "agent", iface="PJSIP/1001", team="A", pbx="jkt")
AGENT_2001 = Principal("2001", "agent", iface="PJSIP/2001", team="B")
LEADER_A = Principal("tl.rina", "team_leader", team="A")
LEADER_A_WITH_PHONE = Principal("tl.budi", "team_leader", iface="PJSIP/1900", team="A")
LEADER_NO_TEAM = Principal("tl.lost", "team_leader")
QC = Principal("qc.dewi", "qc")
QA = Principal("qa.andi", "qa")
ADMIN = Principal("admin", "admin")


@pytest.mark.parametrize(
    ("who", "agent", "team", "allowed"),
    [
        (QC, "1001", "A", True),
        (QC, "2001", None, True),  # QC hears every recording, team known or not
        (QA, "2001", "B", True),
        (ADMIN, "1001", "A", True),
        (LEADER_A, "1001", "A", True),
        (LEADER_A, "1002", "a", True),  # team names compare case-blind
        (LEADER_A, "2001", "B", False),  # another team
        (LEADER_A, "1001", None, False),  # team unknown: refused, not guessed
        (LEADER_A, None, "A", False),  # no agent on the recording
        (LEADER_NO_TEAM, "1001", "A", False),
        (AGENT_1001, "1001", "A", False),  # agents never, not even their own calls
        (AGENT_1001, "1002", "A", False),
        (AGENT_2001, "1001", "A", False),
    ],
)
def test_can_listen(who: Principal, agent: str | None, team: str | None, allowed: bool) -> None:
    assert can_listen(who, agent, team) is allowed


@pytest.mark.parametrize(
    ("who", "agent", "team", "allowed"),
    [
        (AGENT_1001, "1001", "A", True),  # themselves
        (AGENT_1001, "1001", None, True),
        (AGENT_1001, "1002", "A", False),  # a teammate
        (AGENT_1001, "2001", "B", False),
        (AGENT_2001, "1001", "A", False),
        (LEADER_A, "1001", "A", True),
        (LEADER_A, "2001", "B", False),
        (LEADER_A, "1001", None, False),
        (LEADER_A, "tl.rina", None, True),  # themselves
        (LEADER_NO_TEAM, "1001", "A", False),
        (QC, "2001", "B", True),
        (QA, "1001", None, True),
        (ADMIN, "1001", "A", True),
    ],
)
def test_can_see_agent(who: Principal, agent: str, team: str | None, allowed: bool) -> None:
    assert can_see_agent(who, agent, team) is allowed


@pytest.mark.parametrize(
    ("who", "call_iface", "call_pbx", "allowed"),
    [
        (AGENT_1001, "PJSIP/1001", None, True),
        (AGENT_1001, "PJSIP/1001-0000001a", None, True),  # the channel of that phone
        (AGENT_1001, "pjsip/1001", None, True),  # technology is case-blind in Asterisk
        (AGENT_1001, "PJSIP/10011", None, False),  # not a prefix match
        (AGENT_1001, "PJSIP/1001x-0000001a", None, False),
        (AGENT_1001, "PJSIP/2001-0000001b", None, False),  # another agent's call
        (AGENT_1001, "SIP/1001", None, False),  # same extension, other technology
        (AGENT_1001, "", None, False),
        (AGENT_1001, None, None, False),
        (AGENT_1001_JKT, "PJSIP/1001", "jkt", True),
        (AGENT_1001_JKT, "PJSIP/1001", "yk", False),  # the other site's extension 1001
        (AGENT_1001_JKT, "PJSIP/1001", None, True),
        (AGENT_2001, "PJSIP/1001", None, False),
        (LEADER_A_WITH_PHONE, "PJSIP/1900-00000003", None, True),  # a leader's own phone
        (LEADER_A_WITH_PHONE, "PJSIP/1001", None, False),  # not a team member's call
        (LEADER_A, "PJSIP/1001", None, False),
        (QC, "PJSIP/1001", None, False),  # supervisors do not act on agents' calls
        (ADMIN, "PJSIP/1001", None, False),
        (Principal("admin2", "admin", iface="PJSIP/9000"), "PJSIP/9000", None, False),
    ],
)
def test_can_control_call(
    who: Principal, call_iface: str | None, call_pbx: str | None, allowed: bool
) -> None:
    assert can_control_call(who, call_iface, call_pbx) is allowed


@pytest.mark.parametrize(
    ("channel", "interface"),
    [
        ("PJSIP/1001-0000001a", "pjsip/1001"),
        ("PJSIP/1001", "pjsip/1001"),
        ("PJSIP/agent-1001-00000abc", "pjsip/agent-1001"),
        ("Local/1001@agents-00000001;1", "local/1001@agents"),
        ("PJSIP/Trunk-Telkom-0000002f", "pjsip/Trunk-Telkom"),
    ],
)
def test_interface_of_channel(channel: str, interface: str) -> None:
    assert interface_of(channel) == interface
