"""A guarded HTTP GET to a system outside hotline (core system, ticketing), for the screen-pop.

The pop never waits for these: their answers arrive later as ``call.updated``. They are
still guarded, so a slow or dead system costs hotline nothing:

- one attempt, with a timeout (a late enrichment is worth little; a retry is later still);
- a bound on requests in flight, and on those waiting for a slot: beyond it a lookup is
  refused at once rather than queued behind a system that is not answering;
- a circuit breaker: after ``breaker_failures`` consecutive failures every lookup fails at
  once for ``breaker_reset_s``; then one probe is let through, and its answer decides.

No URL, header or body is logged: URLs carry customer numbers, headers carry keys.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from hotline.logs import get_logger

log = get_logger(__name__)

DEFAULT_MAX_IN_FLIGHT: Final = 4
DEFAULT_MAX_WAITING: Final = 32


class Unavailable(Exception):
    """No answer to use: timeout, connection error, 5xx, refused credentials, circuit open, too busy."""


class NotFound(Exception):
    """The system answered 404: it does not know what was asked for."""


class Breaker:
    """Consecutive failures open the circuit; after a cool-down one probe may close it."""

    def __init__(self, failures: int, reset_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(failures, 1)
        self.reset_s = reset_s
        self._clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        """May a request go out now? (a half-open circuit lets exactly one through)"""
        if self._opened_at is None:
            return True
        if self._probing or self._clock() - self._opened_at < self.reset_s:
            return False
        self._probing = True
        return True

    def success(self) -> None:
        self.failures, self._opened_at, self._probing = 0, None, False

    def abandon(self) -> None:
        """An attempt ended without an answer either way (cancelled): a probe may go again."""
        self._probing = False

    def failure(self) -> bool:
        """Count a failure; True when this one opened (or re-opened) the circuit."""
        self.failures += 1
        self._probing = False
        if self.failures >= self.threshold:
            newly = self._opened_at is None
            self._opened_at = self._clock()
            return newly
        return False


@dataclass(frozen=True)
class UpstreamSettings:
    name: str
    """For logs and metrics: ``core_system`` or ``ticketing``."""
    base_url: str
    headers: Mapping[str, str]
    timeout_s: float
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    max_waiting: int = DEFAULT_MAX_WAITING


class Upstream:
    """GET JSON from one system, guarded as the module says. Create and use inside the event loop."""

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.breaker = Breaker(settings.breaker_failures, settings.breaker_reset_s)
        self._slots = asyncio.Semaphore(settings.max_in_flight)
        self._waiting = 0
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0
        self.failed = 0
        self.refused = 0

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """The JSON body of ``GET base_url + path``; :class:`NotFound` on 404, else :class:`Unavailable`."""
        if self._waiting >= self.settings.max_waiting:
            self.refused += 1
            raise Unavailable(f"{self.settings.name}: too many lookups waiting")
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            if not self.breaker.allow():
                self.refused += 1
                raise Unavailable(f"{self.settings.name}: circuit open")
            return await self._attempt(path, params)
        finally:
            self._slots.release()

    async def _attempt(self, path: str, params: Mapping[str, str] | None) -> Any:
        self.requests += 1
        url = self.settings.base_url.rstrip("/") + path
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                async with self._client().get(url, params=params, headers=self.settings.headers) as reply:
                    if reply.status == 404:
                        self.breaker.success()  # an answer: the system is up
                        raise NotFound(f"{self.settings.name}: not found")
                    if reply.status in (401, 403):
                        self._failed(f"refused hotline's credentials ({reply.status})")
                    if reply.status >= 400:
                        self._failed(f"answered {reply.status}")
                    body = await reply.json(content_type=None)
        except TimeoutError:
            self._failed(f"no answer within {self.settings.timeout_s:g}s")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            self._failed(type(exc).__name__)
        except asyncio.CancelledError:
            self.breaker.abandon()
            raise
        self.breaker.success()
        return body

    def _failed(self, reason: str) -> None:
        self.failed += 1
        opened = self.breaker.failure()
        log.warning("cti enrichment lookup failed", upstream=self.settings.name, reason=reason)
        if opened:
            log.error(
                "cti enrichment circuit open",
                upstream=self.settings.name,
                failures=self.breaker.failures,
                cool_down_s=self.settings.breaker_reset_s,
            )
        raise Unavailable(f"{self.settings.name}: {reason}")

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # No cookies (nothing to carry between lookups) and a small pool: the slots bound it anyway.
            self._session = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=self.settings.max_in_flight),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
