"""Shared pieces of the emulator tests: the fixture PBX's settings, a FastAGI app that replays
the application side of a captured session, and an AMI capture over a real TCP login."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hotline.ami.protocol import AmiParser, Event, Response, encode_action
from hotline.emulator import AgentSpec, AsteriskEmulator, EmulatorSettings, QueueSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
AMI_USER, AMI_SECRET = "ref", "refsecret"
SPEED = 40.0
CLOSE_AFTER_S = 0.3


def fixture_messages(scenario: str, name: str = "ami.raw") -> list[Event | Response]:
    data = (FIXTURES / scenario / name).read_bytes()
    return [m for m in AmiParser().messages(data) if isinstance(m, (Event, Response))]


def fixture_text(scenario: str, name: str) -> str:
    """The file as captured (CRLF kept)."""
    return (FIXTURES / scenario / name).read_bytes().decode("utf-8")


def fixture_agi(scenario: str) -> list[list[dict[str, object]]]:
    return [
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for path in sorted((FIXTURES / scenario / "agi").glob("*.jsonl"))
    ]


def reference_settings(
    agi_port: int, start_epoch: float, ring: dict[str, float | None], **extra: object
) -> EmulatorSettings:
    """The reference PBX of the captures: 3 agents, 3 queues (iterated sapa, pengaduan, informasi)."""
    names = {"1001": "Siti Rahma", "1002": "Budi Santoso", "1003": "Rina Wati"}
    agents = tuple(AgentSpec(ext, name, ring.get(ext, 2.0)) for ext, name in names.items())
    members = tuple(names)
    queues = tuple(QueueSpec(q, members) for q in ("cc-informasi", "cc-pengaduan", "sapa-helpdesk"))
    return EmulatorSettings(
        ami_username=AMI_USER,
        ami_secret=AMI_SECRET,
        agi_port=agi_port,
        speed=SPEED,
        start_epoch=start_epoch,
        agents=agents,
        queues=queues,
        seed=1,
        login_failure_delay_s=0.2,
        **extra,  # type: ignore[arg-type]
    )


@dataclass
class ReplayAgiApp:
    """A FastAGI server that sends the application lines of a captured session and records the replies.

    The captured session is chosen by the caller number in the environment Asterisk sends.
    """

    sessions: list[list[dict[str, object]]]
    received: dict[str, list[str]] = field(default_factory=dict)
    server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def _session_for(self, env: dict[str, str]) -> list[dict[str, object]]:
        for session in self.sessions:
            sent = "".join(str(step["data"]) for step in session if step["dir"] == "asterisk")
            if f"agi_callerid: {env['agi_callerid']}\n" in sent:
                return session
        raise AssertionError(f"no captured session for {env['agi_callerid']}")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lines: list[str] = []
        env: dict[str, str] = {}
        while line := (await reader.readline()).decode():
            lines.append(line)
            if line == "\n":
                break
            key, _, value = line.rstrip("\n").partition(": ")
            env[key] = value
        self.received[env["agi_callerid"]] = lines
        for step in self._session_for(env):
            if step["dir"] != "app":
                continue
            writer.write(str(step["data"]).encode())
            reply = (await reader.readline()).decode()
            lines.append(reply)
            if reply == "HANGUP\n":
                lines.append((await reader.readline()).decode())
        # The captured application closed its socket about 0.3 s after its last command.
        await asyncio.sleep(CLOSE_AFTER_S / SPEED)
        writer.close()


@dataclass
class AmiCapture:
    """A logged-in AMI session that keeps every byte it receives."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    data: bytearray = field(default_factory=bytearray)
    seen: int = 0

    @classmethod
    async def login(cls, port: int, events: str = "on") -> AmiCapture:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        capture = cls(reader, writer)
        writer.write(
            encode_action("Login", "login-1", {"Username": AMI_USER, "Secret": AMI_SECRET, "Events": events})
        )
        await capture.read_until(b"Event: FullyBooted")
        return capture

    async def read_until(self, marker: bytes, within_s: float = 5.0) -> None:
        """Wait for ``marker`` after the previous marker found (so successive waits move forward)."""

        async def pump() -> None:
            while (found := self.data.find(marker, self.seen)) < 0:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionError(f"closed before {marker!r}")
                self.data += chunk
            self.seen = found + len(marker)

        await asyncio.wait_for(pump(), within_s)

    async def logoff(self) -> list[Event | Response]:
        self.writer.write(encode_action("Logoff", "logoff-1"))
        self.data += await asyncio.wait_for(self.reader.read(), 5.0)
        self.writer.close()
        return [m for m in AmiParser().messages(bytes(self.data)) if isinstance(m, (Event, Response))]


@dataclass(frozen=True)
class Kit:
    """The helpers above, handed to tests as a fixture (test modules cannot import conftest)."""

    fixture_messages: Callable[..., list[Event | Response]] = fixture_messages
    fixture_text: Callable[[str, str], str] = fixture_text
    fixture_agi: Callable[[str], list[list[dict[str, object]]]] = fixture_agi
    reference_settings: Callable[..., EmulatorSettings] = reference_settings
    replay_app: type[ReplayAgiApp] = ReplayAgiApp
    ami: type[AmiCapture] = AmiCapture


@pytest.fixture
def kit() -> Kit:
    """Helpers: captured messages, the reference PBX settings, a replaying FastAGI app, an AMI capture."""
    return Kit()


@pytest.fixture
async def emulator_factory() -> AsyncIterator[Callable[[EmulatorSettings], AsteriskEmulator]]:
    created: list[AsteriskEmulator] = []

    def make(settings: EmulatorSettings) -> AsteriskEmulator:
        emulator = AsteriskEmulator(settings)
        created.append(emulator)
        return emulator

    yield make
    for emulator in created:
        await emulator.stop()
