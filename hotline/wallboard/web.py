"""``/wallboard``: the page, and ``/wallboard/ws``, the websocket that pushes every change to it.

Wiring (:func:`setup`, called by the composition root): live AMI events reach the
:class:`~hotline.wallboard.board.Board` through the runtime's event dispatcher, rollup differences
through :meth:`hotline.rollup.writer.RollupWriter.add_listener` (after their commit, so the board
shows what the reports will show). At start the board is warmed with the last 24 h of rollups.

Pushing: a change marks the board dirty; one task sends a fresh snapshot to every open page at
most every ``PUSH_EVERY_S`` (changes within that time are coalesced into one message, so a busy
minute costs the pages a few messages a second, not one per event), and at least when the
interval turns. The page never polls.

Access (:mod:`hotline.wallboard.access`): the page and its files are public (they hold no data;
without a token the page shows a login form, ``POST /api/login``); the websocket needs a token
of a floor role (team leader, QA, QC, admin), in ``?token=`` or a first message
``{"type": "auth", "token": ...}``. Close code 4401: no, invalid or expired token (also when the
token expires while the page is open: it logs in again); 4403: a role that may not see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, Final

from aiohttp import WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.dispatch import PbxEvent
from hotline.config import Config
from hotline.feature import EventSource
from hotline.logs import get_logger
from hotline.rollup.contrib import RowKey, Vector
from hotline.rollup.tables import INTERVAL_S
from hotline.rollup.writer import RollupWriter
from hotline.wallboard.access import FRAGMENT, authenticate, close_when_expired
from hotline.wallboard.board import DAY_BUCKETS, LIVE_EVENTS, Board
from hotline.web.app import add_background, add_openapi, track_websocket

log = get_logger("hotline.wallboard")

PUSH_EVERY_S: Final = 0.25
SEND_TIMEOUT_S: Final = 2.0
"""A page that does not take a snapshot within this long is closed (it will reconnect)."""
STATIC: Final = {
    "wallboard.html": "text/html",
    "wallboard.css": "text/css",
    "wallboard.js": "text/javascript",
}
WALLBOARD_KEY: Final = web.AppKey("hotline.wallboard", object)


class Wallboard:
    """The board, its open pages and the push task."""

    def __init__(self, board: Board, *, clock: Callable[[], float] = time.time) -> None:
        self.board = board
        self.clock = clock
        self.pages: set[web.WebSocketResponse] = set()
        self.pushed_total = 0
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._interval = 0

    def on_event(self, item: PbxEvent) -> None:
        if self.board.on_event(item.pbx, item.event, item.received_at):
            self._dirty.set()

    def on_rollup(self, delta: Any) -> None:
        if self.board.on_rollup(delta):
            self._dirty.set()

    def snapshot_text(self) -> str:
        return json.dumps(self.board.snapshot(self.clock()), separators=(",", ":"))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._push_forever(), name="wallboard-push")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _push_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), 1.0)
            interval = int(self.board.clock(self.clock()) // INTERVAL_S)
            if not self._dirty.is_set() and interval == self._interval:
                continue
            if interval != self._interval:
                self._interval = interval
                self.board.prune(self.clock())
            self._dirty.clear()
            if self.pages:
                await self._send(self.snapshot_text())
            await asyncio.sleep(PUSH_EVERY_S)  # changes meanwhile go out together in the next snapshot

    async def _send(self, text: str) -> None:
        pages = list(self.pages)
        results = await asyncio.gather(*(self._send_one(ws, text) for ws in pages), return_exceptions=True)
        self.pushed_total += sum(1 for r in results if r is True)

    async def _send_one(self, ws: web.WebSocketResponse, text: str) -> bool:
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await ws.send_str(text)
            return True
        except (TimeoutError, ConnectionError, RuntimeError):
            self.pages.discard(ws)
            with contextlib.suppress(Exception):
                await ws.close()
            return False


def setup(
    app: web.Application,
    *,
    config: Config,
    dispatcher: EventSource,
    rollups: RollupWriter,
    engine: AsyncEngine,
) -> Wallboard:
    """Serve the wallboard on ``app`` and feed it from ``dispatcher`` and ``rollups``."""
    board = Board(
        {pbx.name: pbx.site for pbx in config.pbx},
        scr_target=config.kpi.scr_target,
        aht_target=config.kpi.aht_target,
        service_level_s=config.kpi.service_level_seconds,
        timezone=config.kpi.timezone,
    )
    wallboard = Wallboard(board)
    for name in LIVE_EVENTS:
        dispatcher.subscribe(name, wallboard.on_event, name=f"wallboard-{name}", maxsize=50_000)

    def on_rollup(delta: Mapping[RowKey, Vector]) -> None:
        wallboard.on_rollup(delta)

    async def start() -> None:
        since = time.time() - (DAY_BUCKETS + 1) * INTERVAL_S
        board.warm(await rollups.read_and_listen(engine, since, on_rollup))
        await wallboard.start()

    async def stop() -> None:
        rollups.remove_listener(on_rollup)
        await wallboard.stop()

    add_background(app, "wallboard", start, stop)
    app[WALLBOARD_KEY] = wallboard

    async def page(request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "wallboard.html")
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = resources.files("hotline.web").joinpath("static", name).read_bytes()
        return web.Response(body=body, content_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    async def socket(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
        await ws.prepare(request)
        with track_websocket(request.app, ws):
            principal = await authenticate(request, ws)
            if principal is None:
                return ws  # closed with 4401 or 4403, and logged
            await ws.send_str(wallboard.snapshot_text())
            wallboard.pages.add(ws)
            expiry = asyncio.create_task(close_when_expired(ws, principal.expires_at))
            try:
                async for message in ws:  # the page only listens; this loop notices it leaving
                    if message.type == WSMsgType.ERROR:
                        break
            finally:
                wallboard.pages.discard(ws)
                expiry.cancel()
        return ws

    app.router.add_get("/wallboard", page, name="wallboard", allow_head=False)
    app.router.add_get("/wallboard/ws", socket, name="wallboard-ws", allow_head=False)
    app.router.add_get("/wallboard/{name}", page, name="wallboard-static", allow_head=False)
    add_openapi(app, FRAGMENT)
    return wallboard
