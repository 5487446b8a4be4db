"""The FastAGI server: accept Asterisk's connections and run one route handler per call.

Each connection runs in its own task, so a slow or stuck session never delays
another. The server owns the HOTLINE_STATUS channel variable's fallback values:

- unknown script: one error line, ``HOTLINE_STATUS=NOROUTE``, close;
- the handler raised: one error line with its traceback, ``HOTLINE_STATUS=FAILED`` if
  the channel is still alive and the stream still in step, close;
- the handler returned: if it did not set HOTLINE_STATUS itself (through
  ``session.set_variable``) and the caller is still there, ``HOTLINE_STATUS=OK``;
- the caller hung up (:class:`AgiHangup` escaped the handler): nothing more is sent.

Every log line of a session carries ``pbx`` and ``uniqueid`` (``hotline.logs.bind_call``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from hotline.agi.connection import AgiConnection
from hotline.agi.errors import AgiCommandError, AgiError, AgiHangup, AgiProtocolError, AgiTimeout
from hotline.agi.events import AgiEnvironment
from hotline.agi.session import AgiSession
from hotline.logs import bind_call, get_logger
from hotline.names import STATUS_FAILED, STATUS_NOROUTE, STATUS_OK, VAR_STATUS

AgiHandler = Callable[[AgiSession], Awaitable[None]]

ERROR_ENVIRONMENT: Final = "environment"
"""The peer closed, stalled or sent garbage before the end of the agi_* block."""
ERROR_NO_ROUTE: Final = "noroute"
ERROR_HANDLER: Final = "handler"
ERROR_COMMAND: Final = "command"
ERROR_TIMEOUT: Final = "timeout"
ERROR_PROTOCOL: Final = "protocol"

_log = get_logger("hotline.agi")


class AgiRouter:
    """Maps a script (``agi://host/<script>``, query excluded) to its handler; exact match."""

    def __init__(self) -> None:
        self._routes: dict[str, AgiHandler] = {}

    def add(self, script: str, handler: AgiHandler) -> None:
        if not script or "?" in script:
            raise ValueError(f"an AGI route is a script path without query, got {script!r}")
        if script in self._routes:
            raise ValueError(f"AGI route {script!r} is already registered")
        self._routes[script] = handler

    def get(self, script: str) -> AgiHandler | None:
        return self._routes.get(script)

    @property
    def scripts(self) -> frozenset[str]:
        return frozenset(self._routes)


@dataclass
class AgiServerStats:
    """Counters for /metrics. ``errors_total`` is keyed by the ``ERROR_*`` kinds."""

    sessions_total: int = 0
    sessions_active: int = 0
    commands_total: int = 0
    hangups_total: int = 0
    errors_total: dict[str, int] = field(default_factory=dict)

    def count_error(self, kind: str) -> None:
        self.errors_total[kind] = self.errors_total.get(kind, 0) + 1

    def count_command(self) -> None:
        self.commands_total += 1


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, AgiTimeout):
        return ERROR_TIMEOUT
    if isinstance(exc, AgiProtocolError):
        return ERROR_PROTOCOL
    if isinstance(exc, AgiCommandError):
        return ERROR_COMMAND
    return ERROR_HANDLER


async def _read_environment(connection: AgiConnection) -> AgiEnvironment:
    while True:
        event = connection.parser.next_event()
        if isinstance(event, AgiEnvironment):
            return event
        if event is not None:  # the parser yields nothing else before the environment
            raise AgiProtocolError(f"unexpected {type(event).__name__} before the environment")
        await connection.wait_data()


class AgiServer:
    """FastAGI listener. ``await start()`` returns the bound port (``port=0``: any free one)."""

    def __init__(
        self,
        router: AgiRouter,
        host: str = "127.0.0.1",
        port: int = 4573,
        command_timeout: float = 30.0,
        pbx_for_peer: Callable[[str], str] | None = None,
        *,
        environment_timeout: float = 10.0,
        backlog: int = 1024,
    ) -> None:
        self.router = router
        self.host = host
        self.port = port
        self.command_timeout = command_timeout
        self.environment_timeout = environment_timeout
        self.backlog = backlog
        self.stats = AgiServerStats()
        self._pbx_for_peer = pbx_for_peer
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        if self._server is not None:
            raise RuntimeError("AgiServer already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: AgiConnection(self._on_connected), self.host, self.port, backlog=self.backlog
        )
        self.port = self._server.sockets[0].getsockname()[1]
        _log.info("agi_server_listening", host=self.host, port=self.port, routes=sorted(self.router.scripts))
        return self.port

    async def stop(self, grace: float = 5.0) -> None:
        """Stop listening, give running sessions ``grace`` seconds, then cancel the rest."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await server.wait_closed()

    def _on_connected(self, connection: AgiConnection) -> None:
        # One task per connection: a slow or stuck session never delays another.
        task = asyncio.get_running_loop().create_task(self._serve(connection))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _pbx(self, env: AgiEnvironment, peer_ip: str) -> str:
        pbx = env.query.get("pbx")
        if not pbx and self._pbx_for_peer is not None:
            try:
                pbx = self._pbx_for_peer(peer_ip)
            except Exception:
                _log.exception("agi_pbx_lookup_failed", peer=peer_ip)
        return pbx or "unknown"

    async def _serve(self, connection: AgiConnection) -> None:
        self.stats.sessions_total += 1
        self.stats.sessions_active += 1
        try:
            try:
                async with asyncio.timeout(self.environment_timeout):
                    env = await _read_environment(connection)
            except (AgiProtocolError, TimeoutError) as exc:
                self.stats.count_error(ERROR_ENVIRONMENT)
                reason = str(exc) or "no complete environment in time"
                _log.warning("agi_bad_environment", peer=connection.peer_ip, reason=reason)
                return
            pbx = self._pbx(env, connection.peer_ip)
            session = AgiSession(
                env,
                connection,
                pbx=pbx,
                command_timeout=self.command_timeout,
                on_command=self.stats.count_command,
            )
            with bind_call(pbx, env.uniqueid or None):
                try:
                    await self._run(session, connection.peer_ip)
                finally:
                    if session.hungup:
                        self.stats.hangups_total += 1
                    session.close()
        finally:
            self.stats.sessions_active -= 1
            connection.close()

    async def _run(self, session: AgiSession, peer_ip: str) -> None:
        script = session.env.script
        handler = self.router.get(script)
        if handler is None:
            self.stats.count_error(ERROR_NO_ROUTE)
            _log.error("agi_no_route", script=script, peer=peer_ip)
            await self._set_status(session, STATUS_NOROUTE)
            return
        _log.debug("agi_session_start", script=script, channel=session.env.channel)
        try:
            await handler(session)
        except AgiHangup as exc:
            _log.info("agi_caller_hangup", script=script, reason=exc.reason)
            return
        except Exception as exc:
            kind = _error_kind(exc)
            self.stats.count_error(kind)
            _log.exception("agi_handler_failed", script=script, error_kind=kind)
            if not session.hungup and session.usable:
                await self._set_status(session, STATUS_FAILED)
            return
        if not session.status_set and not session.hungup and session.usable:
            await self._set_status(session, STATUS_OK)

    async def _set_status(self, session: AgiSession, status: str) -> None:
        try:
            await session.set_variable(VAR_STATUS, status)
        except AgiHangup:
            pass  # the caller left meanwhile: nobody will read the status
        except AgiError as exc:
            _log.warning("agi_status_not_set", status=status, reason=str(exc))
