"""The emulator's member events and queue_log lines make the agent sessions Asterisk 22's do.

The ``actions`` capture's member actions are sent again over a real AMI login: the emulator's AMI
events and its queue_log must give the same sessions as each other and as the capture (same
agents, kinds and reasons; the emulated clock sets the times). Where no capture shows it, the
emulator follows Asterisk 22's app_queue.c: a QueuePause without Queue writes PAUSEALL before the
per-queue lines, an unpause with a reason carries it, ``log_membername_as_agent`` names members.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from hotline.ami.protocol import Event, encode_action
from hotline.kpi.agent_queue_log import sessions_from_queue_log
from hotline.kpi.agent_reconcile import reconcile_agents
from hotline.kpi.agent_sessions import AgentSessionProjector
from hotline.kpi.agent_spans import AgentSpan
from hotline.kpi.from_queue_log import parse_queue_log

PBX = "ref"
NO_ANSWER: dict[str, float | None] = {"1001": None, "1002": None, "1003": None}
MEMBER_ACTIONS = ("qadd-2", "qpause-2", "qunpause-2", "qremove-2", "qpause-1", "qunpause-1")
STEP_S = 0.06
"""Real seconds between actions: about 2.4 emulated seconds at the reference speed (40), so the
spans last whole seconds, as between the captured actions."""


def ami_spans(messages: list[Any]) -> list[AgentSpan]:
    projector = AgentSessionProjector()
    for message in messages:
        if isinstance(message, Event):
            projector.feed(PBX, message)
    return projector.spans()


def log_spans(lines: list[str], names: dict[str, str] | None = None) -> list[AgentSpan]:
    return sessions_from_queue_log(parse_queue_log(lines, pbx=PBX), pbx=PBX, names=names).spans


def kinds(spans: list[AgentSpan]) -> list[tuple[str, str, str | None, bool]]:
    """What a span is, without its times: agent, kind, reason, and whether it ended."""
    return sorted((s.agent, s.kind, s.reason, s.ended_at is not None) for s in spans)


def agree(ami: list[AgentSpan], log: list[AgentSpan], lines: list[str], messages: list[Any]) -> None:
    stamps = [float(t) for m in messages if isinstance(m, Event) and (t := m.get("Timestamp"))]
    first, last = float(lines[0].split("|", 1)[0]), float(lines[-1].split("|", 1)[0])
    since, until = max(math.ceil(min(stamps)), first), min(math.floor(max(stamps)), last)
    result = reconcile_agents(ami, log, since, until)
    assert result.agree, result.differences


async def test_member_actions_give_the_sessions_of_the_capture(kit: Any, emulator_factory: Any) -> None:
    emulator = emulator_factory(kit.reference_settings(1, time.time(), NO_ANSWER))
    session = await kit.ami.login(await emulator.start())
    frames = {
        action_id: frame
        for frame in kit.fixture_text("actions", "ami.sent").split("\r\n\r\n")
        if (
            action_id := next(
                (line[10:] for line in frame.splitlines() if line.startswith("ActionID: ")), None
            )
        )
    }
    for action_id in ("qstatus-1", *MEMBER_ACTIONS):
        session.writer.write(frames[action_id].encode() + b"\r\n\r\n")
        await session.read_until(f"ActionID: {action_id}\r\n".encode())
        await asyncio.sleep(STEP_S)
    session.writer.write(encode_action("Ping", "ping-end"))
    await session.read_until(b"ActionID: ping-end\r\n")
    emulated = await session.logoff()
    lines = [line for line in emulator.queue_log_lines if "MEMBER" in line or "PAUSE" in line]
    ami, log = ami_spans(emulated), log_spans(lines)
    reference = ami_spans(kit.fixture_messages("actions"))
    assert kinds(ami) == kinds(reference)
    captured_lines = [
        line
        for line in kit.fixture_text("actions", "queue_log").splitlines()
        if "MEMBER" in line or "PAUSE" in line
    ]
    # ADDMEMBER names Dewi's interface and the log alone ties it to her name; Rina Wati, paused
    # and unpaused in one of her queues, is a member from the log's first line, not paused.
    assert kinds(log) == kinds(log_spans(captured_lines))
    assert ("Dewi Anggraini", "pause", "istirahat", True) in kinds(log)
    # Dewi, added and removed by the actions, is told alike by both. (The log knows Rina's other
    # queues only from call lines, and no call was made here: she is compared in tests/kpi.)
    dewi = "Dewi Anggraini"
    agree([s for s in ami if s.agent == dewi], [s for s in log if s.agent == dewi], lines, emulated)


async def test_a_pause_in_every_queue_writes_pauseall_first(kit: Any, emulator_factory: Any) -> None:
    settings = kit.reference_settings(1, time.time(), NO_ANSWER, log_membername_as_agent=True)
    emulator = emulator_factory(settings)
    session = await kit.ami.login(await emulator.start())
    dewi = {"Interface": "PJSIP/1004", "MemberName": "Dewi Anggraini", "Penalty": "0"}
    actions = [
        ("QueueAdd", "a1", {"Queue": "cc-informasi", **dewi}),
        ("QueueAdd", "a2", {"Queue": "cc-pengaduan", **dewi, "Paused": "true", "Reason": "briefing"}),
        ("QueuePause", "p1", {"Interface": "PJSIP/1004", "Paused": "true", "Reason": "makan"}),
        ("QueuePause", "p2", {"Interface": "PJSIP/1004", "Paused": "false", "Reason": "selesai"}),
        ("QueueRemove", "r1", {"Queue": "cc-informasi", "Interface": "PJSIP/1004"}),
        ("QueueRemove", "r2", {"Queue": "cc-pengaduan", "Interface": "PJSIP/1004"}),
    ]
    for name, action_id, fields in actions:
        session.writer.write(encode_action(name, action_id, fields))
        await session.read_until(f"ActionID: {action_id}\r\n".encode())
        await asyncio.sleep(STEP_S)
    session.writer.write(encode_action("Ping", "ping-end"))
    await session.read_until(b"ActionID: ping-end\r\n")
    emulated = await session.logoff()
    lines = [line.split("|", 1)[1] for line in emulator.queue_log_lines]
    assert lines == [
        "MANAGER|cc-informasi|Dewi Anggraini|ADDMEMBER|",
        "MANAGER|cc-pengaduan|Dewi Anggraini|ADDMEMBER|PAUSED",
        "NONE|NONE|Dewi Anggraini|PAUSEALL|makan",
        "NONE|cc-pengaduan|Dewi Anggraini|PAUSE|makan",
        "NONE|cc-informasi|Dewi Anggraini|PAUSE|makan",
        "NONE|NONE|Dewi Anggraini|UNPAUSEALL|selesai",
        "NONE|cc-pengaduan|Dewi Anggraini|UNPAUSE|selesai",
        "NONE|cc-informasi|Dewi Anggraini|UNPAUSE|selesai",
        "MANAGER|cc-informasi|Dewi Anggraini|REMOVEMEMBER|",
        "MANAGER|cc-pengaduan|Dewi Anggraini|REMOVEMEMBER|",
    ]
    unpaused = [
        m
        for m in emulated
        if isinstance(m, Event) and m.name == "QueueMemberPause" and m.get("Paused") == "0"
    ]
    assert [m.get("PausedReason") for m in unpaused] == ["selesai", "selesai"]
    added = [m for m in emulated if isinstance(m, Event) and m.name == "QueueMemberAdded"]
    assert [(m.get("Paused"), m.get("PausedReason")) for m in added] == [("0", ""), ("1", "briefing")]
    ami, log = ami_spans(emulated), log_spans(emulator.queue_log_lines)
    assert (
        kinds(ami)
        == kinds(log)
        == [
            ("Dewi Anggraini", "login", None, True),
            ("Dewi Anggraini", "pause", "makan", True),
        ]
    )
    agree(ami, log, emulator.queue_log_lines, emulated)
