"""cti.protocol and cti.calls without sockets: message building, client parsing, call tracking."""

from __future__ import annotations

import pytest

from cti import protocol
from cti.calls import CallTracker, RingingCall
from hotline import names
from hotline.ami.protocol import Event

from .conftest import fixture_events, with_extra, with_headers


def called_event() -> Event:
    return next(e for e in fixture_events("answered-hold") if e.name == "AgentCalled")


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("PJSIP/1001", "PJSIP/1001"),
        ("pjsip/1001", "PJSIP/1001"),
        (" SIP/agent-7 ", "SIP/agent-7"),
        ("Local/1001@agents/n", "LOCAL/1001@agents/n"),
        ("weird", "weird"),
    ],
)
def test_interfaces_compare_with_technology_case_ignored(raw: str, normalized: str) -> None:
    assert protocol.normalize_iface(raw) == normalized


def test_ringing_message_from_a_real_agent_called_event() -> None:
    message = protocol.ringing("jakarta", called_event(), 1795514648.479414, {"choice": "informasi"}, 1.26)
    assert message == {
        "v": 1,
        "type": "call.ringing",
        "ts": "2026-11-24T10:04:08.479Z",
        "call_id": "1795514646.0",
        "uniqueid": "1795514646.0",
        "pbx": "jakarta",
        "queue": "cc-informasi",
        "caller": {"number": "081234567890", "name": "Śantoso Wibowo"},
        "ivr": {
            "choice": "informasi",
            "path": None,
            "queue": None,
            "lang": None,
            "script": None,
            "verified": None,
            "outlet": None,
            "payment_ref": None,
        },
        "waited_s": 1.3,
    }


def test_channel_variables_are_read_from_chanvariable_lines_only() -> None:
    event = with_extra(
        called_event(),
        ("ChanVariable", f"{names.VAR_IVR_PATH}=main/pembayaran/cicilan"),
        ("ChanVariable", "MALFORMED"),
        ("ChanVariable", "EMPTY="),
        ("DestChanVariable", f"{names.VAR_IVR_CHOICE}=agent-side"),
    )
    assert protocol.channel_variables(event) == {names.VAR_IVR_PATH: "main/pembayaran/cicilan", "EMPTY": ""}
    message = protocol.ringing("jakarta", event, 0.0, {"choice": "pembayaran", "path": "old"}, None)
    assert (message["ivr"]["choice"], message["ivr"]["path"]) == ("pembayaran", "main/pembayaran/cicilan")


def test_missing_and_unreadable_values_become_null() -> None:
    event = with_headers(called_event(), CallerIDNum="<unknown>", Timestamp="not-a-time")
    assert protocol.event_time(event) is None
    assert protocol.ringing("p", event, 0.0, {}, -0.2)["caller"]["number"] is None
    assert protocol.ringing("p", event, 0.0, {}, -0.2)["waited_s"] == 0.0
    connect = Event((("Event", "AgentConnect"), ("HoldTime", "x"), ("Uniqueid", "1.0")))
    assert protocol.answered("p", connect, 0.0)["waited_s"] is None
    assert protocol.answered("p", connect, 0.0)["call_id"] == "1.0"  # no Linkedid: the uniqueid stands in


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("x" * (64 * 1024 + 1), "too_big"),
        ("ś" * (32 * 1024 + 1), "too_big"),  # 2 bytes a character: over the limit in bytes, not characters
        ("{", "bad_json"),
        ("[]", "bad_message"),
        ('{"type": 1}', "bad_message"),
        ('"ping"', "bad_message"),
    ],
)
def test_bad_client_messages(data: str, code: str) -> None:
    with pytest.raises(protocol.BadClientMessage) as info:
        protocol.parse_client_message(data)
    assert info.value.code == code


def test_good_client_message() -> None:
    parsed = protocol.parse_client_message('{"type": "auth", "token": "v1.a.b"}')
    assert (parsed.type, parsed.body["token"]) == ("auth", "v1.a.b")


def test_call_tracker_waits_rings_and_stays_bounded() -> None:
    calls = CallTracker(max_calls=2)
    calls.joined("j", "1", 100.0)
    assert calls.waited("j", "1", 104.5) == 4.5
    assert calls.waited("y", "1", 104.5) is None  # another PBX's call with the same uniqueid
    calls.ring("j", "1", RingingCall("PJSIP/1001", "1", "q"))
    calls.ring("j", "1", RingingCall("PJSIP/1002", "1", "q"))
    assert calls.stop_ringing("j", "1", "PJSIP/1001") == RingingCall("PJSIP/1001", "1", "q")
    assert calls.stop_ringing("j", "1", "PJSIP/1001") is None
    assert [c.iface for c in calls.stop_all("j", "1")] == ["PJSIP/1002"]
    assert calls.stop_all("j", "1") == []
    for n in range(10):
        calls.joined("j", str(n), float(n))
        calls.ring("j", str(n), RingingCall("PJSIP/1001", None, None))
    assert len(calls) == 4  # two joins and two ringing calls at most
    calls.left("j", "9")
    assert calls.waited("j", "9", 10.0) is None
