"""Broker transports over Redis pub/sub (redis-py) and NATS (nats-py).

Both connect in the background and reconnect by themselves: a broker that is
down when hotline starts, or that restarts, costs the other instances' pops for
that time, never this instance's start or its own pops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Final

from hotline.logs import get_logger

log = get_logger(__name__)

RECONNECT_S: Final = 1.0


class RedisTransport:
    def __init__(self, url: str, channel: str) -> None:
        import redis.asyncio as redis

        self._client: Any = redis.from_url(url, socket_connect_timeout=2.0, health_check_interval=15)
        self._channel = channel
        self._reader: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()
        """Set while the subscription is live (tests wait on it)."""

    async def connect(self, on_data: Callable[[bytes], None]) -> None:
        self._reader = asyncio.create_task(self._read_forever(on_data), name="cti-broker-redis")

    async def _read_forever(self, on_data: Callable[[bytes], None]) -> None:
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self.subscribed.set()
                log.info("cti broker subscribed", broker="redis")
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("type") == "message":
                        on_data(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection refused or lost: retry
                if self.subscribed.is_set():
                    log.warning("cti broker link lost", broker="redis", error=repr(exc)[:200])
                self.subscribed.clear()
                await asyncio.sleep(RECONNECT_S)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def send(self, data: bytes) -> None:
        await self._client.publish(self._channel, data)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.wait({self._reader})
        await self._client.aclose()


class NatsTransport:
    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._subject = channel
        self._nc: Any = None
        self._connecting: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()

    async def connect(self, on_data: Callable[[bytes], None]) -> None:
        self._connecting = asyncio.create_task(self._connect_forever(on_data), name="cti-broker-nats")

    async def _connect_forever(self, on_data: Callable[[bytes], None]) -> None:
        import nats

        async def handler(msg: Any) -> None:
            on_data(msg.data)

        while True:
            try:
                # nats-py reconnects on its own once the first connection is made.
                self._nc = await nats.connect(
                    self._url, connect_timeout=2, max_reconnect_attempts=-1, reconnect_time_wait=RECONNECT_S
                )
                await self._nc.subscribe(self._subject, cb=handler)
                await self._nc.flush()
                self.subscribed.set()
                log.info("cti broker subscribed", broker="nats")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("cti broker not reachable; retrying", broker="nats", error=repr(exc)[:200])
                await asyncio.sleep(RECONNECT_S)

    async def send(self, data: bytes) -> None:
        if self._nc is None:
            raise ConnectionError("NATS not connected yet")
        await self._nc.publish(self._subject, data)

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            await asyncio.wait({self._connecting})
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
