"""The asyncio side of one FastAGI socket: a thin Protocol around :class:`AgiParser`.

Why a Protocol and not asyncio streams: every AGI command is one small write and
one small read, so the per-command cost is mostly plumbing. Here received bytes go
straight into the parser (no StreamReader buffer, no copy) and the waiting command
is woken with one future. The parser is the only buffer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from hotline.agi.protocol import AgiParser

MAX_UNREAD_BYTES: Final = 1024 * 1024
"""Bytes that may pile up while no command waits (a peer flooding us) before reading pauses."""


class AgiConnection(asyncio.Protocol):
    """Feeds the parser and wakes whoever awaits :meth:`wait_data`."""

    def __init__(self, on_connected: Callable[[AgiConnection], None] | None = None) -> None:
        self.parser = AgiParser()
        self.transport: asyncio.Transport | None = None
        self.peer_ip = "?"
        self.lost = False
        self._on_connected = on_connected
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False

    # --- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer_ip = str(peer[0])
        if self._on_connected is not None:
            self._on_connected(self)

    def data_received(self, data: bytes) -> None:
        self.parser.receive_data(data)
        if self._waiter is not None:
            self._wake()
        elif self.parser.buffered > MAX_UNREAD_BYTES and self.transport is not None:
            self.transport.pause_reading()
            self._paused = True

    def eof_received(self) -> bool:
        self.parser.receive_data(b"")
        self._wake()
        return False  # close our side too: Asterisk never half-closes a live session

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.parser.receive_data(b"")
        self._wake()

    # --- for the session ------------------------------------------------------------

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait_data(self) -> None:
        """Return once more bytes (or the end of the stream) reached the parser."""
        if self.lost:
            return
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        await waiter

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once; a pending :meth:`wait_data` sees end-of-stream."""
        if self.transport is not None:
            self.transport.abort()
