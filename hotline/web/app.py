"""The one aiohttp application factory, its typed keys, and the lifecycle helpers.

The composition root calls :func:`create_app`, lets every feature add its routes
(``services.web``), registers the long-lived components with
:func:`add_background` and runs the app. Order of shutdown, which is aiohttp's:
``on_shutdown`` closes the open websockets (code 1001) first, so clients reconnect
elsewhere while the background components (AMI clients, AGI server) are stopped
by their ``cleanup_ctx`` in reverse order of registration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from aiohttp import WSCloseCode, web

from hotline.config import Config
from hotline.logs import get_logger
from hotline.metrics import CONTENT_TYPE, Registry
from hotline.web.errors import error_middleware
from hotline.web.health import HealthCheck, http_status, run_checks, summarize
from hotline.web.openapi import build_document, check_fragment

log = get_logger(__name__)

CONFIG_KEY: Final = web.AppKey("hotline.config", Config)
METRICS_KEY: Final = web.AppKey("hotline.metrics", Registry)
HEALTH_CHECKS_KEY: Final[web.AppKey[dict[str, HealthCheck]]] = web.AppKey("hotline.health_checks")
OPENAPI_FRAGMENTS_KEY: Final[web.AppKey[list[dict[str, Any]]]] = web.AppKey("hotline.openapi_fragments")
WEBSOCKETS_KEY: Final[web.AppKey[set[web.WebSocketResponse]]] = web.AppKey("hotline.websockets")
HEALTH_TIMEOUT_KEY: Final = web.AppKey("hotline.health_timeout", float)

WEBSOCKET_CLOSE_TIMEOUT: Final = 2.0
"""Seconds a websocket gets to acknowledge the shutdown close before its socket is dropped."""


async def _health(request: web.Request) -> web.Response:
    app = request.app
    checks = app[HEALTH_CHECKS_KEY]
    results = await run_checks(checks, app[HEALTH_TIMEOUT_KEY])
    status, report = summarize(results)
    return web.json_response(report, status=http_status(status), headers={"Cache-Control": "no-store"})


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render().encode("utf-8")
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


async def _openapi(request: web.Request) -> web.Response:
    fragments = request.app[OPENAPI_FRAGMENTS_KEY]
    return web.json_response(build_document(fragments))


async def _close_websockets(app: web.Application) -> None:
    registry = app[WEBSOCKETS_KEY]
    sockets = list(registry)
    if sockets:
        log.info("closing websockets for shutdown", count=len(sockets))
        await asyncio.gather(*(_close_one(ws) for ws in sockets), return_exceptions=True)


async def _close_one(ws: web.WebSocketResponse) -> None:
    try:
        async with asyncio.timeout(WEBSOCKET_CLOSE_TIMEOUT):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
    except TimeoutError:
        # The peer does not read (or is gone); its socket is dropped with the server.
        log.warning("websocket did not close in time")


def create_app(
    *,
    config: Config,
    health_checks: Mapping[str, HealthCheck],
    metrics: Registry,
    openapi_fragments: list[dict[str, Any]],
    health_timeout: float = 2.0,
) -> web.Application:
    """The application with /health, /metrics, /openapi.json and JSON errors.

    ``health_checks`` names follow :mod:`hotline.web.health` (``pbx:<name>``, ``database``,
    others). ``openapi_fragments`` is kept by reference: fragments appended later (or given
    to :func:`add_openapi`) are served too.
    """
    for fragment in openapi_fragments:
        check_fragment(fragment)
    requests_total = metrics.counter(
        "hotline_http_requests_total",
        "HTTP requests answered, by method, route and status",
        ("method", "route", "status"),
    )
    app = web.Application(middlewares=[error_middleware(requests_total)])
    app[CONFIG_KEY] = config
    app[METRICS_KEY] = metrics
    app[HEALTH_CHECKS_KEY] = dict(health_checks)
    app[HEALTH_TIMEOUT_KEY] = health_timeout
    app[OPENAPI_FRAGMENTS_KEY] = openapi_fragments
    app[WEBSOCKETS_KEY] = set()
    metrics.gauge_func(
        "hotline_websockets_open", "Websockets open on this instance", lambda: len(app[WEBSOCKETS_KEY])
    )
    app.router.add_get("/health", _health, name="health", allow_head=False)
    app.router.add_get("/metrics", _metrics, name="metrics", allow_head=False)
    app.router.add_get("/openapi.json", _openapi, name="openapi", allow_head=False)
    app.on_shutdown.append(_close_websockets)
    return app


def add_openapi(app: web.Application, fragment: dict[str, Any]) -> None:
    """Document a feature's routes (checked now, so a malformed fragment fails at setup)."""
    check_fragment(fragment)
    app[OPENAPI_FRAGMENTS_KEY].append(fragment)


def add_health_check(app: web.Application, name: str, check: HealthCheck) -> None:
    """Add a check after :func:`create_app` (e.g. by a feature); the name rules are those of /health."""
    checks = app[HEALTH_CHECKS_KEY]
    if name in checks:
        raise ValueError(f"health check {name!r} is already registered")
    checks[name] = check


def add_background(
    app: web.Application,
    name: str,
    start: Callable[[], Awaitable[Any]],
    stop: Callable[[], Awaitable[Any]],
    *,
    stop_timeout: float = 10.0,
) -> None:
    """Run ``start`` when the app starts and ``stop`` when it stops (``cleanup_ctx``).

    ``start`` should return once the component runs (spawning its own tasks); if it raises,
    the app does not start. A ``stop`` that fails or overruns ``stop_timeout`` is logged and
    shutdown carries on, so one stuck component cannot keep the others running.
    """

    async def context(_app: web.Application) -> AsyncIterator[None]:
        await start()
        log.info("background component started", component=name)
        yield
        try:
            async with asyncio.timeout(stop_timeout):
                await stop()
        except TimeoutError:
            log.error("background component did not stop in time", component=name, timeout=stop_timeout)
        except Exception as exc:  # keep shutting the rest down
            log.error("background component failed to stop", component=name, error=repr(exc))
        else:
            log.info("background component stopped", component=name)

    app.cleanup_ctx.append(context)


@contextmanager
def track_websocket(app: web.Application, ws: web.WebSocketResponse) -> Iterator[web.WebSocketResponse]:
    """Keep ``ws`` in the app's registry while the block runs, so shutdown can close it.

    Usage in a handler: ``with track_websocket(request.app, ws): async for msg in ws: ...``
    """
    sockets = app[WEBSOCKETS_KEY]
    sockets.add(ws)
    try:
        yield ws
    finally:
        sockets.discard(ws)
