"""``GET /health``: one answer for load balancers, monitoring and the operations team.

Checks are named callables given to :func:`hotline.web.create_app`. Their names
say what they check:

- ``pbx:<name>``: the AMI link to one PBX (``pbx:jakarta``);
- ``database``: the store;
- anything else (``agi``, ``recording``...): another component.

How the overall status is decided (and why):

- ``down`` (HTTP 503) when the database is down, or when PBXs are configured and
  not one of them is connected: hotline cannot do its job, so a load balancer
  should send traffic to another instance.
- ``degraded`` (HTTP 200) when anything else is not ``ok`` (one of two PBXs down,
  the AGI server down while the dialplan falls back to the queue, a check that is
  slow): the instance still serves, but someone should look.
- ``ok`` (HTTP 200) otherwise.

A check that raises or takes longer than the timeout counts as ``down`` with the
reason in ``detail``; it never turns /health itself into an error.
When no ``pbx:`` check exists (no PBX configured) the PBX rule does not apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from hotline.logs import get_logger

log = get_logger(__name__)

HealthStatus = Literal["ok", "degraded", "down"]

PBX_PREFIX: Final = "pbx:"
DATABASE: Final = "database"


@dataclass(frozen=True)
class HealthResult:
    """What one check found. ``info`` holds JSON values shown beside the status (e.g. connected_since)."""

    status: HealthStatus
    detail: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.detail:
            out["detail"] = self.detail
        out.update(self.info)
        return out


HealthCheck = Callable[[], Awaitable[HealthResult]]


async def _run_one(name: str, check: HealthCheck, time_limit: float) -> HealthResult:
    try:
        async with asyncio.timeout(time_limit):
            result = await check()
    except TimeoutError:
        return HealthResult("down", f"check did not answer within {time_limit:g} s")
    except Exception as exc:  # a broken check reports itself as down; /health keeps answering
        log.warning("health check failed", check=name, error=repr(exc))
        return HealthResult("down", f"check failed: {type(exc).__name__}")
    if not isinstance(result, HealthResult) or result.status not in ("ok", "degraded", "down"):
        return HealthResult("down", "check returned no HealthResult")
    return result


async def run_checks(checks: Mapping[str, HealthCheck], time_limit: float) -> dict[str, HealthResult]:
    """Run every check at once (so /health takes as long as the slowest check, not their sum)."""
    names = list(checks)
    results = await asyncio.gather(*(_run_one(n, checks[n], time_limit) for n in names))
    return dict(zip(names, results, strict=True))


def summarize(results: Mapping[str, HealthResult]) -> tuple[HealthStatus, dict[str, Any]]:
    """The overall status and the JSON report (pure: the rules above, nothing else)."""
    pbx = {n[len(PBX_PREFIX) :]: r for n, r in results.items() if n.startswith(PBX_PREFIX)}
    database = results.get(DATABASE)
    components = {n: r for n, r in results.items() if n != DATABASE and not n.startswith(PBX_PREFIX)}

    status: HealthStatus = "ok"
    if any(r.status != "ok" for r in results.values()):
        status = "degraded"
    if database is not None and database.status == "down":
        status = "down"
    if pbx and all(r.status == "down" for r in pbx.values()):
        status = "down"

    report: dict[str, Any] = {
        "status": status,
        "checked_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "pbx": {name: r.as_json() for name, r in sorted(pbx.items())},
        "database": database.as_json() if database is not None else None,
        "components": {name: r.as_json() for name, r in sorted(components.items())},
    }
    return status, report


def http_status(status: HealthStatus) -> int:
    return 503 if status == "down" else 200
