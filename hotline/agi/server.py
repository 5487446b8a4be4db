"""The FastAGI server: accept Asterisk's connections and run one route handler per call.

Each connection runs in its own task, so a slow or stuck session never delays
another. The server owns the HOTLINE_STATUS channel variable's fallback values:

- unknown script: one error line, ``HOTLINE_STATUS=NOROUTE``, close;
- the handler raised: one error line with its traceback, ``HOTLINE_STATUS=FAILED`` if
  the channel is still alive and the stream still in step, close;
- the handler returned: if it did not set HOTLINE_STATUS itself (through
  ``session.set_variable``) and the caller is still there, ``HOTLINE_STATUS=OK``;
- the caller hung up (:class:`AgiHangup` escaped the handler): nothing more is sent.

Every log line of a session carries ``pbx`` and ``uniqueid``, the keys of
``hotline.logs.bind_call``: they are bound in the session's own task (each connection
runs in one), so they need no reset and cost two context variable writes, not a
context manager around the whole call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from structlog.contextvars import bind_contextvars

from hotline.agi.connection import READ_BUFFER_BYTES, AgiConnection
from hotline.agi.errors import AgiCommandError, AgiError, AgiHangup, AgiProtocolError, AgiTimeout
from hotline.agi.events import AgiEnvironment
from hotline.agi.session import AgiSession
from hotline.logs import get_logger
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
# A structlog call costs microseconds even when its level is filtered out. hotline.logs.configure()
# gives the stdlib root logger the same level, and asking the stdlib is cheap (it caches the answer).
_stdlib_log = logging.getLogger("hotline.agi")


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
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        if self._server is not None:
            raise RuntimeError("AgiServer already started")
        loop = self._loop = asyncio.get_running_loop()
        read_buffer = memoryview(bytearray(READ_BUFFER_BYTES))
        self._server = await loop.create_server(
            lambda: AgiConnection(self._on_connected, read_buffer=read_buffer, loop=loop),
            self.host,
            self.port,
            backlog=self.backlog,
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
        assert self._loop is not None  # set by start(), which created the listener
        task = self._loop.create_task(self._serve(connection))
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
        stats = self.stats
        stats.sessions_total += 1
        stats.sessions_active += 1
        try:
            env = await self._read_environment(connection)
            if env is None:
                return
            pbx = self._pbx(env, connection.peer_ip)
            uniqueid = env.uniqueid
            if uniqueid:
                bind_contextvars(pbx=pbx, uniqueid=uniqueid)
            else:
                bind_contextvars(pbx=pbx)
            session = AgiSession(
                env,
                connection,
                pbx=pbx,
                command_timeout=self.command_timeout,
                on_command=stats.count_command,
            )
            try:
                await self._run(session, connection.peer_ip)
            finally:
                if session.hungup:
                    stats.hangups_total += 1
                session.close()
        finally:
            stats.sessions_active -= 1
            connection.close()

    async def _read_environment(self, connection: AgiConnection) -> AgiEnvironment | None:
        """The agi_* block, or None (logged and counted) if the peer failed to send one in time."""
        parser = connection.parser
        connection.set_deadline(self.environment_timeout)
        try:
            while (event := parser.next_event()) is None:
                await connection.wait_data()
        except AgiProtocolError as exc:
            reason = "no complete environment in time" if connection.expired else str(exc)
        else:
            if isinstance(event, AgiEnvironment):
                return event
            # The parser yields nothing else before the environment.
            reason = f"unexpected {type(event).__name__} before the environment"
        finally:
            connection.clear_deadline()
        self.stats.count_error(ERROR_ENVIRONMENT)
        _log.warning("agi_bad_environment", peer=connection.peer_ip, reason=reason)
        return None

    async def _run(self, session: AgiSession, peer_ip: str) -> None:
        script = session.env.script
        handler = self.router.get(script)
        if handler is None:
            self.stats.count_error(ERROR_NO_ROUTE)
            _log.error("agi_no_route", script=script, peer=peer_ip)
            await self._set_status(session, STATUS_NOROUTE)
            return
        if _stdlib_log.isEnabledFor(logging.DEBUG):
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
