"""The asyncio side of one AMI socket: a Protocol that parses every chunk the moment it arrives.

Why not asyncio streams: ``StreamReader.read`` raises the connection's error as soon as the
transport reports it, before handing over bytes it still buffers, and asyncio stops reading a
socket the moment a *write* fails. When a PBX resets the connection (RST: a crashed or killed
Asterisk, a firewall dropping the flow), the events it sent just before were lost whenever the
client wrote (a Ping, an action) before it had read them. Here:

* :meth:`AmiLink.data_received` feeds :class:`AmiParser` at once and queues the complete
  messages, one list per chunk, in arrival order;
* :meth:`AmiLink.connection_lost` with an error first reads whatever the peer's last segments
  left in the kernel's receive queue (asyncio will not read it any more), then marks the end;
* :meth:`AmiLink.next_batch` hands the queued lists over and reports the end (``None``; the error
  is in :attr:`AmiLink.error`) only once every received byte has been parsed and handed over.

Back-pressure: the client's reader takes one chunk's messages at a time and lets the loop run
in between, so other tasks keep their turn during a burst. Should it fall ``pause_at`` messages
behind, the socket is not read any more (TCP then slows Asterisk down) until the reader is back
within ``resume_at`` of the end. Writes have the usual ``drain()``.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from typing import Final

from hotline.ami.protocol import AmiMessage, AmiParser

PAUSE_AT: Final = 8192
"""Parsed messages not yet taken by the reader at which the socket stops being read."""

RESUME_AT: Final = 1024
"""Reading resumes once the reader has taken the backlog down to this many messages."""

_LEFTOVER_READ: Final = 256 * 1024


class AmiLink(asyncio.Protocol):
    """One AMI TCP connection. ``greeting`` holds its first message (the banner, if it is AMI).

    ``greeting`` is ``None`` when the connection ended before a whole first message arrived.
    Every message after the first comes out of :meth:`next_batch`, in order.
    """

    def __init__(self, *, pause_at: int = PAUSE_AT, resume_at: int = RESUME_AT) -> None:
        if not 0 <= resume_at < pause_at:
            raise ValueError("resume_at must be at least 0 and below pause_at")
        loop = asyncio.get_running_loop()
        self.parser = AmiParser()
        self.greeting: asyncio.Future[AmiMessage | None] = loop.create_future()
        self.error: Exception | None = None
        """Why the connection was lost (``None``: closed by either side without an error)."""
        self._closed: asyncio.Future[None] = loop.create_future()
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._inbox: deque[list[AmiMessage]] = deque()
        self._backlog = 0
        self._pause_at = pause_at
        self._resume_at = resume_at
        self._reading_paused = False
        self._reader_waiter: asyncio.Future[None] | None = None
        self._writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._lost = False

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        messages = self.parser.messages(data)
        if not messages:
            return
        if not self.greeting.done():
            self.greeting.set_result(messages[0])
            del messages[0]
            if not messages:
                return
        self._inbox.append(messages)
        self._backlog += len(messages)
        self._wake_reader()
        if self._backlog >= self._pause_at and not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        return False  # close our side too: Asterisk never half-closes a live session

    def connection_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, OSError):  # a socket error, not a bug of ours in data_received
            self._read_leftover()
        self.error = exc
        self._lost = True
        if not self.greeting.done():
            self.greeting.set_result(None)
        self._wake_reader()
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._drain_waiters.clear()
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._drain_waiters.clear()

    # -- for the client ------------------------------------------------------------------------

    @property
    def backlog(self) -> int:
        """Messages parsed but not yet taken by :meth:`next_batch`."""
        return self._backlog

    @property
    def reading_paused(self) -> bool:
        return self._reading_paused

    async def next_batch(self) -> list[AmiMessage] | None:
        """The messages of the next received chunk; ``None`` once the link is lost and all were taken."""
        if self._inbox:
            # A backlog means a burst: let other tasks (and the socket) have the loop in between.
            await asyncio.sleep(0)
        while not self._inbox:
            if self._lost:
                return None
            waiter = self._loop.create_future()
            self._reader_waiter = waiter
            try:
                await waiter
            finally:
                self._reader_waiter = None
        batch = self._inbox.popleft()
        self._backlog -= len(batch)
        if self._reading_paused and self._backlog <= self._resume_at:
            self._reading_paused = False
            if self._transport is not None and not self._lost:
                self._transport.resume_reading()
        return batch

    def write(self, data: bytes) -> None:
        """Send ``data``; :class:`ConnectionResetError` once the link is closing or lost."""
        if self.is_closing():
            raise ConnectionResetError("the AMI connection is closed")
        assert self._transport is not None
        self._transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        while self._writing_paused and not self._lost:
            waiter = self._loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter
        if self._lost:
            raise ConnectionResetError("the AMI connection was lost")

    def is_closing(self) -> bool:
        return self._lost or self._transport is None or self._transport.is_closing()

    def close(self) -> None:
        """Close once pending writes are flushed."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection at once (a peer that stopped reading cannot hold us in a flush)."""
        if self._transport is not None:
            self._transport.abort()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    # -- internals -----------------------------------------------------------------------------

    def _wake_reader(self) -> None:
        waiter = self._reader_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _read_leftover(self) -> None:
        """Parse what the kernel still holds for us after the transport failed.

        asyncio stops reading a socket as soon as a send fails, but a reset peer's last segments
        may still wait in the receive queue (Linux hands them over before reporting the reset).
        The socket is open until this protocol's ``connection_lost`` returns; a duplicate of its
        descriptor reads the queue without touching the transport's own socket object. Reading
        stops at the receive buffer's size, so a peer that is somehow still sending cannot keep
        us here. Only for plain TCP (what AMI speaks): under TLS the queue would be ciphertext.
        """
        transport = self._transport
        if transport is None or transport.get_extra_info("sslcontext") is not None:
            return
        sock = transport.get_extra_info("socket")
        if sock is None:
            return
        try:
            with socket.fromfd(sock.fileno(), sock.family, sock.type) as leftover:
                leftover.setblocking(False)
                budget = leftover.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
                while budget > 0:
                    chunk = leftover.recv(min(budget, _LEFTOVER_READ))
                    if not chunk:
                        return
                    budget -= len(chunk)
                    self.data_received(chunk)
        except OSError:
            return  # nothing (more) to read: the queue is empty or the socket is already gone
