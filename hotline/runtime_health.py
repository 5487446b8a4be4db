"""The /health checks of a running hotline: one per PBX's AMI link, the database, FastAGI.

Each check is a coroutine function read at request time, so it reports the Runtime as it is
then (a link that dropped a second ago shows as down), not as it was when the app was built.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hotline.store import db as store_db
from hotline.web.health import HealthResult

if TYPE_CHECKING:
    from hotline.compose import Runtime

HealthCheck = Callable[[], Awaitable[HealthResult]]


def health_checks(runtime: Runtime) -> dict[str, HealthCheck]:
    """The checks /health runs, by name: ``pbx:<name>`` for each PBX, ``database``, ``agi``."""
    checks: dict[str, HealthCheck] = {}
    for name in (p.name for p in runtime.config.pbx):
        checks[f"pbx:{name}"] = pbx_check(runtime, name)

    async def database() -> HealthResult:
        ok, detail = await store_db.check(runtime.engine)
        info: dict[str, Any] = {}
        if runtime.eventlog is not None:
            info["backlog"] = runtime.eventlog.stats().get("backlog", 0)
        return HealthResult("ok" if ok else "down", detail, info)

    async def agi() -> HealthResult:
        server = runtime.agi_server
        if server is None or not runtime.agi_port:
            return HealthResult("down", "FastAGI server not listening")
        return HealthResult(
            "ok", "", {"port": runtime.agi_port, "sessions_active": server.stats.sessions_active}
        )

    checks["database"] = database
    checks["agi"] = agi
    return checks


def pbx_check(runtime: Runtime, name: str) -> HealthCheck:
    """One PBX's AMI link: down unless connected, degraded while calls lost in a gap are open."""

    async def check() -> HealthResult:
        status = runtime.ami_clients[name].status
        info: dict[str, Any] = {
            "state": status.state,
            "since": status.since,
            "events_received": status.events_received,
            "reconnects": status.reconnects,
        }
        unresolved = runtime.gapfill.unresolved(name) if runtime.gapfill is not None else 0
        info["gap_unresolved"] = unresolved
        if status.state == "connected" and unresolved:
            reason = f"{unresolved} call(s) ended while the AMI link was down and are not completed yet"
            return HealthResult("degraded", reason, info)
        if status.state == "connected":
            return HealthResult("ok", "", info)
        return HealthResult("down", status.last_error or status.state, info)

    return check
