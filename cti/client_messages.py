"""What a connected client may say, and the answers (docs/cti-protocol.md, Client messages).

Bad input never ends in an exception: each malformed, oversized, unknown,
forbidden or rate-limited message gets an ``error`` or a failed ``result`` and
counts as a strike; ``abuse_limit`` strikes within ``abuse_window`` seconds close
the socket (4400) after the last explanation is sent.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from cti import messages, protocol
from cti.connection import AgentConnection
from cti.hub import AgentHub
from hotline.logs import get_logger

if TYPE_CHECKING:
    from cti.commands import Commands
    from cti.websocket import WsSettings

log = get_logger(__name__)


def catch_up(hub: AgentHub, conn: AgentConnection, last_id: int | None) -> None:
    """Replay what was missed after ``last_id`` (or say it is gone), then the current states."""
    if last_id is not None:
        texts, missing = hub.missed(conn, last_id)
        if missing is not None:
            # The notice first: the client learns what is lost before it sees what could be kept.
            log.info("cti replay gap", agent=conn.agent, last_seen=last_id, first_available=missing)
            conn.offer(json.dumps(messages.replay_gap(last_id, missing)))
        for text in texts:
            conn.offer(text)
    for state in hub.states_for(conn):
        hub.send_snapshot(conn, state)


def _reply(conn: AgentConnection, body: dict[str, Any]) -> None:
    conn.offer(json.dumps(body, ensure_ascii=False))


class ClientSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        conn: AgentConnection,
        hub: AgentHub,
        settings: WsSettings,
        commands: Commands | None,
    ) -> None:
        self.ws, self.conn, self.hub, self.settings, self.commands = ws, conn, hub, settings, commands
        self._strikes: deque[float] = deque()

    async def read_loop(self) -> None:
        conn = self.conn
        async for msg in self.ws:
            if msg.type is WSMsgType.ERROR:
                # aiohttp already closed the socket (e.g. 1009 for a frame above max_frame_bytes).
                log.info("cti websocket error", agent=conn.agent, error=repr(self.ws.exception()))
                return
            if msg.type is not WSMsgType.TEXT:
                failed: dict[str, Any] | None = protocol.error(
                    "bad_message", "only JSON text messages are accepted"
                )
            else:
                try:
                    failed = await self._handle(protocol.parse_client_message(msg.data))
                except protocol.BadClientMessage as exc:
                    failed = protocol.error(exc.code, str(exc))
            if failed is None:
                continue
            _reply(conn, failed)
            if self._strike():
                self.hub.stats.abusive_closed += 1
                log.warning("cti client closed for repeated bad messages", agent=conn.agent)
                conn.close_soon(protocol.CLOSE_ABUSE, "too many bad messages", flush=True)
                return

    def _strike(self) -> bool:
        now = time.monotonic()
        self._strikes.append(now)
        while self._strikes and self._strikes[0] < now - self.settings.abuse_window:
            self._strikes.popleft()
        return len(self._strikes) >= self.settings.abuse_limit

    async def _handle(self, parsed: protocol.ClientMessage) -> dict[str, Any] | None:
        """Answer one message; a message to send back *as a strike* (None when all went well)."""
        conn, body, kind = self.conn, parsed.body, parsed.type
        if kind == "ping":
            _reply(conn, {"v": protocol.WIRE_VERSION, "type": "pong", "ref": body.get("ref")})
            return None
        if kind == "replay":
            last = body.get("last_id")
            if isinstance(last, bool) or not isinstance(last, int) or last < 0:
                raise protocol.BadClientMessage("bad_message", '"last_id" must be a non-negative integer')
            catch_up(self.hub, conn, last)
            return None
        if kind == "subscribe":
            return self._subscribe(parsed)
        known = self.commands is not None and (self.commands.knows(kind) or kind == "calls.recent")
        if not known:
            raise protocol.BadClientMessage("unknown_type", f"unknown message type {kind[:40]!r}")
        if not conn.limiter.allow():
            self.hub.stats.rate_limited += 1
            log.warning("cti command rate limited", agent=conn.agent, command=kind[:40])
            return messages.result(
                body.get("ref"), kind, False, "rate_limited", "too many commands; slow down"
            )
        assert self.commands is not None
        if kind == "calls.recent":
            _reply(conn, self.commands.recent(conn, body.get("ref")))
            return None
        _reply(conn, await self.commands.run(conn, parsed))
        return None

    def _subscribe(self, parsed: protocol.ClientMessage) -> dict[str, Any] | None:
        """Watchers (re)subscribe to what they may see; nobody may ask for more."""
        conn, body = self.conn, parsed.body
        ref = body.get("ref")
        asked_agent, asked_team = body.get("agent"), body.get("team")
        if not conn.watcher:
            if asked_agent in (None, conn.agent) and asked_team is None:
                catch_up(self.hub, conn, None)
                _reply(conn, messages.result(ref, "subscribe", True))
                return None
            log.warning(
                "cti agent asked for another agent's events", agent=conn.agent, asked=str(asked_agent)[:40]
            )
            return messages.result(ref, "subscribe", False, "forbidden", "an agent sees only its own events")
        if asked_team is not None and conn.role == "team_leader":
            team = conn.principal.team
            if not isinstance(asked_team, str) or team is None or asked_team.casefold() != team.casefold():
                log.warning(
                    "cti team leader asked for another team", agent=conn.agent, asked=str(asked_team)[:40]
                )
                return messages.result(
                    ref, "subscribe", False, "forbidden", "a team leader sees only their team"
                )
        catch_up(self.hub, conn, None)
        _reply(conn, messages.result(ref, "subscribe", True))
        return None
