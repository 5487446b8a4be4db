"""Run SIPp scenarios against each other on loopback, with their logs to read back."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
_RUN_LIMIT_S = 20


def free_udp_port() -> int:
    """A UDP port nothing listens on right now (SIPp takes only numbers, not port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class SippRun:
    """One finished SIPp process: exit code, its -trace_logs lines and its error log."""

    returncode: int
    log_lines: list[str]
    errors: str
    output: str


@dataclass
class SippPair:
    server: SippRun
    client: SippRun


def _finish(proc: subprocess.Popen[bytes], name: str, workdir: Path) -> SippRun:
    try:
        proc.wait(timeout=_RUN_LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log = workdir / f"{name}.log"
    errors = workdir / f"{name}.errors"
    return SippRun(
        returncode=proc.returncode,
        log_lines=log.read_text().splitlines() if log.exists() else [],
        errors=errors.read_text() if errors.exists() else "",
        output=(workdir / f"{name}.out").read_text(errors="replace"),
    )


def _start(sipp: str, name: str, args: Sequence[str], workdir: Path) -> subprocess.Popen[bytes]:
    command = [
        sipp,
        *args,
        "-m",
        "1",
        "-i",
        "127.0.0.1",
        "-nostdin",
        # Media port per process, so that runs in parallel never share one.
        "-mp",
        str(free_udp_port()),
        "-timeout",
        f"{_RUN_LIMIT_S - 2}s",
        "-trace_logs",
        "-log_file",
        str(workdir / f"{name}.log"),
        "-trace_err",
        "-error_file",
        str(workdir / f"{name}.errors"),
    ]
    with open(workdir / f"{name}.out", "wb") as out:
        return subprocess.Popen(command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


@pytest.fixture(scope="session")
def sipp() -> str:
    """Path of the sipp binary; skips without it, except in CI, where it must be there."""
    path = shutil.which("sipp")
    if path is None:
        reason = "sipp is not installed (Debian package sip-tester; ./run test installs it)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the SIPp scenario checks")
        pytest.skip(reason)
    return path


@pytest.fixture
def run_pair(sipp: str, tmp_path: Path) -> Callable[..., SippPair]:
    """Start a server scenario, run a client scenario against it, and collect both."""

    def run(server: str, server_args: Sequence[str], client: str, client_args: Sequence[str]) -> SippPair:
        server_port, client_port = free_udp_port(), free_udp_port()
        server_proc = _start(
            sipp, "server", ["-sf", str(SCENARIOS / server), "-p", str(server_port), *server_args], tmp_path
        )
        deadline = time.monotonic() + 5
        while not _port_taken(server_port):
            if server_proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        client_proc = _start(
            sipp,
            "client",
            [
                "-sf",
                str(SCENARIOS / client),
                "-p",
                str(client_port),
                *client_args,
                f"127.0.0.1:{server_port}",
            ],
            tmp_path,
        )
        client_run = _finish(client_proc, "client", tmp_path)
        return SippPair(server=_finish(server_proc, "server", tmp_path), client=client_run)

    return run
