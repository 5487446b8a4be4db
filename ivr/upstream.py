"""One resilient HTTP/JSON upstream: per-attempt timeout, backoff retries, a circuit breaker.

Both external-system clients (core system, ticketing) speak to their server through an
:class:`Upstream`. It knows nothing of either contract: it sends a request and hands back
the status and parsed JSON body, or raises :class:`UpstreamDown` when the upstream could
not give an answer (timeout, connection error, 5xx or 429 on every allowed attempt, or the
circuit open). Mapping statuses to typed results is the client's job.

Retrying is the caller's decision (``retry=True``), because only the caller knows whether
the request is safe to repeat. Log lines name the request by a caller-given ``log_path`` in
which customer numbers are already masked; headers (credentials) are never logged.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from hotline.logs import get_logger
from ivr.breaker import CircuitBreaker, CircuitOpen

_log = get_logger(__name__)


@dataclass(frozen=True)
class UpstreamResponse:
    """An answer from a reachable upstream; ``body`` is parsed JSON, or None if it was not JSON."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


class UpstreamDown(Exception):
    """No usable answer: every allowed attempt failed, or the circuit was open."""

    def __init__(self, reason: str, *, timed_out: bool = False, circuit_open: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out
        self.circuit_open = circuit_open


def _is_server_failure(status: int) -> bool:
    # 429 means "too busy right now": for a caller on the line that is the same as a 503.
    return status >= 500 or status == 429


class Upstream:
    """An HTTP/JSON endpoint reached through one aiohttp session and one circuit breaker."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout_s: float,
        retries: int,
        backoff_s: float,
        backoff_max_s: float,
        breaker: CircuitBreaker,
        headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = 100,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{name}: base_url must start with http:// or https://, not {base_url!r}")
        if timeout_s <= 0:
            raise ValueError(f"{name}: timeout_s must be positive, not {timeout_s}")
        if retries < 0:
            raise ValueError(f"{name}: retries must not be negative, not {retries}")
        if max_connections < 1:
            raise ValueError(f"{name}: max_connections must be at least 1, not {max_connections}")
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.breaker = breaker
        self._headers = dict(headers or {})
        self._session = session
        self._owns_session = session is None
        self.max_connections = max_connections

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # A request waiting for a free connection waits inside its attempt's timeout: the
            # pool must be as large as the calls that may ask at once, or callers queue here.
            connector = aiohttp.TCPConnector(limit=self.max_connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(headers=self._headers, connector=connector)
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so retrying callers do not arrive in lockstep."""
        ceiling: float = min(self.backoff_max_s, self.backoff_s * 2.0**attempt)
        return ceiling * (0.5 + random.random() / 2)

    async def request(
        self,
        method: str,
        path: str,
        *,
        log_path: str,
        retry: bool,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> UpstreamResponse:
        """Send one request (and, if ``retry``, repeat it on failure); see the module docstring."""
        attempts = 1 + (self.retries if retry else 0)
        per_attempt = timeout if timeout is not None else self.timeout_s
        last: UpstreamDown | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.backoff_delay(attempt - 1))
            try:
                return await self._attempt(method, path, json_body, params, headers, per_attempt)
            except UpstreamDown as exc:
                last = exc
                if exc.circuit_open:
                    raise
                _log.warning(
                    "upstream_attempt_failed",
                    upstream=self.name,
                    method=method,
                    path=log_path,
                    attempt=attempt + 1,
                    of=attempts,
                    reason=exc.reason,
                )
        assert last is not None
        raise last

    async def _attempt(
        self,
        method: str,
        path: str,
        json_body: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        timeout_s: float,
    ) -> UpstreamResponse:
        try:
            self.breaker.acquire()
        except CircuitOpen as exc:
            raise UpstreamDown(str(exc), circuit_open=True) from None
        try:
            async with asyncio.timeout(timeout_s):
                async with self._client().request(
                    method, self.base_url + path, json=json_body, params=params, headers=headers
                ) as resp:
                    status, raw, got = resp.status, await resp.read(), dict(resp.headers)
        except TimeoutError:
            self.breaker.failure()
            raise UpstreamDown(f"no answer within {timeout_s:g}s", timed_out=True) from None
        except aiohttp.ClientError as exc:
            # The aiohttp message may carry the URL (with a customer number): keep only its kind.
            self.breaker.failure()
            raise UpstreamDown(f"connection failed ({type(exc).__name__})") from None
        except BaseException:
            self.breaker.abandon()
            raise
        if _is_server_failure(status):
            self.breaker.failure()
            raise UpstreamDown(f"server answered {status}")
        self.breaker.success()
        return UpstreamResponse(status, _parse_json(raw), got)


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
