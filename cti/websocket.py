"""``GET /cti/ws``: authenticate, register with the hub, then read what the client says.

The token comes in the query (``?token=``) or, so it stays out of access logs
and browser history, as the first message ``{"type": "auth", "token": ...}``.
Errors in authentication are reported as websocket close codes (the upgrade has
already happened, which is the only way a browser client can see why).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from cti import protocol
from cti.connection import DEFAULT_CLOSE_TIMEOUT, DEFAULT_QUEUE_SIZE, AgentConnection
from cti.hub import AgentHub
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
    """Bad messages tolerated within ``abuse_window`` seconds before the socket is closed (4400)."""
    abuse_window: float = 60.0
    max_frame_bytes: int = 1024 * 1024
    """Frames above this are refused by aiohttp itself (close 1009); above 64 KiB, an error reply."""


async def _close(ws: web.WebSocketResponse, code: int, reason: str) -> web.WebSocketResponse:
    await ws.close(code=code, message=reason.encode("utf-8")[:123])
    return ws


async def _token_from_first_message(ws: web.WebSocketResponse, wait: float) -> str | None:
    try:
        msg = await ws.receive(timeout=wait)
    except TimeoutError:
        return None
    if msg.type is not WSMsgType.TEXT:
        return None
    try:
        parsed = protocol.parse_client_message(msg.data)
    except protocol.BadClientMessage:
        return None
    token = parsed.body.get("token")
    return token if parsed.type == "auth" and isinstance(token, str) else None


def _hello(conn: AgentConnection) -> str:
    return json.dumps(
        {
            "v": protocol.WIRE_VERSION,
            "type": "hello",
            "protocol": protocol.PROTOCOL_VERSION,
            "agent": conn.agent,
            "iface": conn.iface,
            "pbx": conn.pbx,
            "expires": protocol.iso(conn.expires_at),
        }
    )


def _reply(conn: AgentConnection, body: dict[str, object]) -> None:
    conn.offer(json.dumps(body, ensure_ascii=False))


def make_handler(
    hub: AgentHub, signer: TokenSigner, settings: WsSettings
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=settings.heartbeat, max_msg_size=settings.max_frame_bytes)
        if not ws.can_prepare(request).ok:
            return json_error(400, "this endpoint only speaks websocket (Upgrade: websocket)")
        await ws.prepare(request)
        with track_websocket(request.app, ws):
            token = request.query.get("token") or await _token_from_first_message(ws, settings.auth_timeout)
            if not token:
                hub.stats.auth_failures += 1
                return await _close(ws, protocol.CLOSE_UNAUTHORIZED, "unauthorized: no token")
            try:
                claims = signer.verify(token)
            except TokenError as exc:
                hub.stats.auth_failures += 1
                log.info("cti token refused", reason=exc.reason, detail=exc.detail, peer=request.remote)
                return await _close(ws, protocol.CLOSE_UNAUTHORIZED, f"unauthorized: token {exc.reason}")
            if claims.role not in protocol.ALLOWED_ROLES or not claims.iface:
                hub.stats.auth_failures += 1
                log.info("cti token forbidden", agent=claims.sub, role=claims.role)
                return await _close(
                    ws, protocol.CLOSE_FORBIDDEN, "forbidden: an agent token with an iface is required"
                )
            try:
                await _serve(request, ws, hub, claims, settings)
            except Exception:
                # The upgrade is done: the error middleware cannot answer any more, so the socket is
                # closed here with the websocket's own "internal error" code.
                log.exception("cti websocket failed", agent=claims.sub)
                await _close(ws, WSCloseCode.INTERNAL_ERROR, "internal error")
        return ws

    return handler


async def _serve(
    request: web.Request, ws: web.WebSocketResponse, hub: AgentHub, claims: TokenClaims, settings: WsSettings
) -> None:
    conn = AgentConnection(
        ws,
        claims,
        transport=request.transport,
        queue_size=settings.queue_size,
        close_timeout=settings.close_timeout,
        on_drop=hub.dropped,
    )
    conn.start()
    hub.add(conn)
    log.info("cti agent connected", agent=conn.agent, iface=conn.iface, pbx=conn.pbx)
    expiry = asyncio.get_running_loop().call_later(
        max(claims.exp - time.time(), 0.0),
        conn.close_soon,
        protocol.CLOSE_UNAUTHORIZED,
        "unauthorized: token expired",
    )
    try:
        conn.offer(_hello(conn))
        await _read_loop(ws, conn, hub, settings)
    finally:
        expiry.cancel()
        hub.remove(conn)
        await conn.finish()
        log.info(
            "cti agent disconnected",
            agent=conn.agent,
            code=ws.close_code,
            sent=conn.sent,
            dropped=conn.dropped,
        )


async def _read_loop(
    ws: web.WebSocketResponse, conn: AgentConnection, hub: AgentHub, settings: WsSettings
) -> None:
    strikes: deque[float] = deque()
    async for msg in ws:
        if msg.type is WSMsgType.ERROR:
            # aiohttp already closed the socket (e.g. 1009 for a frame above max_frame_bytes).
            log.info("cti websocket error", agent=conn.agent, error=repr(ws.exception()))
            return
        if msg.type is WSMsgType.TEXT:
            try:
                parsed = protocol.parse_client_message(msg.data)
                if parsed.type == "ping":
                    _reply(conn, {"v": protocol.WIRE_VERSION, "type": "pong", "ref": parsed.body.get("ref")})
                    continue
                raise protocol.BadClientMessage("unknown_type", f"unknown message type {parsed.type[:40]!r}")
            except protocol.BadClientMessage as exc:
                error = protocol.error(exc.code, str(exc))
        else:
            error = protocol.error("bad_message", "only JSON text messages are accepted")
        _reply(conn, error)
        now = time.monotonic()
        strikes.append(now)
        while strikes and strikes[0] < now - settings.abuse_window:
            strikes.popleft()
        if len(strikes) >= settings.abuse_limit:
            hub.stats.abusive_closed += 1
            log.warning("cti client closed for repeated bad messages", agent=conn.agent, count=len(strikes))
            conn.close_soon(protocol.CLOSE_ABUSE, "too many bad messages", flush=True)
            return
