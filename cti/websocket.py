"""``GET /cti/ws``: authenticate, register with the hub, then read what the client says.

The token comes in the query (``?token=``) or, so it stays out of access logs
and browser history, as the first message ``{"type": "auth", "token": ...,
"last_id": n}``. Errors in authentication are reported as websocket close codes
(the upgrade has already happened, which is the only way a browser client can
see why). After ``hello`` the client gets what it missed since ``last_id`` (or
``replay.gap``), then the current state of every agent it may see.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, web

from cti import protocol
from cti.client_messages import ClientSession, catch_up
from cti.commands import Commands
from cti.connection import DEFAULT_CLOSE_TIMEOUT, DEFAULT_QUEUE_SIZE, AgentConnection
from cti.hub import AgentHub
from cti.ratelimit import DEFAULT_BURST, DEFAULT_RATE, CommandLimiter
from hotline.logs import get_logger
from hotline.tokens import TokenClaims, TokenError, TokenSigner
from hotline.web import json_error, track_websocket

log = get_logger(__name__)


@dataclass(frozen=True)
class WsSettings:
    queue_size: int = DEFAULT_QUEUE_SIZE
    close_timeout: float = DEFAULT_CLOSE_TIMEOUT
    auth_timeout: float = 10.0
    """Seconds a client without ``?token=`` has to send its auth message."""
    heartbeat: float = 30.0
    """Websocket ping interval; a peer that stops answering is closed (dead laptops, lost Wi-Fi)."""
    abuse_limit: int = 5
    """Bad (or rate-limited) messages tolerated within ``abuse_window`` seconds before closing (4400)."""
    abuse_window: float = 60.0
    max_frame_bytes: int = 1024 * 1024
    """Frames above this are refused by aiohttp itself (close 1009); above 64 KiB, an error reply."""
    command_rate: float = DEFAULT_RATE
    command_burst: int = DEFAULT_BURST


async def _close(ws: web.WebSocketResponse, code: int, reason: str) -> web.WebSocketResponse:
    await ws.close(code=code, message=reason.encode("utf-8")[:123])
    return ws


async def _first_message(ws: web.WebSocketResponse, wait: float) -> dict[str, Any] | None:
    try:
        msg = await ws.receive(timeout=wait)
    except TimeoutError:
        return None
    if msg.type is not web.WSMsgType.TEXT:
        return None
    try:
        parsed = protocol.parse_client_message(msg.data)
    except protocol.BadClientMessage:
        return None
    return dict(parsed.body) if parsed.type == "auth" and isinstance(parsed.body.get("token"), str) else None


def _last_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 16:
        return int(value)
    return None


Hello = Callable[[AgentConnection], dict[str, Any]]


def make_handler(
    hub: AgentHub,
    signer: TokenSigner,
    settings: WsSettings,
    commands: Commands | None = None,
    *,
    hello_extra: Hello | None = None,
    on_connect: Callable[[AgentConnection], None] | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=settings.max_frame_bytes)
        if not ws.can_prepare(request).ok:
            return json_error(400, "this endpoint only speaks websocket (Upgrade: websocket)")
        await ws.prepare(request)
        with track_websocket(request.app, ws):
            auth: dict[str, Any] | None = dict(request.query) if request.query.get("token") else None
            if auth is None:
                auth = await _first_message(ws, settings.auth_timeout)
            if not auth or not auth.get("token"):
                hub.stats.auth_failures += 1
                log.info("cti connection without a token", peer=request.remote)
                return await _close(ws, protocol.CLOSE_UNAUTHORIZED, "unauthorized: no token")
            try:
                claims = signer.verify(str(auth["token"]))
            except TokenError as exc:
                hub.stats.auth_failures += 1
                log.info("cti token refused", reason=exc.reason, detail=exc.detail, peer=request.remote)
                return await _close(ws, protocol.CLOSE_UNAUTHORIZED, f"unauthorized: token {exc.reason}")
            if claims.role not in protocol.ALLOWED_ROLES or (claims.role == "agent" and not claims.iface):
                hub.stats.auth_failures += 1
                log.info("cti token forbidden", agent=claims.sub, role=claims.role[:32])
                return await _close(
                    ws, protocol.CLOSE_FORBIDDEN, "forbidden: an agent token with an iface is required"
                )
            try:
                await _serve(
                    request,
                    ws,
                    hub,
                    claims,
                    settings,
                    commands,
                    _last_id(auth.get("last_id")),
                    hello_extra,
                    on_connect,
                )
            except Exception:
                # The upgrade is done: the error middleware cannot answer any more, so the socket is
                # closed here with the websocket's own "internal error" code.
                log.exception("cti websocket failed", agent=claims.sub)
                await _close(ws, WSCloseCode.INTERNAL_ERROR, "internal error")
        return ws

    return handler


def _hello(conn: AgentConnection, extra: dict[str, Any]) -> str:
    return json.dumps(
        {
            "v": protocol.WIRE_VERSION,
            "type": "hello",
            "protocol": protocol.PROTOCOL_VERSION,
            "agent": conn.agent,
            "role": conn.role,
            "iface": conn.iface,
            "pbx": conn.pbx,
            "team": conn.principal.team,
            "expires": protocol.iso(conn.expires_at),
            **extra,
        },
        ensure_ascii=False,
    )


async def _serve(
    request: web.Request,
    ws: web.WebSocketResponse,
    hub: AgentHub,
    claims: TokenClaims,
    settings: WsSettings,
    commands: Commands | None,
    last_id: int | None,
    hello_extra: Hello | None,
    on_connect: Callable[[AgentConnection], None] | None,
) -> None:
    conn = AgentConnection(
        ws,
        claims,
        transport=request.transport,
        queue_size=settings.queue_size,
        close_timeout=settings.close_timeout,
        on_drop=hub.dropped,
        limiter=CommandLimiter(settings.command_rate, settings.command_burst),
    )
    conn.start()
    if on_connect is not None:
        on_connect(conn)
    hub.add(conn)
    log.info("cti connected", agent=conn.agent, role=conn.role, iface=conn.iface, pbx=conn.pbx)
    expiry = asyncio.get_running_loop().call_later(
        max(claims.exp - time.time(), 0.0),
        conn.close_soon,
        protocol.CLOSE_UNAUTHORIZED,
        "unauthorized: token expired",
    )
    try:
        conn.offer(_hello(conn, hello_extra(conn) if hello_extra is not None else {}))
        catch_up(hub, conn, last_id)
        await ClientSession(ws, conn, hub, settings, commands).read_loop()
    finally:
        expiry.cancel()
        hub.remove(conn)
        await conn.finish()
        log.info(
            "cti disconnected", agent=conn.agent, code=ws.close_code, sent=conn.sent, dropped=conn.dropped
        )
