"""The asyncio side of one FastAGI socket: a thin protocol around :class:`AgiParser`.

Why a Protocol and not asyncio streams: every AGI command is one small write and
one small read, so the per-command cost is mostly plumbing. Here received bytes go
straight into the parser (no StreamReader buffer) and the waiting command is woken
with one future. The parser is the only buffer.

Why a BufferedProtocol: a plain Protocol makes the transport ``recv()`` into a fresh
256 KiB bytes object, which glibc serves with mmap, shrinks with mremap and frees with
munmap: three system calls per read (seen with strace), more than the read itself.
Here the socket is read into one buffer the server's connections share (each read is
copied into its parser before the next can happen, on the one loop thread).

Why the deadline lives here, with one lazily re-armed timer per connection: the
environment read and every command each need a deadline, and a timer per wait
costs an allocation and two heap operations. Here a wait only records when it must
end (one clock read); the timer, when it fires, either aborts the pending wait or
re-arms itself for the current deadline. Most sessions end before their first
timer ever fires, so a whole call costs one timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from hotline.agi.protocol import AgiParser

MAX_UNREAD_BYTES: Final = 1024 * 1024
"""Bytes that may pile up while no command waits (a peer flooding us) before reading pauses."""

READ_BUFFER_BYTES: Final = 64 * 1024
NO_DEADLINE: Final = float("inf")
_CLOCK_SLACK: Final = 0.001
"""asyncio may run a timer up to its clock resolution early; that is not a reason to re-arm."""


class AgiConnection(asyncio.BufferedProtocol):
    """Feeds the parser, wakes whoever awaits :meth:`wait_data` and enforces the deadline.

    ``read_buffer`` is where the socket is read into; connections of one event loop may
    share one (the server passes its own), as each read is consumed at once. ``loop``
    saves a look-up per connection (``asyncio.get_running_loop()`` calls ``getpid()``).
    """

    def __init__(
        self,
        on_connected: Callable[[AgiConnection], None] | None = None,
        *,
        read_buffer: memoryview | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.parser = AgiParser()
        self._read_buffer = read_buffer
        self.transport: asyncio.Transport | None = None
        self.peer_ip = "?"
        self.lost = False
        self.expired = False
        """True once a deadline passed: the connection was aborted for it."""
        self._on_connected = on_connected
        self._loop = loop
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._deadline = NO_DEADLINE
        self._timer: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer_ip = str(peer[0])
        if self._on_connected is not None:
            self._on_connected(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._read_buffer is None:
            self._read_buffer = memoryview(bytearray(READ_BUFFER_BYTES))
        return self._read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        assert self._read_buffer is not None
        self.data_received(self._read_buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        self.parser.receive_data(data)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
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
        self._cancel_timer()
        self._wake()

    # --- for the session ------------------------------------------------------------

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def wait_data(self) -> asyncio.Future[None]:
        """A future done once more bytes (or the end of the stream) reached the parser."""
        loop = self._loop or asyncio.get_running_loop()
        waiter = loop.create_future()
        if self.lost:
            waiter.set_result(None)
            return waiter
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        self._waiter = waiter
        return waiter

    def set_deadline(self, delay: float) -> None:
        """Abort the connection unless :meth:`clear_deadline` is called within ``delay`` seconds.

        ``math.inf`` means no deadline. The pending wait then sees end-of-stream and
        :attr:`expired` tells why.
        """
        if delay == NO_DEADLINE:
            self._deadline = NO_DEADLINE
            return
        loop = self._loop or asyncio.get_running_loop()
        self._deadline = deadline = loop.time() + delay
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._on_timer)

    def clear_deadline(self) -> None:
        # The timer stays armed: the next wait most likely reuses it (see the module docstring).
        self._deadline = NO_DEADLINE

    def _on_timer(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline == NO_DEADLINE or self._loop is None:
            return
        if self._loop.time() + _CLOCK_SLACK < deadline:
            self._timer = self._loop.call_at(deadline, self._on_timer)
            return
        self.expired = True
        self.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def close(self) -> None:
        """Close once pending writes are flushed."""
        self._cancel_timer()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once; a pending :meth:`wait_data` sees end-of-stream."""
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()
