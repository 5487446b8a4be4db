"""The emulator against real Asterisk 22.10.1: each captured call scenario is scripted again and the
emulator's AMI stream (read through a real TCP login), its FastAGI session and its queue_log are
compared with the capture.

How the AMI streams are compared. Asterisk publishes channel events, device states, queue member
states and CDRs from different threads (stasis topics and taskprocessors), so the *interleaving*
between those families is not stable from one run to the next: compare ``abandon`` and
``answered-hold``, where the agent's DeviceStateChange, the QueueMemberStatus events and the
caller's NewConnectedLine come in different orders for the same call flow, or the Cdr events that
land before or after the caller's Hangup. What is stable, and what these tests require to be
identical (event names, in order, each with the same header keys in the same order), is every
stream on its own: the events of each channel, of each device, of each member interface, the
bridge life cycle, the transfers and the CDRs. Selected values must match too (queues, members,
reasons, dial statuses, causes, positions, dialplan locations...), and durations to the second.

Left out, with the reason:
- VarSet: filtered out by the emulator by default (``event_filter_out``), as hotline's
  manager.conf does; the emulator still emits them when the filter is cleared.
- CEL: an accounting feed (cel.conf [manager]) that hotline does not consume; its STREAM_BEGIN/END
  records follow media playback internals the emulator does not model.
- RTCPSent/RTCPReceived: emitted every ~5 s of media, so their number depends on RTP timing.
- DeviceStateChange of ``Queue:<name>_avail``: published from app_queue's device state cache only
  when Asterisk first computes it after a restart, not in a way a call script can reproduce.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from hotline.ami.protocol import Event, Response
from hotline.emulator import AsteriskEmulator, CallScript, EmulatorSettings

DROPPED = frozenset({"VarSet", "CEL", "RTCPSent", "RTCPReceived"})
SAME_VALUE = (
    "Queue",
    "MemberName",
    "Interface",
    "Reason",
    "DialStatus",
    "Cause",
    "Cause-txt",
    "Position",
    "Count",
    "OriginalPosition",
    "ChannelState",
    "Context",
    "Exten",
    "Priority",
    "Application",
    "Command",
    "ResultCode",
    "Result",
    "CallerIDNum",
    "CallerIDName",
    "Paused",
    "State",
    "Device",
    "DestChannel",
    "Digit",
    "Disposition",
    "LastApplication",
    "LastData",
    "DestinationChannel",
    "Extension",
    "Membership",
    "Channel",
    "Destination",
    "DestinationContext",
    "MusicClass",
    "Class",
    "TransfererChannel",
    "TransfereeChannel",
    "Source",
    "CallerID",
)
SECONDS = ("HoldTime", "TalkTime", "Duration", "BillableSeconds")


def same_port(value: str | None) -> str | None:
    """The FastAGI port differs from the capture's (4673): agi://127.0.0.1:<port>/ivr/main."""
    return None if value is None else re.sub(r"agi://([^:/]+):\d+/", r"agi://\1:PORT/", value)


def stream_of(event: Event) -> tuple[str, str] | None:
    name = event.name
    if name in DROPPED:
        return None
    if name == "DeviceStateChange":
        device = event["Device"]
        return None if device.endswith("_avail") else ("device", device)
    if name == "QueueMemberStatus":
        return ("member", event["Interface"])
    if name == "Cdr":
        return ("cdr", "")
    if name in ("BridgeCreate", "BridgeDestroy", "BlindTransfer"):
        return ("bridge", "")
    if "Channel" in event:
        return ("channel", event["Channel"])
    return ("session", "")


def streams(messages: list[Event | Response]) -> dict[tuple[str, str], list[Event]]:
    out: dict[tuple[str, str], list[Event]] = {}
    for message in messages:
        if isinstance(message, Event) and (key := stream_of(message)) is not None:
            out.setdefault(key, []).append(message)
    return out


def shape(event: Event) -> tuple[str, tuple[str, ...]]:
    return event.name, tuple(key for key, _ in event.headers)


def assert_same_streams(reference: list[Event | Response], emulated: list[Event | Response]) -> None:
    ref, emu = streams(reference), streams(emulated)
    assert sorted(emu) == sorted(ref)
    for key, ref_events in ref.items():
        emu_events = emu[key]
        assert [shape(e) for e in emu_events] == [shape(e) for e in ref_events], key
        for ref_event, emu_event in zip(ref_events, emu_events, strict=True):
            for header in SAME_VALUE:
                assert same_port(emu_event.get(header)) == same_port(ref_event.get(header)), (
                    key,
                    ref_event.name,
                    header,
                )
            for header in SECONDS:
                if header in ref_event:
                    assert abs(int(emu_event[header]) - int(ref_event[header])) <= 1, (
                        key,
                        ref_event.name,
                        header,
                    )
            if "RingTime" in ref_event and ref_event.name == "AgentRingNoAnswer":
                assert emu_event["RingTime"] == ref_event["RingTime"]


