"""A small fake AMI server (asyncio, 127.0.0.1, port 0) that replays captured Asterisk 22 bytes."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType

import pytest

from hotline.config import PbxConfig, Secret

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
SECRET = "s3cret-Ws9"
CHALLENGE = "840281187"


def fixture_bytes(scenario: str, name: str = "ami.raw") -> bytes:
    """Bytes of a captured file."""
    return (FIXTURES / scenario / name).read_bytes()


def without_banner(raw: bytes) -> bytes:
    """The capture minus its banner line."""
    assert raw.startswith(b"Asterisk Call Manager/")
    return raw[raw.index(b"\r\n") + 2 :]


def frame(*pairs: tuple[str, str]) -> bytes:
    """One server frame."""
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in pairs) + b"\r\n"


def parse_actions(data: bytes) -> tuple[list[dict[str, str]], bytes]:
    """Actions sent by the client (complete frames) and the leftover bytes."""
    *frames, rest = data.split(b"\r\n\r\n")
    actions = []
    for raw in frames:
        fields: dict[str, str] = {}
        for line in raw.decode().split("\r\n"):
            key, _, value = line.partition(": ")
            fields.setdefault(key, value)
        actions.append(fields)
    return actions, rest


def segments_by_action_id(raw: bytes) -> list[tuple[str, bytes]]:
    """Split a capture into (ActionID of the Response that opens it, bytes up to the next Response).

    The segment of an action holds its Response, its list events and every unrelated event
    Asterisk interleaved until the next action's Response: replaying it is replaying the capture.
    """
    body = without_banner(raw)
    starts = [m.start() for m in re.finditer(rb"(?:^|(?<=\r\n\r\n))Response: ", body)]
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(body)
        chunk = body[start:end]
        action_id = re.search(rb"ActionID: ([^\r]*)\r\n", chunk)
        assert action_id is not None
        out.append((action_id.group(1).decode(), chunk))
    return out


Responder = Callable[["FakeConnection", dict[str, str]], bytes | None]


class FakeConnection:
    def __init__(self, server: FakeAmi, writer: asyncio.StreamWriter, number: int) -> None:
        self.server = server
        self.writer = writer
        self.number = number
        self.id_map: dict[str, str] = {}
        """Fixture ActionID -> the client's ActionID, so replayed bytes answer the client's actions."""

    def send(self, data: bytes) -> None:
        for fixture_id, client_id in self.id_map.items():
            data = data.replace(f"ActionID: {fixture_id}\r\n".encode(), f"ActionID: {client_id}\r\n".encode())
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


class FakeAmi:
    """Speaks enough AMI to test the client: banner, Login (plain/MD5), Ping, Logoff, plus ``responders``."""

    def __init__(self, *, auth: str = "plain", secret: str = SECRET) -> None:
        self.auth = auth
        self.secret = secret
        self.after_login: Callable[[FakeConnection], None] | None = None
        self.responders: dict[str, Responder] = {}
        self.answer_ping = True
        self.actions: list[dict[str, str]] = []
        self.connections: list[FakeConnection] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        for conn in self.connections:
            conn.writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def pbx(self, **overrides: object) -> PbxConfig:
        values: dict[str, object] = {
            "name": "pbx-test",
            "site": "test",
            "ami_host": "127.0.0.1",
            "ami_port": self.port,
            "ami_username": "hotline",
            "ami_secret": Secret(self.secret),
            "ami_auth": self.auth,
            "ami_timeout": 1.0,
            "ami_ping_interval": 3600.0,
            "ami_reconnect_max": 0.05,
        }
        values.update(overrides)
        return PbxConfig(**values)  # type: ignore[arg-type]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = FakeConnection(self, writer, len(self.connections) + 1)
        self.connections.append(conn)
        writer.write(BANNER)
        pending = b""
        try:
            while not writer.is_closing():
                data = await reader.read(65536)
                if not data:
                    break
                actions, pending = parse_actions(pending + data)
                for action in actions:
                    self.actions.append(action)
                    reply = self._reply(conn, action)
                    if reply:
                        conn.send(reply)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _reply(self, conn: FakeConnection, action: dict[str, str]) -> bytes | None:
        name = action.get("Action", "")
        action_id = action.get("ActionID", "")
        custom = self.responders.get(name.lower())
        if custom is not None:
            return custom(conn, action)
        if name == "Challenge":
            return frame(("Response", "Success"), ("ActionID", action_id), ("Challenge", CHALLENGE))
        if name == "Login":
            return self._login(conn, action)
        if name == "Ping":
            if not self.answer_ping:
                return None
            return frame(
                ("Response", "Success"), ("ActionID", action_id), ("Ping", "Pong"), ("Timestamp", "1.0")
            )
        if name == "Logoff":
            conn.writer.write(frame(("Response", "Goodbye"), ("ActionID", action_id), ("Message", "Bye")))
            conn.close()
            return None
        return frame(("Response", "Error"), ("ActionID", action_id), ("Message", "Invalid/unknown command"))

    def _login(self, conn: FakeConnection, action: dict[str, str]) -> bytes | None:
        action_id = action.get("ActionID", "")
        if self.auth == "md5":
            expected = hashlib.md5((CHALLENGE + self.secret).encode(), usedforsecurity=False).hexdigest()
            good = (
                action.get("AuthType") == "MD5" and action.get("Key") == expected and "Secret" not in action
            )
        else:
            good = action.get("Secret") == self.secret
        if not good:
            # As Asterisk 22 does (fixture login-failed): Error, then the socket closes.
            conn.send(
                frame(("Response", "Error"), ("ActionID", action_id), ("Message", "Authentication failed"))
            )
            conn.close()
            return None
        conn.send(
            frame(("Response", "Success"), ("ActionID", action_id), ("Message", "Authentication accepted"))
        )
        if self.after_login is not None:
            self.after_login(conn)
        return None


@pytest.fixture
async def fake_ami() -> AsyncIterator[Callable[..., FakeAmi]]:
    """Factory of started-later fake servers, all closed at the end of the test."""
    servers: list[FakeAmi] = []

    def make(**kwargs: object) -> FakeAmi:
        server = FakeAmi(**kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.close()


async def eventually(condition: Callable[[], bool], within: float = 3.0) -> None:
    """Wait until ``condition()`` holds (polling the loop), or fail the test."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
def kit() -> ModuleType:
    """This module's helpers (test modules cannot import conftest under --import-mode=importlib)."""
    return sys.modules[__name__]
