"""Who may watch the wallboard's websocket: a login token of a floor role, checked as the CTI does.

The token comes in the query (``/wallboard/ws?token=...``) or, so that it stays out of access
logs, as the first message ``{"type": "auth", "token": "..."}`` within :data:`AUTH_TIMEOUT_S`.
The upgrade has already happened when the token is read, so a refusal is a close code, the only
thing a browser can see: :data:`CLOSE_UNAUTHORIZED` for a missing, invalid or expired token or a
user disabled since the login, :data:`CLOSE_FORBIDDEN` for a role that may not see the board
(agents). Each refusal is one log line (address and reason; never the token).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any, Final

from aiohttp import WSMsgType, web

from hotline.auth.guard import ENGINE_KEY, SIGNER_KEY, client_address, principal_from_token
from hotline.auth.model import ADMIN, QA, QC, TEAM_LEADER, Principal
from hotline.auth.users import get_user
from hotline.logs import get_logger
from hotline.store.db import StoreError
from hotline.tokens import MAX_TOKEN_LENGTH, TokenError

log = get_logger("hotline.wallboard")

WALLBOARD_ROLES: Final = (TEAM_LEADER, QA, QC, ADMIN)
CLOSE_UNAUTHORIZED: Final = 4401
CLOSE_FORBIDDEN: Final = 4403
AUTH_TIMEOUT_S: Final = 10.0


async def _refuse(
    request: web.Request, ws: web.WebSocketResponse, code: int, reason: str, **facts: Any
) -> None:
    log.warning("wallboard refused", code=code, reason=reason, ip=client_address(request), **facts)
    await ws.close(code=code, message=reason.encode("utf-8")[:123])


async def _auth_message(ws: web.WebSocketResponse) -> str | None:
    """The token of a first ``{"type": "auth", "token": ...}`` message, or None."""
    try:
        message = await ws.receive(timeout=AUTH_TIMEOUT_S)
    except TimeoutError:
        return None
    if message.type is not WSMsgType.TEXT or len(message.data) > MAX_TOKEN_LENGTH + 100:
        return None
    try:
        body = json.loads(message.data)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("type") != "auth" or not isinstance(body.get("token"), str):
        return None
    token: str = body["token"]
    return token


async def authenticate(request: web.Request, ws: web.WebSocketResponse) -> Principal | None:
    """The principal of a prepared wallboard websocket, or None after closing it with the reason."""
    token = request.query.get("token") or await _auth_message(ws)
    if not token:
        await _refuse(request, ws, CLOSE_UNAUTHORIZED, "unauthorized: log in first (no token)")
        return None
    signer = request.app.get(SIGNER_KEY)
    if signer is None:  # no login on this server: nobody can be let in
        await _refuse(request, ws, CLOSE_UNAUTHORIZED, "unauthorized: this server has no login")
        return None
    try:
        principal = principal_from_token(signer, token)
    except TokenError as exc:
        await _refuse(request, ws, CLOSE_UNAUTHORIZED, f"unauthorized: token {exc.reason}", detail=exc.detail)
        return None
    if principal.role not in WALLBOARD_ROLES:
        reason = f"forbidden: role {principal.role} may not see the wallboard"
        await _refuse(request, ws, CLOSE_FORBIDDEN, reason, username=principal.username)
        return None
    if not await _still_active(request, principal):
        reason = "unauthorized: this account is no longer active"
        await _refuse(request, ws, CLOSE_UNAUTHORIZED, reason, username=principal.username)
        return None
    return principal


async def _still_active(request: web.Request, principal: Principal) -> bool:
    """Tokens are stateless: a user disabled (or given another role) since the login is cut off here."""
    engine = request.app.get(ENGINE_KEY)
    if engine is None:
        return True
    try:
        user = await get_user(engine, principal.username)
    except StoreError as exc:
        # The database is down: the board keeps working for a genuine token rather than going dark.
        log.warning("wallboard cannot check the user; the token is trusted", error=str(exc))
        return True
    return user is not None and user.active and user.role == principal.role


async def close_when_expired(ws: web.WebSocketResponse, expires_at: float) -> None:
    """Close the page's websocket with 4401 when its token expires (the page then logs in again)."""
    await asyncio.sleep(max(0.0, expires_at - time.time()))
    log.info("wallboard token expired; closing the page's websocket")
    with contextlib.suppress(Exception):
        # Shielded: the handler cancels this task once the socket is closed, which must not cut
        # the close handshake short.
        await asyncio.shield(ws.close(code=CLOSE_UNAUTHORIZED, message=b"unauthorized: token expired"))


_PAGE_RESPONSE: Final = {
    "200": {"description": "The file", "content": {"text/html": {"schema": {"type": "string"}}}}
}

FRAGMENT: Final[dict[str, Any]] = {
    "tags": [{"name": "wallboard", "description": "The floor's real-time wallboard"}],
    "paths": {
        "/wallboard": {
            "get": {
                "tags": ["wallboard"],
                "summary": "The wallboard page (public; it asks for a login when it has no token)",
                "responses": _PAGE_RESPONSE,
            }
        },
        "/wallboard/{name}": {
            "get": {
                "tags": ["wallboard"],
                "summary": "The page's stylesheet and script",
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": ["wallboard.html", "wallboard.css", "wallboard.js"]},
                    }
                ],
                "responses": {**_PAGE_RESPONSE, "404": {"description": "No such file"}},
            }
        },
        "/wallboard/ws": {
            "get": {
                "tags": ["wallboard"],
                "summary": "Websocket: a snapshot of the board after every change (about 4 a second at most)",
                "description": "Upgrade to a websocket, then authenticate with ?token= or a first message "
                '{"type":"auth","token":"..."} (a token from POST /api/login, role team_leader, qa, qc '
                f"or admin). Close codes: {CLOSE_UNAUTHORIZED} missing, invalid or expired token (also "
                f"when the token expires), {CLOSE_FORBIDDEN} a role that may not see the wallboard "
                '(agents), 1001 server shutdown. Messages: {"type": "wallboard", ...} snapshots.',
                "parameters": [
                    {
                        "name": "token",
                        "in": "query",
                        "required": False,
                        "description": "Prefer the auth message: query strings end up in access logs.",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"101": {"description": "Switching to the websocket protocol"}},
            }
        },
    },
}
