#!/usr/bin/env python3
"""Load a hotline PBX with SIPp callers and agents, then set what hotline measured beside what they did.

Starts M agent phones (tests/sipp/scenarios/agent.xml, the lab endpoints 1901...
of asterisk-config/pjsip.conf on 127.0.0.1:5071...), logs them in to the queues
over AMI (QueueAdd, as the CTI does at agent login), runs N callers
(caller_info.xml) against 1500569, waits for the last call to end, logs the
agents out, and prints:

    what the scenarios did   offered, answered by an agent, SCR, AHT (talk + hold)
    what hotline measured    `hotline kpi --json --from <start>` over its store

    scripts/sipp_load.py --callers 50 --rate 2 --agents 3 --config /etc/hotline/hotline.toml

The AMI secret comes from the environment (HOTLINE_AMI_SECRET), never the command
line. See docs/sipp.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hotline.ami.protocol import AmiParser, Response, encode_action

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "tests" / "sipp" / "scenarios"
FIRST_AGENT, FIRST_AGENT_PORT = 1901, 5071


@dataclass
class CallerTally:
    """What the caller scenarios did, from their -trace_logs lines."""

    calls: set[str] = field(default_factory=set)
    digits_sent: int = 0
    ended_by_pbx: int = 0
    ended_by_caller: int = 0


@dataclass
class AgentTally:
    """What the agent scenarios did: per answered call, handle time (answer to end) and hold time, in s."""

    handle_s: list[float] = field(default_factory=list)
    hold_s: list[float] = field(default_factory=list)
    cancelled: int = 0


def parse_caller_log(lines: Iterable[str]) -> CallerTally:
    tally = CallerTally()
    for line in lines:
        words = line.split()
        if len(words) < 3 or words[0] != "caller":
            continue
        tally.calls.add(words[1])
        if words[2] == "digits-sent":
            tally.digits_sent += 1
        elif words[2:] == ["hung-up-by", "pbx"]:
            tally.ended_by_pbx += 1
        elif words[2:] == ["hung-up-by", "caller"]:
            tally.ended_by_caller += 1
    return tally


def parse_agent_log(lines: Iterable[str]) -> AgentTally:
    """Agent lines: 'agent <call-id> answered|hold|resume|end-agent|end-pbx <epoch ms>' or '... cancelled'."""
    marks: dict[str, dict[str, float]] = {}
    tally = AgentTally()
    for line in lines:
        words = line.split()
        if len(words) < 3 or words[0] != "agent":
            continue
        if words[2] == "cancelled":
            tally.cancelled += 1
        elif len(words) == 4:
            marks.setdefault(words[1], {})[words[2]] = float(words[3])
    for mark in marks.values():
        end = mark.get("end-agent", mark.get("end-pbx"))
        if "answered" not in mark or end is None:
            continue
        tally.handle_s.append((end - mark["answered"]) / 1000)
        if "hold" in mark:
            tally.hold_s.append((mark.get("resume", end) - mark["hold"]) / 1000)
    return tally


def comparison(offered: int, agents: AgentTally, measured: dict[str, object]) -> str:
    """Two columns: the scenarios' own counts and hotline's KPIs for the same window."""
    answered = len(agents.handle_s)
    scenario = {
        "offered": offered,
        "answered (ACD calls)": answered,
        "SCR %": round(100 * answered / offered, 1) if offered else None,
        "AHT s (talk + hold)": round(statistics.fmean(agents.handle_s), 1) if agents.handle_s else None,
        "hold total s": round(sum(agents.hold_s), 1),
    }
    hotline = {
        "offered": measured.get("offered"),
        "answered (ACD calls)": measured.get("acd_calls", measured.get("answered")),
        "SCR %": measured.get("scr"),
        "AHT s (talk + hold)": measured.get("aht"),
        "hold total s": measured.get("hold_total"),
    }
    rows = [f"{'':24} {'SIPp scenarios':>16} {'hotline kpi':>14}"]
    rows += [f"{name:24} {scenario[name]!s:>16} {hotline[name]!s:>14}" for name in scenario]
    return "\n".join(rows)


class Ami:
    """A blocking AMI session, enough for QueueAdd/QueueRemove of the lab agents."""

    def __init__(self, host: str, port: int, username: str, secret: str) -> None:
        self._sock = socket.create_connection((host, port), timeout=10)
        self._parser = AmiParser()
        self._next_id = 0
        reply = self.action("Login", {"Username": username, "Secret": secret, "Events": "off"})
        if reply.get("Response") != "Success":
            self.close()
            raise SystemExit(f"sipp_load: AMI login as {username} failed: {reply.get('Message')}")

    def action(self, name: str, fields: dict[str, str]) -> Response:
        """Send one action and wait for its response (one action at a time, events off)."""
        self._next_id += 1
        action_id = f"sipp-load-{self._next_id}"
        self._sock.sendall(encode_action(name, action_id, fields))
        while True:
            data = self._sock.recv(65536)
            if not data:
                raise SystemExit("sipp_load: Asterisk closed the AMI connection")
            for message in self._parser.messages(data):
                if isinstance(message, Response) and message.get("ActionID") == action_id:
                    return message

    def close(self) -> None:
        self._sock.close()


def _sipp(scenario: str, args: Sequence[str], workdir: Path, name: str) -> subprocess.Popen[bytes]:
    sipp = shutil.which("sipp")
    if sipp is None:
        raise SystemExit("sipp_load: sipp is not installed (Debian: apt-get install sip-tester)")
    command = [sipp, "-sf", str(SCENARIOS / scenario), "-nostdin", "-trace_logs"]
    command += ["-log_file", str(workdir / f"{name}.log"), *args]
    with open(workdir / f"{name}.out", "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 (no shell)


def _log_lines(workdir: Path, prefix: str) -> list[str]:
    return [line for path in sorted(workdir.glob(f"{prefix}*.log")) for line in path.read_text().splitlines()]


def _hotline_kpi(command: str, start: datetime) -> dict[str, object]:
    argv = [*shlex.split(command), "--json", "--from", start.isoformat(timespec="seconds")]
    # The operator's own command line (--hotline), split without a shell.
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        print(f"sipp_load: {' '.join(argv)} failed: {done.stderr.strip()}", file=sys.stderr)
        return {}
    try:
        loaded = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"sipp_load: {' '.join(argv)} printed no JSON object", file=sys.stderr)
        return {}
    return loaded if isinstance(loaded, dict) else {}


def run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="sipp-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv = args.inf
    if csv is None:
        csv = workdir / "callers.csv"
        rows = "".join(f"08{1200000000 + i};{args.digits}\n" for i in range(args.callers))
        csv.write_text("SEQUENTIAL\n" + rows)
    start = datetime.now().astimezone()
    agent_timing = ["-set", "ring_ms", str(args.ring_ms), "-set", "hold_ms", str(args.hold_ms)]
    agent_timing += [
        "-set",
        "talk_min_ms",
        str(args.talk_min_ms),
        "-set",
        "talk_max_ms",
        str(args.talk_max_ms),
    ]
    agents = [
        _sipp(
            "agent.xml",
            ["-i", "127.0.0.1", "-p", str(FIRST_AGENT_PORT + n), *agent_timing],
            workdir,
            f"agent{n}",
        )
        for n in range(args.agents)
    ]
    interfaces = [f"PJSIP/{FIRST_AGENT + n}" for n in range(args.agents)]
    ami = Ami(args.ami_host, args.ami_port, args.ami_user, os.environ.get("HOTLINE_AMI_SECRET", ""))
    try:
        for interface in interfaces:
            for queue in args.queue:
                ami.action("QueueAdd", {"Queue": queue, "Interface": interface, "MemberName": interface})
        caller_args = ["-s", "1500569", "-inf", str(csv), "-m", str(args.callers), "-r", str(args.rate)]
        caller_args += [
            "-set",
            "greeting_ms",
            str(args.greeting_ms),
            "-set",
            "digit_gap_ms",
            str(args.digit_gap_ms),
        ]
        caller_args += ["-set", "patience_ms", str(args.patience_ms), args.pbx]
        callers = _sipp("caller_info.xml", caller_args, workdir, "callers")
        callers.wait()
        time.sleep(args.settle_s)  # the last events reach hotline's store
    finally:
        for interface in interfaces:
            for queue in args.queue:
                ami.action("QueueRemove", {"Queue": queue, "Interface": interface})
        ami.close()
        for agent in agents:
            agent.send_signal(signal.SIGUSR1)  # SIPp: stop taking calls and exit
        for agent in agents:
            try:
                agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                agent.kill()
    caller_tally = parse_caller_log(_log_lines(workdir, "callers"))
    agent_tally = parse_agent_log(_log_lines(workdir, "agent"))
    print(f"SIPp callers: {args.callers} started, {callers.returncode=}, logs in {workdir}")
    print(
        f"  digits sent {caller_tally.digits_sent}, ended by the PBX {caller_tally.ended_by_pbx}, "
        f"by the caller {caller_tally.ended_by_caller}; agent rings cancelled {agent_tally.cancelled}"
    )
    print(comparison(args.callers, agent_tally, _hotline_kpi(args.hotline, start)))
    return 0 if callers.returncode == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--pbx", default="127.0.0.1:5060", help="Asterisk's SIP address (default %(default)s)"
    )
    parser.add_argument("--callers", type=int, default=20, help="calls to make")
    parser.add_argument("--rate", type=float, default=1.0, help="new calls per second")
    parser.add_argument("--agents", type=int, default=3, choices=range(1, 11), metavar="1-10")
    parser.add_argument(
        "--queue", nargs="+", default=["cc-umum", "cc-informasi"], help="queues the agents join"
    )
    parser.add_argument("--digits", default="1", help="DTMF each caller keys in (SIP INFO)")
    parser.add_argument(
        "--inf", type=Path, help="callers CSV instead (number;digits), e.g. tests/sipp/callers.csv"
    )
    parser.add_argument("--digit-gap-ms", type=int, default=3000, help="pause before each further digit")
    parser.add_argument("--greeting-ms", type=int, default=4000)
    parser.add_argument("--patience-ms", type=int, default=120000, help="caller hangs up after this")
    parser.add_argument("--ring-ms", type=int, default=2000)
    parser.add_argument("--talk-min-ms", type=int, default=10000)
    parser.add_argument("--talk-max-ms", type=int, default=40000)
    parser.add_argument("--hold-ms", type=int, default=5000)
    parser.add_argument("--settle-s", type=float, default=3.0, help="wait after the last call")
    parser.add_argument("--ami-host", default="127.0.0.1")
    parser.add_argument("--ami-port", type=int, default=5038)
    parser.add_argument("--ami-user", default="hotline")
    parser.add_argument(
        "--hotline", default="hotline kpi", help="command printing hotline's KPIs (gets --json --from)"
    )
    parser.add_argument("--workdir", help="folder for SIPp's logs (default: a new temporary one)")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
