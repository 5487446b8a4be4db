"""The SIPp scenarios of the load harness really run: SIPp against SIPp on loopback.

Each scenario of tests/sipp/scenarios meets a small scenario playing the other
side (Asterisk's), with -m 1, and both must exit 0; their -trace_logs lines
show the call went the way the scenario says (digits received, hold and
resume asked, who hung up).
"""

from __future__ import annotations

import os
import socket
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import SCENARIOS, SippPair, free_udp_port

DIGITS = "15#"
_CALLER_TIMING = ["-set", "greeting_ms", "50", "-set", "digit_gap_ms", "250"]
_AGENT_TIMING = ["-set", "ring_ms", "100", "-set", "hold_ms", "150"]


def _callers_csv(tmp_path: Path, digits: str = DIGITS) -> str:
    path = tmp_path / "callers.csv"
    path.write_text(f"SEQUENTIAL\n081234567890;{digits}\n")
    return str(path)


def _messages(lines: list[str], kind: str) -> list[str]:
    """The words after '<kind> <call-id>' of each log line of that kind."""
    return [" ".join(line.split()[2:]) for line in lines if line.startswith(f"{kind} ")]


def _assert_both_ok(pair: SippPair) -> None:
    assert pair.client.returncode == 0, pair.client.errors or pair.client.output[-2000:]
    assert pair.server.returncode == 0, pair.server.errors or pair.server.output[-2000:]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.xml")), ids=lambda p: p.name)
def test_scenario_is_well_formed_xml(path: Path) -> None:
    root = ElementTree.parse(path).getroot()  # noqa: S314 (our own scenario files)
    assert root.tag == "scenario" and root.get("name")


def test_caller_sends_info_digits_and_hangs_up(run_pair: Callable[..., SippPair], tmp_path: Path) -> None:
    pair = run_pair(
        "pbx_answers.xml",
        ["-key", "rtp_port", str(free_udp_port())],
        "caller_info.xml",
        ["-s", "1500569", "-inf", _callers_csv(tmp_path), *_CALLER_TIMING, "-set", "patience_ms", "100"],
    )
    _assert_both_ok(pair)
    received = [m.split()[1] for m in _messages(pair.server.log_lines, "pbx") if m.startswith("dtmf")]
    assert received == list(DIGITS)
    assert _messages(pair.client.log_lines, "caller")[-2:] == [f"digits-sent {DIGITS}", "hung-up-by caller"]
    assert _messages(pair.server.log_lines, "pbx")[-1] == "hung-up-by caller"


def test_caller_answers_the_pbx_hanging_up(run_pair: Callable[..., SippPair], tmp_path: Path) -> None:
    pair = run_pair(
        "pbx_answers.xml",
        ["-key", "rtp_port", str(free_udp_port())],
        "caller_info.xml",
        [
            "-s",
            "1500569",
            "-inf",
            _callers_csv(tmp_path, "2"),
            *_CALLER_TIMING,
            "-set",
            "patience_ms",
            "15000",
        ],
    )
    _assert_both_ok(pair)
    assert _messages(pair.client.log_lines, "caller")[-1] == "hung-up-by pbx"
    assert _messages(pair.server.log_lines, "pbx")[-1] == "hung-up-by pbx"


def _rtp_events(sock: socket.socket, found: list[int]) -> None:
    """Collect RFC 2833 events (payload type 101), one per key press (its first end packet)."""
    last_end_timestamp = None
    sock.settimeout(0.5)
    while True:
        try:
            packet = sock.recv(2048)
        except (TimeoutError, OSError):
            return
        if len(packet) >= 16 and packet[1] & 0x7F == 101 and packet[13] & 0x80:
            timestamp = packet[4:8]
            if timestamp != last_end_timestamp:
                found.append(packet[12])
                last_end_timestamp = timestamp


def test_caller_sends_rfc2833_events(run_pair: Callable[..., SippPair], tmp_path: Path) -> None:
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    events: list[int] = []
    listener = threading.Thread(target=_rtp_events, args=(media, events))
    listener.start()
    try:
        pair = run_pair(
            "pbx_answers.xml",
            ["-key", "rtp_port", str(media.getsockname()[1])],
            "caller_rfc2833.xml",
            ["-s", "1500569", "-inf", _callers_csv(tmp_path), *_CALLER_TIMING, "-set", "patience_ms", "100"],
        )
    finally:
        listener.join()
        media.close()
    if "raw" in pair.client.errors and "socket" in pair.client.errors:
        reason = (
            "SIPp may not open a raw socket to play RTP captures: run as root or setcap cap_net_raw+ep sipp"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    _assert_both_ok(pair)
    # RFC 4733 event codes: 0-9 the digits, 10 '*', 11 '#'.
    assert events == [1, 5, 11]


def test_agent_answers_holds_resumes_and_hangs_up(run_pair: Callable[..., SippPair]) -> None:
    pair = run_pair(
        "agent.xml",
        [*_AGENT_TIMING, "-set", "talk_min_ms", "200", "-set", "talk_max_ms", "400"],
        "pbx_calls_agent.xml",
        ["-s", "1901", "-set", "cancel_ms", "0"],
    )
    _assert_both_ok(pair)
    agent = _messages(pair.server.log_lines, "agent")
    assert [m.split()[0] for m in agent] == ["answered", "hold", "resume", "end-agent"]
    answered, hold, resume, end = (float(m.split()[1]) for m in agent)
    assert answered < hold < resume < end
    # Talk between 200 and 400 ms in all, plus the 150 ms hold, plus SIP round trips.
    assert 0.3 <= (end - answered) / 1000 < 5
    assert _messages(pair.client.log_lines, "pbx")[:2] == [
        "reinvite sendonly (a=sendonly)",
        "reinvite sendrecv (a=sendrecv)",
    ]
    assert _messages(pair.client.log_lines, "pbx")[-1] == "hung-up-by agent"


def test_agent_answers_the_caller_leaving(run_pair: Callable[..., SippPair]) -> None:
    pair = run_pair(
        "agent.xml",
        [*_AGENT_TIMING, "-set", "talk_min_ms", "20000", "-set", "talk_max_ms", "30000"],
        "pbx_calls_agent.xml",
        ["-s", "1901", "-set", "cancel_ms", "0"],
    )
    _assert_both_ok(pair)
    assert [m.split()[0] for m in _messages(pair.server.log_lines, "agent")] == ["answered", "end-pbx"]
    assert _messages(pair.client.log_lines, "pbx") == ["hung-up-by pbx"]


def test_agent_ringing_is_cancelled(run_pair: Callable[..., SippPair]) -> None:
    pair = run_pair(
        "agent.xml",
        [
            "-set",
            "ring_ms",
            "2000",
            "-set",
            "hold_ms",
            "150",
            "-set",
            "talk_min_ms",
            "100",
            "-set",
            "talk_max_ms",
            "200",
        ],
        "pbx_calls_agent.xml",
        ["-s", "1901", "-set", "cancel_ms", "50"],
    )
    _assert_both_ok(pair)
    assert _messages(pair.server.log_lines, "agent") == ["cancelled"]
    assert _messages(pair.client.log_lines, "pbx") == ["cancelled"]