def queue_log_fields(lines: list[str]) -> list[tuple[str, ...]]:
    """queue_log lines without the time, callid and bridged uniqueid; durations are compared apart."""
    out = []
    for line in lines:
        _, _, queue, agent, event, *data = line.split("|")
        if event == "CONNECT":
            data[1] = "<uniqueid>"
        out.append((queue, agent, event, *data))
    return out


DURATION_FIELDS = {
    "CONNECT": (0, 2),
    "COMPLETECALLER": (0, 1),
    "COMPLETEAGENT": (0, 1),
    "ABANDON": (2,),
    "EXITWITHTIMEOUT": (2,),
    "BLINDTRANSFER": (2, 3),
    "RINGNOANSWER": (0,),
    "RINGCANCELED": (0,),
}
"""Data fields that are durations: seconds within one (whole-second clocks), ms within scheduling jitter."""


def assert_same_queue_log(reference: list[str], emulated: list[str]) -> None:
    ref, emu = queue_log_fields(reference), queue_log_fields(emulated)
    assert [r[:3] for r in emu] == [r[:3] for r in ref]
    for ref_row, emu_row in zip(ref, emu, strict=True):
        assert len(emu_row) == len(ref_row), ref_row
        durations = DURATION_FIELDS.get(ref_row[2], ())
        for index, (ref_value, emu_value) in enumerate(zip(ref_row[3:], emu_row[3:], strict=True)):
            if index in durations:
                tolerance = 300 if ref_row[2].startswith("RING") else 1
                if ref_row[2] == "RINGNOANSWER":
                    tolerance = 0  # the member timeout, or what was left of the Queue() timeout: exact
                assert abs(int(emu_value) - int(ref_value)) <= tolerance, (ref_row, emu_row)
            else:
                assert emu_value == ref_value, (ref_row, emu_row)


SCENARIOS: dict[str, dict[str, Any]] = {
    "answered-hold": {
        "ring": {},
        "calls": [
            CallScript(
                "081234567890",
                "Śantoso Wibowo",
                "1",
                caller_hangs_up_after_s=14.5,
                hold_at_s=3.0,
                hold_len_s=3.0,
            )
        ],
    },
    "abandon": {
        "ring": {"1001": None, "1002": None, "1003": None},
        "calls": [CallScript("081298765432", "Dewi Lestari", "2", caller_hangs_up_after_s=9.9)],
    },
    "ringnoanswer": {
        "ring": {"1001": None, "1002": 1.5, "1003": 1.5},
        "calls": [
            CallScript(
                "085711112222", "Agus Pratama", "1", caller_hangs_up_after_s=40.0, agent_hangs_up_after_s=6.0
            )
        ],
    },
    "blind-transfer": {
        "ring": {"1001": 1.5, "1002": 2.0, "1003": 2.0},
        "paused": [
            ("cc-informasi", "PJSIP/1002"),
            ("cc-informasi", "PJSIP/1003"),
            ("sapa-helpdesk", "PJSIP/1001"),
        ],
        "calls": [
            CallScript(
                "081355556666",
                "Putri Ayu",
                "1",
                caller_hangs_up_after_s=45.0,
                agent_hangs_up_after_s=6.0,
                blind_transfer_to_queue="sapa-helpdesk",
                blind_transfer_at_s=4.0,
            )
        ],
    },
    "queue-timeout": {
        "ring": {"1001": None, "1002": None, "1003": None},
        "calls": [CallScript("081377778888", "Hendra Gunawan", "3", caller_hangs_up_after_s=50.0)],
    },
    "agi-hangup": {
        "ring": {},
        "calls": [CallScript("081200001111", "Rudi Hartono", "", hangup_during_ivr_at_s=2.55)],
    },
    "two-calls-concurrent": {
        "ring": {"1001": 1.5, "1002": 1.5, "1003": 1.5},
        "calls": [
            CallScript("081211112222", "Wahyu Nugroho", "1", caller_hangs_up_after_s=15.5),
            CallScript("081233334444", "Sri Mulyani", "2", caller_hangs_up_after_s=15.5),
        ],
        "gap_s": 2.0,
    },
}


