"""AMI actions on a live call: MixMonitor, StopMixMonitor, MixMonitorMute, Redirect, Hangup."""

from __future__ import annotations

import time
from typing import Any

from hotline.ami.protocol import AmiParser, Event, Response, encode_action
from hotline.emulator import CallScript


async def test_actions_on_a_bridged_call(kit: Any, emulator_factory: Any) -> None:
    app = kit.replay_app(kit.fixture_agi("answered-hold"))
    emulator = emulator_factory(kit.reference_settings(await app.start(), time.time(), {}))
    port = await emulator.start()
    session = await kit.ami.login(port)
    call = emulator.start_call(CallScript("081234567890", "Śantoso Wibowo", "1", agent_hangs_up_after_s=600))
    await session.read_until(b"Event: BridgeEnter")
    await session.read_until(b"Event: BridgeEnter")
    caller = "PJSIP/provider-00000000"
    for action, action_id, fields in (
        ("MixMonitor", "mm-1", {"Channel": caller, "File": "x.wav"}),
        ("MixMonitorMute", "mute-1", {"Channel": caller, "Direction": "both", "State": "1"}),
        ("StopMixMonitor", "stop-1", {"Channel": caller}),
        ("Hangup", "nochan-1", {"Channel": "PJSIP/nobody-00000099"}),
        (
            "Redirect",
            "redirect-1",
            {"Channel": caller, "Context": "from-agents", "Exten": "1600", "Priority": "1"},
        ),
    ):
        session.writer.write(encode_action(action, action_id, fields))
        await session.read_until(f"ActionID: {action_id}\r\n".encode())
    await session.read_until(b"Event: AgentConnect")
    await session.read_until(b"Event: BridgeEnter")
    await session.read_until(b"Event: BridgeEnter")
    so_far = [m for m in AmiParser().messages(bytes(session.data)) if isinstance(m, Event)]
    second_agent = [m for m in so_far if m.name == "AgentConnect"][-1]["DestChannel"]
    session.writer.write(encode_action("Hangup", "hangup-1", {"Channel": second_agent}))
    result = await call
    seen = await session.logoff()
    await app.stop()
    replies = {m.action_id: m for m in seen if isinstance(m, Response)}
    assert replies["mm-1"]["Response"] == "Success" and replies["mm-1"]["MixMonitorID"]
    assert replies["mute-1"]["Response"] == replies["stop-1"]["Response"] == "Success"
    assert (replies["nochan-1"]["Response"], replies["nochan-1"]["Message"]) == ("Error", "No such channel")
    assert replies["redirect-1"]["Message"] == "Redirect successful"
    assert replies["hangup-1"]["Message"] == "Channel Hungup"
    events = [m for m in seen if isinstance(m, Event)]
    assert [m.name for m in events if m.name.startswith("MixMonitor")] == [
        "MixMonitorStart",
        "MixMonitorStart",
        "MixMonitorMute",
        "MixMonitorStop",
    ]
    mute = next(m for m in events if m.name == "MixMonitorMute")
    # Asterisk 16.17+/18.3+ publishes the mute (Direction, State) on the muted channel.
    assert (mute["Channel"], mute["Direction"], mute["State"]) == (caller, "both", "1")
    completes = [(m["Queue"], m["Reason"]) for m in events if m.name == "AgentComplete"]
    assert completes == [("cc-informasi", "transfer"), ("sapa-helpdesk", "agent")]
    assert "BlindTransfer" not in [m.name for m in events]
    assert result.queues == ["cc-informasi", "sapa-helpdesk"] and result.completed_by == "agent"
