"""scripts/sipp_load.py: reading the scenarios' logs, the AMI login, and the side-by-side report."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import SippPair

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "sipp_load.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sipp_load", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


sipp_load = _load()


def test_caller_log_counts_what_each_call_did() -> None:
    tally = sipp_load.parse_caller_log(
        [
            "caller 1-1@h digit 1 of 1",
            "caller 1-1@h digits-sent 1",
            "caller 1-1@h hung-up-by pbx",
            "caller 2-1@h digits-sent 1",
            "caller 2-1@h hung-up-by caller",
            "caller 3-1@h",  # a cut line is ignored
            "pbx 9@h dtmf 1",
        ]
    )
    assert (len(tally.calls), tally.digits_sent, tally.ended_by_pbx, tally.ended_by_caller) == (2, 2, 1, 1)


def test_agent_log_gives_handle_and_hold_times() -> None:
    tally = sipp_load.parse_agent_log(
        [
            "agent a@h answered 1000.0",
            "agent a@h hold 3000.0",
            "agent a@h resume 5500.0",
            "agent a@h end-agent 9000.0",
            "agent b@h answered 20000.0",
            "agent b@h hold 21000.0",
            "agent b@h end-pbx 22000.0",  # the caller left during the hold
            "agent c@h cancelled",
            "agent d@h answered 30000.0",  # still talking when the run stopped: not counted
        ]
    )
    assert tally.handle_s == [8.0, 2.0]
    assert tally.hold_s == [2.5, 1.0]
    assert tally.cancelled == 1


def test_agent_log_of_a_real_scenario_run(run_pair: Callable[..., SippPair]) -> None:
    pair = run_pair(
        "agent.xml",
        [
            "-set",
            "ring_ms",
            "50",
            "-set",
            "hold_ms",
            "300",
            "-set",
            "talk_min_ms",
            "200",
            "-set",
            "talk_max_ms",
            "200",
        ],
        "pbx_calls_agent.xml",
        ["-s", "1901", "-set", "cancel_ms", "0"],
    )
    assert pair.server.returncode == 0, pair.server.errors
    tally = sipp_load.parse_agent_log(pair.server.log_lines)
    # 100 ms talk, 300 ms hold, 100 ms talk, plus the re-INVITE round trips on loopback.
    assert len(tally.handle_s) == 1 and 0.5 <= tally.handle_s[0] < 2.0
    assert len(tally.hold_s) == 1 and 0.3 <= tally.hold_s[0] < 1.0


def test_comparison_sets_the_two_sources_side_by_side() -> None:
    agents = sipp_load.AgentTally(handle_s=[100.0, 200.0], hold_s=[10.0])
    text = sipp_load.comparison(
        4, agents, {"offered": 4, "acd_calls": 2, "scr": 50.0, "aht": 150.0, "hold_total": 10}
    )
    lines = {line.split()[0]: line.split() for line in text.splitlines()[1:]}
    assert lines["offered"][-2:] == ["4", "4"]
    assert lines["SCR"][-2:] == ["50.0", "50.0"]
    assert lines["AHT"][-2:] == ["150.0", "150.0"]
    # Without hotline's figures the report still shows the scenarios' side.
    assert "None" in sipp_load.comparison(0, sipp_load.AgentTally(), {})


@pytest.fixture
def fake_ami() -> Iterator[tuple[int, list[bytes]]]:
    """An AMI that accepts secret 's3cret', answers every action with Success, and records them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"Asterisk Call Manager/11.0.0\r\n")
            buffer = b""
            while chunk := conn.recv(4096):
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    frame, buffer = buffer.split(b"\r\n\r\n", 1)
                    received.append(frame)
                    fields = dict(line.split(b": ", 1) for line in frame.split(b"\r\n"))
                    ok = fields.get(b"Action") != b"Login" or fields.get(b"Secret") == b"s3cret"
                    reply = b"Success" if ok else b"Error"
                    conn.sendall(
                        b"Response: " + reply + b"\r\nActionID: " + fields[b"ActionID"] + b"\r\n\r\n"
                    )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    server.close()


def test_ami_session_logs_in_and_adds_members(fake_ami: tuple[int, list[bytes]]) -> None:
    port, received = fake_ami
    ami = sipp_load.Ami("127.0.0.1", port, "hotline", "s3cret")
    reply = ami.action("QueueAdd", {"Queue": "cc-umum", "Interface": "PJSIP/1901"})
    ami.close()
    assert reply.get("Response") == "Success"
    assert b"Action: QueueAdd" in received[1] and b"Interface: PJSIP/1901" in received[1]


def test_ami_wrong_secret_is_a_clear_error(fake_ami: tuple[int, list[bytes]]) -> None:
    port, _ = fake_ami
    with pytest.raises(SystemExit, match="AMI login as hotline failed"):
        sipp_load.Ami("127.0.0.1", port, "hotline", "wrong")
