"""One agent's websocket: a bounded send queue drained by its own writer task.

Why a queue per connection: events are delivered from the AMI event path, which
must never wait for a browser. Delivery only appends to the queue; the writer
task does the slow part. A client that stops reading fills its queue and is
dropped (close 4429); every other client keeps receiving, since nothing waits on it.

Why the close can end in an abort: a client that does not read has a full TCP
window, so even the close frame cannot be written. After ``close_timeout`` the
transport is aborted instead of left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Final

from aiohttp import web

from cti.protocol import CLOSE_SLOW_CONSUMER, WATCHER_ROLES, normalize_iface
from cti.ratelimit import CommandLimiter
from hotline.auth.model import AGENT, ROLES, Principal
from hotline.logs import get_logger
from hotline.tokens import TokenClaims

log = get_logger(__name__)

DEFAULT_QUEUE_SIZE: Final = 256
DEFAULT_CLOSE_TIMEOUT: Final = 2.0


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def principal_of(claims: TokenClaims) -> Principal:
    """Who the socket acts as (the same reading of a token as :mod:`hotline.auth.guard`)."""
    if claims.role not in ROLES:
        raise ValueError(f"unknown role {claims.role[:32]!r}")
    return Principal(
        username=claims.sub.strip().lower(),
        role=claims.role,  # narrowed to a Role by the check above
        iface=claims.iface,
        team=_text(claims.extra.get("team")),
        site=_text(claims.extra.get("site")),
        pbx=_text(claims.extra.get("pbx")),
        expires_at=claims.exp,
    )


class AgentConnection:
    """An authenticated CTI websocket: an agent at one phone interface, or a watcher of agents."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        claims: TokenClaims,
        *,
        transport: asyncio.Transport | None = None,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
        on_drop: Callable[[AgentConnection], None] | None = None,
        limiter: CommandLimiter | None = None,
    ) -> None:
        self.principal = principal_of(claims)
        if claims.role == AGENT and not claims.iface:
            raise ValueError("an agent connection needs the iface claim")
        self.ws = ws
        self.agent = claims.sub
        """The token's subject: the stream of event ids this socket shares with the subject's others."""
        self.role = claims.role
        self.iface: str | None = normalize_iface(claims.iface) if claims.iface else None
        self.watcher = claims.role in WATCHER_ROLES
        """Team leaders, QC, QA, admins: they receive the agent.state of the agents they may see."""
        self.pbx = self.principal.pbx
        """When the token names a PBX, only that PBX's calls reach this socket (sites reuse extensions)."""
        self.limiter = limiter or CommandLimiter()
        self.expires_at = claims.exp
        self._queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self._transport = transport
        self._close_timeout = close_timeout
        self._on_drop = on_drop
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.sent = 0
        self.dropped = False
        """True once the send queue overflowed and the socket was dropped."""

    def wants(self, pbx: str) -> bool:
        return self.pbx is None or self.pbx == pbx

    @property
    def closing(self) -> bool:
        return self._closing is not None or self.ws.closed

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"cti-writer-{self.agent}")

    def offer(self, text: str) -> bool:
        """Queue a message without waiting; False when the socket is closing or was just dropped."""
        if self.closing:
            return False
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped = True
            log.warning("cti client not reading; dropping it", agent=self.agent, queued=self._queue.qsize())
            if self._on_drop is not None:
                self._on_drop(self)
            self.close_soon(CLOSE_SLOW_CONSUMER, "send queue full: the client is not reading")
            return False
        return True

    async def _write_loop(self) -> None:
        while True:
            text = await self._queue.get()
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError) as exc:
                # The peer went away between two messages; the read loop sees the close and cleans up.
                log.info("cti send failed; connection gone", agent=self.agent, error=repr(exc))
                return
            finally:
                self._queue.task_done()
            self.sent += 1

    def close_soon(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Start closing from code that cannot await (a timer, the delivery path)."""
        if self._closing is None:
            self._closing = asyncio.create_task(
                self.close(code, reason, flush=flush), name=f"cti-close-{self.agent}"
            )

    async def close(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close with ``code``; ``flush`` first sends what is queued (the error that explains the close)."""
        if flush and self._writer is not None and not self._writer.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._close_timeout):
                    await self._queue.join()
        await self._stop_writer()
        try:
            async with asyncio.timeout(self._close_timeout):
                # drain=False: the close frame is queued behind whatever the peer has not read; waiting
                # for the peer's own close frame (inside close()) is what the timeout bounds.
                # A close reason is limited to 123 bytes by RFC 6455.
                await self.ws.close(code=code, message=reason.encode("utf-8")[:123], drain=False)
        except TimeoutError:
            self._abort()
        except asyncio.CancelledError:
            # aiohttp shares one drain future between writers: cancelling our blocked writer cancels it
            # for every later drain too, which surfaces here as a CancelledError nobody asked for.
            self._abort()
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        except Exception as exc:  # a broken socket is as good as closed here
            log.info("cti close failed", agent=self.agent, error=repr(exc))
            self._abort()

    def _abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    async def _stop_writer(self) -> None:
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            # wait() neither raises the task's errors nor swallows a cancellation of this task.
            await asyncio.wait({self._writer})

    async def finish(self) -> None:
        """Stop the writer and wait for a pending close (the handler calls this on the way out)."""
        if self._closing is not None:
            await asyncio.wait({self._closing})  # bounded by close_timeout (twice with flush)
        await self._stop_writer()