async def pause(port: int, kit: Any, queue: str, interface: str) -> None:
    """Set-up before the capture, as the reference run did on the CLI: a separate AMI session."""
    session = await kit.ami.login(port, events="off")
    session.writer.write(
        f"Action: QueuePause\r\nActionID: p\r\nQueue: {queue}\r\nInterface: {interface}\r\n"
        "Paused: true\r\n\r\n".encode()
    )
    await session.read_until(b"paused successfully")
    await session.logoff()


PLAYED: dict[str, tuple[list[str], dict[str, list[str]], list[Event | Response]]] = {}
"""Each scenario is played once per test session; its three tests read the same run."""


async def played(
    scenario: str, kit: Any, factory: Callable[[EmulatorSettings], AsteriskEmulator]
) -> tuple[list[str], dict[str, list[str]], list[Event | Response]]:
    if scenario not in PLAYED:
        emulator, app, emulated = await play(scenario, kit, factory)
        PLAYED[scenario] = (emulator.queue_log_lines, app.received, emulated)
    return PLAYED[scenario]


async def play(
    scenario: str, kit: Any, factory: Callable[[EmulatorSettings], AsteriskEmulator]
) -> tuple[AsteriskEmulator, Any, list[Event | Response]]:
    spec = SCENARIOS[scenario]
    reference = kit.fixture_messages(scenario)
    first_channel = next(m for m in reference if isinstance(m, Event) and m.name == "Newchannel")
    app = kit.replay_app(kit.fixture_agi(scenario))
    agi_port = await app.start()
    try:
        # Start the emulated clock just before the captured call began, so whole-second
        # boundaries (HoldTime, TalkTime, CDR durations) fall where they fell on the real PBX.
        start = float(first_channel["Timestamp"]) - 0.05
        emulator = factory(kit.reference_settings(agi_port, start, spec["ring"]))
        port = await emulator.start()
        for queue, interface in spec.get("paused", []):
            await pause(port, kit, queue, interface)
        capture = await kit.ami.login(port)
        tasks = []
        for index, script in enumerate(spec["calls"]):
            if index:
                await emulator.core.clock.sleep_until(start + 0.05 + index * spec.get("gap_s", 0.0))
            tasks.append(emulator.start_call(script))
        await asyncio.gather(*tasks)
        emulated = await capture.logoff()
    finally:
        await app.stop()
    return emulator, app, emulated


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_ami_streams_match_the_capture(scenario: str, kit: Any, emulator_factory: Any) -> None:
    _, _, emulated = await played(scenario, kit, emulator_factory)
    reference = kit.fixture_messages(scenario)
    assert_same_streams(reference, emulated)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_queue_log_matches_the_capture(scenario: str, kit: Any, emulator_factory: Any) -> None:
    queue_log, _, _ = await played(scenario, kit, emulator_factory)
    reference = kit.fixture_text(scenario, "queue_log").splitlines()
    # The set-up pauses of blind-transfer were made before the capture: not in the reference.
    emulated = [line for line in queue_log if not line.split("|")[4].endswith("PAUSE")]
    by_call: dict[str, list[str]] = {}
    for lines, store in ((reference, "ref"), (emulated, "emu")):
        for index, callid in enumerate(dict.fromkeys(line.split("|")[1] for line in lines)):
            by_call.setdefault(f"{store}{index}", []).extend(
                line for line in lines if line.split("|")[1] == callid
            )
    calls = len({line.split("|")[1] for line in reference})
    assert len({line.split("|")[1] for line in emulated}) == calls
    for index in range(calls):
        assert_same_queue_log(by_call[f"ref{index}"], by_call[f"emu{index}"])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_fastagi_session_matches_the_capture(scenario: str, kit: Any, emulator_factory: Any) -> None:
    _, received_by_caller, _ = await played(scenario, kit, emulator_factory)
    for session in kit.fixture_agi(scenario):
        sent_by_asterisk = "".join(str(step["data"]) for step in session if step["dir"] == "asterisk")
        env_text, _, replies = sent_by_asterisk.partition("\n\n")
        reference_env = [line.partition(": ") for line in env_text.splitlines()]
        caller = next(value for key, _, value in reference_env if key == "agi_callerid")
        received = received_by_caller[caller]
        emulated_env = [line.rstrip("\n").partition(": ") for line in received[: len(reference_env)]]
        assert [k for k, _, _ in emulated_env] == [k for k, _, _ in reference_env]
        varying = {"agi_request", "agi_uniqueid", "agi_threadid", "agi_channel"}
        assert [(k, v) for k, _, v in emulated_env if k not in varying] == [
            (k, v) for k, _, v in reference_env if k not in varying
        ]
        assert received[len(reference_env)] == "\n"
        assert "".join(received[len(reference_env) + 1 :]) == replies
