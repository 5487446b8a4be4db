"""AgiConnection: bytes reach the parser, waiters wake, a flooding peer is paused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hotline.agi import AgiEnvironment, AgiProtocolError, AgiReply
from hotline.agi.connection import MAX_UNREAD_BYTES, AgiConnection


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.written: list[bytes] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("10.1.2.3", 40000) if name == "peername" else default

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return False


async def test_waiter_wakes_and_flood_pauses_reading() -> None:
    connected: list[AgiConnection] = []
    connection = AgiConnection(connected.append)
    transport = FakeTransport()
    connection.connection_made(transport)
    assert connected == [connection] and connection.peer_ip == "10.1.2.3"

    waiting = asyncio.ensure_future(connection.wait_data())
    await asyncio.sleep(0)
    connection.data_received(b"agi_network_script: ivr/main\n\n")
    await asyncio.wait_for(waiting, 1)
    assert isinstance(connection.parser.next_event(), AgiEnvironment)

    # Nobody waits: a peer that keeps sending is paused once too much is unread.
    connection.data_received(b"200 result=1\n" * (MAX_UNREAD_BYTES // 13 + 1))
    assert transport.paused
    await asyncio.wait_for(asyncio.ensure_future(_resume(connection)), 1)
    assert not transport.paused
    assert isinstance(connection.parser.next_event(), AgiReply)


async def _resume(connection: AgiConnection) -> None:
    waiting = asyncio.ensure_future(connection.wait_data())
    await asyncio.sleep(0)
    connection.data_received(b"HANGUP\n")
    await waiting


async def test_lost_connection_never_blocks_a_waiter() -> None:
    connection = AgiConnection()
    connection.connection_made(FakeTransport())
    connection.connection_lost(None)
    await asyncio.wait_for(connection.wait_data(), 1)
    with pytest.raises(AgiProtocolError, match="before the end of the AGI environment"):
        connection.parser.next_event()
