"""Who may do what in QC, and the refusals on the audit record.

- read (samples, scores, reports): QC, QA, admins; team leaders for their own team's agents;
- score: QC and team leaders (their own team); calibration scores: QC only;
- draw a sample, pick calibration calls: QC and admins;
- agents: nothing (they are reviewed; their results reach them through their team leader).

A valid user of a refused role, or a team leader reaching another team's call, is written to
the audit log (``qc.access``) as well as logged, like the recordings API does.
"""

from __future__ import annotations

from typing import Any, Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import audit, can_listen, forbidden, require_active
from hotline.auth.guard import SIGNER_KEY, bearer_token, client_address, principal_from_token
from hotline.auth.model import ADMIN, QA, QC, TEAM_LEADER, Principal, same_name

READ_ROLES: Final = (QC, QA, ADMIN, TEAM_LEADER)
SCORE_ROLES: Final = (QC, TEAM_LEADER)
MANAGE_ROLES: Final = (QC, ADMIN)
CALIBRATION_ROLES: Final = (QC, QA, ADMIN)


async def record(
    engine: AsyncEngine,
    request: web.Request,
    who: Principal,
    action: str,
    target: str,
    *,
    ok: bool = True,
    detail: str = "",
) -> None:
    await audit(engine, who, action, target, source=client_address(request), ok=ok, detail=detail)


async def principal(engine: AsyncEngine, request: web.Request, roles: tuple[str, ...]) -> Principal:
    """The active user behind the request if their role is one of ``roles`` (401/403 otherwise)."""
    try:
        return await require_active(request, roles)
    except web.HTTPForbidden:
        token, signer = bearer_token(request), request.app.get(SIGNER_KEY)
        if token and signer is not None:
            # require_active verified this very token before refusing its role.
            who = principal_from_token(signer, token)
            await record(engine, request, who, "qc.access", request.path, ok=False, detail="role not allowed")
        raise


def may_see(who: Principal, call: dict[str, Any]) -> bool:
    """QC, QA and admins: every sampled call; team leaders: their own team's agents' calls."""
    return can_listen(who, call["agent"], call["team"])


async def refuse(
    engine: AsyncEngine, request: web.Request, who: Principal, action: str, target: str, reason: str
) -> web.HTTPForbidden:
    """Audit and log a refusal; returns the 403 to raise."""
    await record(engine, request, who, action, target, ok=False, detail=reason)
    return forbidden(request, who, reason)


def team_scope(who: Principal, requested: str | None) -> str | None:
    """The team a listing is limited to: a team leader's own; None (all) for the other roles.

    A team leader asking for another team gets a 403 rather than an empty list, so a mistake
    in the page is visible.
    """
    if who.role != TEAM_LEADER:
        return requested
    if requested is not None and not same_name(requested, who.team):
        raise web.HTTPForbidden(text=f"not allowed: team leaders see only their own team ({who.team})")
    return who.team or ""  # no team is named "": a team leader without a team sees nothing
