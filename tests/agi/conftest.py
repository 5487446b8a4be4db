"""Fixtures for the FastAGI tests: a running server and a client that plays Asterisk's side."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import structlog

from hotline.agi import AgiRouter, AgiServer

IO_TIMEOUT = 5.0


def environment(script: str = "ivr/main", uniqueid: str = "1795514684.0", **extra: str) -> bytes:
    """An agi_* block as Asterisk 22 writes it (``extra`` keys without the agi_ prefix)."""
    fields = {
        "network": "yes",
        "network_script": script,
        "request": f"agi://127.0.0.1:4573/{script}",
        "channel": "PJSIP/provider-00000000",
        "language": "en",
        "uniqueid": uniqueid,
        "version": "22.10.1",
        "callerid": "081298765432",
        "calleridname": "Dewi Lestari",
        "context": "from-provider",
        "extension": "1500569",
        "priority": "2",
    }
    fields.update(extra)
    return "".join(f"agi_{k}: {v}\n" for k, v in fields.items()).encode() + b"\n"


@dataclass
class FakeAsterisk:
    """Asterisk's side of one FastAGI connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def connect(cls, port: int, env: bytes | None = None) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = cls(reader, writer)
        if env is not None:
            await peer.send(env)
        return peer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_command(self, within: float = IO_TIMEOUT) -> bytes:
        """One command line as the server wrote it (b'' once the server closed)."""
        return await asyncio.wait_for(self.reader.readline(), within)

    async def expect_closed(self, within: float = IO_TIMEOUT) -> None:
        try:
            rest = await asyncio.wait_for(self.reader.read(), within)
        except ConnectionResetError:
            return  # closed with our bytes unread: the kernel sends a reset instead of a FIN
        assert rest == b"", f"expected the server to close, got {rest!r}"

    async def finish(self, reply: bytes = b"200 result=1\n") -> list[bytes]:
        """Answer every further command with ``reply`` until the server closes; return them."""
        seen: list[bytes] = []
        while line := await self.read_command():
            seen.append(line)
            await self.send(reply)
        return seen

    async def converse(self, script: list[tuple[bytes, bytes]]) -> list[bytes]:
        """For each (expected command, reply): read a command, answer; then :meth:`finish`."""
        seen: list[bytes] = []
        for _expected, reply in script:
            line = await self.read_command()
            seen.append(line)
            if not line:
                return seen
            await self.send(reply)
        return seen + await self.finish()

    def close(self) -> None:
        self.writer.close()


StartServer = Callable[..., Awaitable[AgiServer]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """``await start_server(router, **kwargs)``: an AgiServer on an ephemeral port, stopped after the test."""
    servers: list[AgiServer] = []

    async def start(router: AgiRouter, **kwargs: Any) -> AgiServer:
        kwargs.setdefault("port", 0)
        server = AgiServer(router, **kwargs)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop(grace=1.0)


@pytest.fixture
def captured_logs() -> Any:
    """Log entries of the test, with the contextvars (pbx, uniqueid) merged in as in production."""
    capture = structlog.testing.LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    yield capture.entries
    structlog.reset_defaults()


class AsteriskSide:
    """Opens :class:`FakeAsterisk` connections and closes whatever a test left open."""

    def __init__(self) -> None:
        self.peers: list[FakeAsterisk] = []

    async def connect(self, port: int, env: bytes | None = None) -> FakeAsterisk:
        peer = await FakeAsterisk.connect(port, env)
        self.peers.append(peer)
        return peer

    async def close_all(self) -> None:
        for peer in self.peers:
            peer.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await peer.writer.wait_closed()


@pytest.fixture
async def asterisk() -> AsyncIterator[AsteriskSide]:
    """``await asterisk.connect(port, env)`` plays Asterisk's side of a connection."""
    side = AsteriskSide()
    yield side
    await side.close_all()


@pytest.fixture
def env_block() -> Callable[..., bytes]:
    """``env_block(script='ivr/main', uniqueid=..., **agi_fields)`` -> the agi_* block as bytes."""
    return environment
