"""What the external-system simulators share: run-time fault injection and a tiny HTTP server.

The simulators (:mod:`ivr.core_system.simulator`, :mod:`ivr.ticketing.simulator`) stand in for
real upstreams in ``hotline demo``, tests and benchmarks. :class:`Faults` makes them misbehave
on demand, from Python or over HTTP (``GET``/``POST /_simulator/faults``):

- ``latency_s``: every request waits this long before it is handled (a slow upstream);
- ``fail_status``: every request is answered with this status (an upstream down), until cleared;
- ``fail_next(n, status)``: the next *n* matching requests are answered with *status*;
- ``hang_next(n)``: the next *n* matching requests are never answered (a client timeout);
- ``lose_next_response(n)``: the next *n* matching requests are handled - their side effects
  happen - but the answer never leaves (the response lost on the way back).

Rules can be limited to a method and a path prefix. ``/_simulator/*`` routes are never faulted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from aiohttp import web

from hotline.logs import get_logger

_log = get_logger(__name__)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_Kind = Literal["fail", "hang", "lose"]
INSPECTION_PREFIX = "/_simulator/"


@dataclass
class FaultRule:
    kind: _Kind
    remaining: int
    status: int = 503
    method: str | None = None
    path_prefix: str | None = None

    def matches(self, request: web.Request) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        return self.path_prefix is None or request.path.startswith(self.path_prefix)


@dataclass
class Faults:
    """Failure modes of one simulator, switchable while it runs."""

    latency_s: float = 0.0
    fail_status: int | None = None
    hang_s: float = 300.0
    """How long a hung request waits at most (the simulator's stop releases it at once)."""
    rules: list[FaultRule] = field(default_factory=list)
    requests_seen: int = 0
    """Requests that reached the simulator (inspection routes excepted): did a client fail fast?"""
    _released: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def fail_next(
        self, count: int, status: int = 503, *, method: str | None = None, path: str | None = None
    ) -> None:
        self.rules.append(FaultRule("fail", count, status, method, path))

    def hang_next(self, count: int, *, method: str | None = None, path: str | None = None) -> None:
        self.rules.append(FaultRule("hang", count, method=method, path_prefix=path))

    def lose_next_response(self, count: int, *, method: str | None = None, path: str | None = None) -> None:
        self.rules.append(FaultRule("lose", count, method=method, path_prefix=path))

    def clear(self) -> None:
        self.latency_s = 0.0
        self.fail_status = None
        self.rules.clear()

    def describe(self) -> dict[str, Any]:
        return {
            "latency_s": self.latency_s,
            "fail_status": self.fail_status,
            "requests_seen": self.requests_seen,
            "rules": [asdict(rule) for rule in self.rules],
        }

    def take(self, request: web.Request, *kinds: _Kind) -> FaultRule | None:
        """Consume one use of the first rule of these kinds that matches the request."""
        for rule in self.rules:
            if rule.kind in kinds and rule.matches(request):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    async def hang(self) -> None:
        """Wait until released (simulator stop) or hang_s; the client disconnecting cancels it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.hang_s)

    def release(self) -> None:
        self._released.set()

    def rearm(self) -> None:
        """Make hangs hang again (after a stop released them and the simulator starts anew)."""
        self._released.clear()

    @web.middleware
    async def middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path.startswith(INSPECTION_PREFIX):
            return await handler(request)
        self.requests_seen += 1
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        if self.fail_status is not None:
            return web.json_response({"error": "simulated_failure"}, status=self.fail_status)
        rule = self.take(request, "fail", "hang")
        if rule is not None and rule.kind == "fail":
            return web.json_response({"error": "simulated_failure"}, status=rule.status)
        if rule is not None:
            await self.hang()
            return web.json_response({"error": "simulated_hang"}, status=504)
        response = await handler(request)
        if self.take(request, "lose") is not None:
            _log.info("simulator_response_lost", method=request.method, status=response.status)
            await self.hang()
            return web.json_response({"error": "simulated_lost_response"}, status=504)
        return response

    def apply(self, changes: dict[str, Any]) -> None:
        """Apply a ``POST /_simulator/faults`` document; raises ValueError on a bad one."""
        if changes.get("clear"):
            self.clear()
        if "latency_s" in changes:
            self.latency_s = float(changes["latency_s"])
        if "fail_status" in changes:
            value = changes["fail_status"]
            self.fail_status = None if value is None else int(value)
        for key, kind in (("fail_next", "fail"), ("hang_next", "hang"), ("lose_next_response", "lose")):
            spec = changes.get(key)
            if spec is None:
                continue
            if not isinstance(spec, dict):
                raise ValueError(f"{key} must be an object like {{'count': 1}}")
            self.rules.append(
                FaultRule(
                    kind,  # type: ignore[arg-type]
                    int(spec.get("count", 1)),
                    int(spec.get("status", 503)),
                    spec.get("method"),
                    spec.get("path"),
                )
            )


def fault_routes(faults: Faults) -> list[web.RouteDef]:
    """``GET``/``POST /_simulator/faults``: read and switch the failure modes over HTTP."""

    async def show(_request: web.Request) -> web.Response:
        return web.json_response(faults.describe())

    async def change(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            faults.apply(body)
        except ValueError as exc:
            return web.json_response({"error": "bad_request", "message": str(exc)}, status=400)
        _log.info("simulator_faults_changed", **faults.describe())
        return web.json_response(faults.describe())

    return [web.get("/_simulator/faults", show), web.post("/_simulator/faults", change)]


class SimulatorServer:
    """Runs one simulator's aiohttp app on 127.0.0.1 (port 0: an ephemeral port) for tests and demos."""

    def __init__(
        self, app: web.Application, faults: Faults, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._app = app
        self._faults = faults
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        """Start serving; returns the base URL (``http://127.0.0.1:<port>``)."""
        # No access log: request lines carry customer numbers. Handler cancellation: a client
        # that timed out and went away must not leave its request handler running.
        self._faults.rearm()
        self._runner = web.AppRunner(self._app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://{self._host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        self._faults.release()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
