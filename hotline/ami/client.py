"""asyncio AMI client: one per PBX, always trying to be connected.

It logs in (plain or MD5 challenge), hands every event to ``on_event`` in order,
answers :meth:`AmiClient.send_action` by ActionID, pings to find dead links, and
reconnects with capped exponential backoff. After every login it asks Asterisk
what is going on (CoreShowChannels, QueueStatus) and hands that to ``on_resync``,
because events missed while the link was down are gone for good.

All protocol work is in :mod:`hotline.ami.protocol` and :mod:`hotline.ami.actions`, and the
socket is :class:`hotline.ami.link.AmiLink` (it parses every chunk as it arrives and reports a
lost connection only after every byte received before it); this module routes messages and
keeps time.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from hotline.ami.actions import (
    ActionResult,
    ActionTracker,
    AmiActionTimeout,
    AmiAuthFailed,
    AmiError,
    AmiLinkDown,
    ResyncSnapshot,
    md5_login_key,
)
from hotline.ami.dispatch import PbxEvent
from hotline.ami.link import AmiLink
from hotline.ami.protocol import AmiMessage, Banner, Event, Garbage, Response, encode_action
from hotline.config import PbxConfig
from hotline.logs import get_logger

LinkState = Literal["connecting", "connected", "down", "auth_failed", "stopped"]
Fields = Mapping[str, str | int | bool] | Iterable[tuple[str, str | int | bool]]
OnEvent = Callable[[PbxEvent], None]
OnResync = Callable[[ResyncSnapshot], Awaitable[None] | None]

_LOGOFF_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """The link as /health and /metrics show it.

    ``connections``: TCP connections that reached the AMI banner (the ``connection`` of each
    PbxEvent is this count when it arrived); ``reconnects``: connection attempts after the first.
    """

    state: LinkState
    since: float
    last_error: str | None
    connections: int
    events_received: int
    reconnects: int


class AmiClient:
    """Keeps one AMI connection to ``pbx`` alive and hands every event to ``on_event``.

    ``on_event`` is called synchronously by the reader, in order, for every event
    (including list items and OriginateResponse, which also complete actions); it
    must not block (give it :meth:`EventDispatcher.publish`). ``clock`` and ``jitter``
    (a function returning [0, 1)) are there so tests can pin time and backoff.
    """

    def __init__(
        self,
        pbx: PbxConfig,
        *,
        on_event: OnEvent,
        on_resync: OnResync | None = None,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        backoff_base: float = 0.5,
    ) -> None:
        self.pbx = pbx
        self._on_event = on_event
        self._on_resync = on_resync
        self._clock = clock
        self._jitter = jitter
        self._backoff_base = backoff_base
        self._log = get_logger("hotline.ami").bind(pbx=pbx.name)
        self._tracker = ActionTracker()
        self._link: AmiLink | None = None
        self._logged_in = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        # Unique per client, so replies meant for an earlier process or connection never match.
        self._id_prefix = f"hl-{secrets.token_hex(4)}-"
        self._status = LinkStatus("down", clock(), None, 0, 0, 0)
        self._events_received = 0
        self._version = ""

    # -- public API ------------------------------------------------------------------------------

    @property
    def status(self) -> LinkStatus:
        return replace(self._status, events_received=self._events_received)

    @property
    def connected(self) -> bool:
        return self._logged_in

    async def start(self) -> None:
        """Start connecting in the background (and keep reconnecting until :meth:`stop`); returns at once."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"ami-{self.pbx.name}")

    async def stop(self) -> None:
        """Log off if connected, close the link and stop reconnecting."""
        self._stopping = True
        if self._logged_in:
            with contextlib.suppress(AmiError, OSError):
                await self._action("Logoff", (), min(_LOGOFF_TIMEOUT, self.pbx.ami_timeout))
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._set_state("stopped")

    async def send_action(
        self,
        action: str,
        fields: Fields = (),
        timeout: float | None = None,
    ) -> ActionResult:
        """Send ``action`` and wait for its Response (and, for list actions, every list event).

        Raises :class:`AmiLinkDown` when the link is not up or drops meanwhile, and
        :class:`AmiActionTimeout` after ``timeout`` (default ``pbx.ami_timeout``) seconds.
        """
        if not self._logged_in:
            raise AmiLinkDown(f"AMI link to {self.pbx.name} is {self._status.state}")
        return await self._action(action, fields, timeout)

    # -- connection life cycle -------------------------------------------------------------------

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            if self._status.connections or attempt:
                self._status = replace(self._status, reconnects=self._status.reconnects + 1)
            try:
                await self._session()
            except AmiAuthFailed as exc:
                self._set_state("auth_failed", str(exc))
                self._log.error(
                    "AMI login refused",
                    username=self.pbx.ami_username,
                    auth=self.pbx.ami_auth,
                    error=str(exc),
                )
            except (OSError, TimeoutError, AmiError) as exc:
                reason = _describe(exc)
                self._set_state("down", reason)
                self._log.error("AMI link down", host=self.pbx.ami_host, port=self.pbx.ami_port, error=reason)
            if self._stopping:
                break
            if self._status.state == "down" and self._status.last_error == _SESSION_ENDED_AFTER_LOGIN:
                attempt = 0
            delay = self._backoff(attempt)
            attempt += 1
            self._log.info("AMI reconnecting", delay_s=round(delay, 3), attempt=attempt)
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped at ami_reconnect_max, jittered in [half, full] so restarts spread out."""
        ceiling = min(self.pbx.ami_reconnect_max, self._backoff_base * (2.0 ** min(attempt, 30)))
        return ceiling / 2 + ceiling / 2 * self._jitter()

    async def _session(self) -> None:
        """One connection: banner, login, resync, then read until the link ends. Always raises."""
        pbx = self.pbx
        self._set_state("connecting")
        loop = asyncio.get_running_loop()
        # asyncio.timeout, not wait_for: on 3.11 wait_for can cancel a connect that has just
        # succeeded and drop its (then unclosed) socket when stop() races a reconnect.
        async with asyncio.timeout(pbx.ami_timeout):
            _, link = await loop.create_connection(AmiLink, pbx.ami_host, pbx.ami_port)
        tasks: list[asyncio.Task[None]] = []
        try:
            banner = await self._read_banner(link)
            self._version = banner.version
            connection = self._status.connections + 1
            self._status = replace(self._status, connections=connection)
            self._link = link
            reading = asyncio.create_task(self._read_loop(link, connection), name=f"ami-read-{pbx.name}")
            tasks.append(reading)
            await self._login()
            self._logged_in = True
            self._set_state("connected")
            self._log.info("AMI connected", version=banner.version, connection=connection)
            tasks.append(asyncio.create_task(self._keepalive(link)))
            if self._on_resync is not None:
                tasks.append(asyncio.create_task(self._resync(connection)))
            await reading
            raise AmiLinkDown(_SESSION_ENDED_AFTER_LOGIN)
        finally:
            self._logged_in = False
            self._link = None
            self._tracker.fail_all(AmiLinkDown(f"AMI link to {pbx.name} went down"))
            # Close before the first await: stop() may cancel this task while it waits below,
            # and a cancelled finally must not leave the socket open.
            link.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await link.wait_closed()

    async def _read_banner(self, link: AmiLink) -> Banner:
        async with asyncio.timeout(self.pbx.ami_timeout):
            first = await asyncio.shield(link.greeting)
        if first is None:
            raise AmiLinkDown("connection closed before the AMI banner")
        if not isinstance(first, Banner):
            raise AmiError(f"{self.pbx.ami_host}:{self.pbx.ami_port} did not greet as AMI ({first!r:.80})")
        return first

    async def _login(self) -> None:
        pbx = self.pbx
        secret = pbx.ami_secret.reveal()
        fields: dict[str, str]
        if pbx.ami_auth == "md5":
            challenge = await self._action("Challenge", {"AuthType": "MD5"}, None)
            value = challenge.response.get("Challenge")
            if not challenge.ok or not value:
                raise AmiAuthFailed(
                    f"MD5 challenge refused: {challenge.message or challenge.response.status}"
                )
            key = md5_login_key(value, secret)
            fields = {"AuthType": "MD5", "Username": pbx.ami_username, "Key": key, "Events": "on"}
        else:
            fields = {"Username": pbx.ami_username, "Secret": secret, "Events": "on"}
        result = await self._action("Login", fields, None)
        if not result.ok:
            raise AmiAuthFailed(result.message or f"Response: {result.response.status}")

    async def _read_loop(self, link: AmiLink, connection: int) -> None:
        """Route every message in order; return when the peer closes, raise the error the link died of.

        The link hands over every message received before the end, so the events Asterisk sent
        just before a reset are routed before the reset is reported.
        """
        seq = 0
        while (batch := await link.next_batch()) is not None:
            seq = self._route(batch, connection, seq)
        if link.parser.buffered:
            self._log.warning(
                "AMI link closed mid-frame; partial frame discarded",
                bytes=link.parser.buffered,
                cause=_describe(link.error) if link.error is not None else "connection closed",
            )
        if link.error is not None:
            raise link.error

    def _route(self, batch: list[AmiMessage], connection: int, seq: int) -> int:
        """Events to ``on_event`` (and list items to their action), Responses to their action.

        Returns the ``seq`` of the last event; one call per received chunk keeps the look-ups
        out of the per-message loop.
        """
        tracker = self._tracker
        on_event = self._on_event
        clock = self._clock
        name = self.pbx.name
        for message in batch:
            if type(message) is Event:
                seq += 1
                self._events_received += 1
                if len(tracker):
                    action_id = message.get("ActionID")
                    if action_id is not None:
                        tracker.on_event(message, action_id)
                try:
                    on_event(PbxEvent(name, connection, seq, clock(), message))
                except Exception as exc:
                    self._log.error(
                        "on_event failed",
                        event_name=message.name,
                        seq=seq,
                        uniqueid=message.get("Uniqueid"),
                        linkedid=message.get("Linkedid"),
                        error=_describe(exc),
                    )
            elif type(message) is Response:
                if not tracker.on_response(message):
                    self._log.warning("AMI response matches no pending action", action_id=message.action_id)
            elif isinstance(message, Garbage):
                self._log.error(
                    "AMI sent bytes that are not AMI; skipped", reason=message.reason, size=message.size
                )
        return seq

    async def _keepalive(self, link: AmiLink) -> None:
        pbx = self.pbx
        while True:
            await asyncio.sleep(pbx.ami_ping_interval)
            try:
                await self._action("Ping", (), pbx.ami_timeout)
            except AmiActionTimeout:
                self._log.error("AMI Ping unanswered; closing the dead link", timeout_s=pbx.ami_timeout)
                # abort() (not close()) so a peer that stopped reading cannot hold us in a flush.
                link.abort()
                return
            except AmiLinkDown:
                return

    async def _resync(self, connection: int) -> None:
        assert self._on_resync is not None
        try:
            channels, queues = await asyncio.gather(
                self._action("CoreShowChannels"), self._action("QueueStatus")
            )
        except AmiError as exc:
            self._log.error("AMI resync failed", error=_describe(exc))
            return
        if not (channels.ok and queues.ok):
            refused = channels.message if not channels.ok else queues.message
            self._log.error("AMI resync refused (check the AMI user's read permissions)", error=refused)
            return
        snapshot = ResyncSnapshot.from_results(self.pbx.name, connection, channels, queues, self._clock())
        try:
            result = self._on_resync(snapshot)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            self._log.error("on_resync failed", error=_describe(exc))

    # -- actions ---------------------------------------------------------------------------------

    async def _action(
        self,
        action: str,
        fields: Fields = (),
        timeout: float | None = None,
    ) -> ActionResult:
        link = self._link
        if link is None or link.is_closing():
            raise AmiLinkDown(f"AMI link to {self.pbx.name} is down")
        action_id = f"{self._id_prefix}{next(self._ids)}"
        future = self._tracker.expect(action_id, action)
        wait = self.pbx.ami_timeout if timeout is None else timeout
        try:
            link.write(encode_action(action, action_id, fields))
            await link.drain()
            return await asyncio.wait_for(future, wait)
        except TimeoutError:
            raise AmiActionTimeout(f"{action} got no answer within {wait:g} s") from None
        except OSError as exc:
            raise AmiLinkDown(f"AMI link to {self.pbx.name} failed: {_describe(exc)}") from None
        finally:
            self._tracker.forget(action_id)

    def _set_state(self, state: LinkState, error: str | None = None) -> None:
        current = self._status
        if current.state != state or error is not None:
            self._status = replace(
                current, state=state, since=self._clock(), last_error=error if error else current.last_error
            )


_SESSION_ENDED_AFTER_LOGIN = "AMI link closed"


def _describe(exc: BaseException) -> str:
    """One line for a log: the exception's type and message (never a traceback)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
