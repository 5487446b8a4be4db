"""Fan-out of CTI messages between hotline instances, behind one small interface.

Two sites may each run hotline; an agent connects to whichever it reaches, and
the AMI event that makes its pop may be read by the other. Every instance
delivers what it builds to its own sockets *first*, then publishes it; every
instance delivers what it receives from the others (:meth:`AgentHub.deliver_remote`).
An instance ignores its own messages (brokers echo them back) and any message
it already delivered itself (both instances may read the same PBX).

Publishing never blocks the event path: messages wait in a bounded queue for the
broker's writer task; while the broker is down the oldest are dropped and
counted (local delivery goes on regardless).

``[cti] broker``: ``memory`` (one instance; or several in one process sharing a
:class:`MemoryBus`, for tests), ``redis://host:port[/db]``, ``nats://host:port``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from hotline.config import ConfigError
from hotline.logs import get_logger

log = get_logger(__name__)

CHANNEL: Final = "hotline.cti.events"
DEFAULT_MAX_PENDING: Final = 10_000
RETRY_S: Final = 1.0

Deliver = Callable[[str, str, Mapping[str, Any], str | None], Any]
"""``deliver(pbx, iface, message, key)``: what a received message is handed to."""


class Transport(Protocol):
    """The few operations a broker must offer; each implementation wraps one client library."""

    async def connect(self, on_data: Callable[[bytes], None]) -> None: ...
    async def send(self, data: bytes) -> None: ...
    async def close(self) -> None: ...


@dataclass
class MemoryBus:
    """An in-process broker: every Broker on one bus hears every other's messages."""

    listeners: list[Callable[[bytes], None]] = field(default_factory=list)


class MemoryTransport:
    def __init__(self, bus: MemoryBus | None = None) -> None:
        self._bus = bus if bus is not None else MemoryBus()
        self._listener: Callable[[bytes], None] | None = None

    async def connect(self, on_data: Callable[[bytes], None]) -> None:
        self._listener = on_data
        self._bus.listeners.append(on_data)

    async def send(self, data: bytes) -> None:
        for listener in list(self._bus.listeners):
            listener(data)

    async def close(self) -> None:
        if self._listener in self._bus.listeners:
            self._bus.listeners.remove(self._listener)


class Broker:
    """Publishes this instance's messages and hands the others' to ``deliver``."""

    def __init__(
        self, transport: Transport, deliver: Deliver | None = None, *, max_pending: int = DEFAULT_MAX_PENDING
    ) -> None:
        self.origin = secrets.token_hex(8)
        """This instance's id on the broker (its own echoes are ignored)."""
        self._transport = transport
        self.deliver = deliver
        self._pending: deque[bytes] = deque()
        self._max = max_pending
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.received = 0
        self.dropped = 0
        self.bad = 0

    async def start(self) -> None:
        await self._transport.connect(self._on_data)
        self._task = asyncio.create_task(self._write_loop(), name="cti-broker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})
            self._task = None
        await self._transport.close()

    def publish(self, pbx: str, iface: str, message: Mapping[str, Any], key: str | None) -> None:
        """Queue one message for the other instances (never waits)."""
        envelope = {"o": self.origin, "p": pbx, "i": iface, "k": key, "m": message}
        self._pending.append(json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode())
        if len(self._pending) > self._max:
            self._pending.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.error("cti broker backlog full; oldest messages dropped", dropped=self.dropped)
        self._wakeup.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                try:
                    await self._transport.send(self._pending[0])
                except Exception as exc:  # the broker is down: keep the backlog, retry
                    log.warning("cti broker publish failed; retrying", error=repr(exc)[:200])
                    await asyncio.sleep(RETRY_S)
                    continue
                self._pending.popleft()
                self.published += 1

    def _on_data(self, data: bytes) -> None:
        try:
            envelope = json.loads(data)
            origin, pbx, iface, key, message = (envelope[k] for k in ("o", "p", "i", "k", "m"))
            if not (isinstance(pbx, str) and isinstance(iface, str) and isinstance(message, dict)):
                raise ValueError("bad envelope fields")
        except (ValueError, KeyError, TypeError) as exc:
            self.bad += 1
            log.warning("cti broker message ignored", error=repr(exc)[:120])
            return
        if origin == self.origin or self.deliver is None:
            return
        self.received += 1
        self.deliver(pbx, iface, message, key if isinstance(key, str) else None)


def transport_for(url: str, bus: MemoryBus | None = None) -> Transport:
    """The transport ``[cti] broker`` names; ConfigError for anything else."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else url.strip().lower()
    if scheme == "memory":
        return MemoryTransport(bus)
    if scheme in ("redis", "rediss"):
        from cti.broker_clients import RedisTransport

        return RedisTransport(url, CHANNEL)
    if scheme in ("nats", "tls"):
        from cti.broker_clients import NatsTransport

        return NatsTransport(url, CHANNEL)
    raise ConfigError(f"[cti] broker must be memory, redis://host:port or nats://host:port, not {url!r}")
