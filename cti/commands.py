"""Agent -> server commands: checked against the agent's own phone, then sent to Asterisk.

Every command is answered with one ``result`` (ok, or an error ``code`` and a
reason). Nothing here changes the agent's state directly: Asterisk's events do
(:mod:`cti.state_events`), so the console shows what the PBX really did.

Ownership: a client never names a channel. A call command may name a call id
(linkedid); the server looks for the agent's *own* live channel on it
(:meth:`cti.channels.ChannelTracker.own`) and refuses with ``not_your_call``
when there is none. Transfers move the other party of the agent's own bridge.

Hold/resume: with PJSIP a hold is the phone's re-INVITE, so the server asks the
phone to do it: ``PJSIPNotify`` with ``Event: hold`` / ``Event: talk`` (the
remote-control NOTIFY that desk phones such as Yealink and Polycom accept when
their CTI control is enabled). Asterisk then raises Hold/Unhold, which become
``call.held``/``call.resumed``, exactly as when the agent presses the phone's key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cti import messages
from cti.commands_calls import CallCommands
from cti.connection import AgentConnection
from cti.errors import CommandError
from cti.protocol import ClientMessage
from cti.state_events import StateEvents
from hotline import names
from hotline.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class CommandSettings:
    pause_reasons: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    wrapup_reason: str = "wrapup"
    transfer_context: str = "from-agents"
    queues: tuple[str, ...] = names.ALL_QUEUES
    """Queues an agent may log in to."""


class Commands(CallCommands):
    """Runs client commands for one hotline instance (all sockets share it)."""

    def __init__(
        self,
        state: StateEvents,
        ami: Mapping[str, Any],
        settings: CommandSettings,
        *,
        engine: Any = None,
        audit: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        super().__init__(state, ami, settings, engine=engine, audit=audit)
        self._table: dict[str, Callable[[AgentConnection, str, Mapping[str, Any]], Awaitable[str]]] = {
            "queue.login": self.queue_login,
            "queue.logout": self.queue_logout,
            "state.ready": self.ready,
            "state.not_ready": self.not_ready,
            "wrapup.end": self.end_wrapup,
            "call.hangup": self.hangup,
            "call.hold": self.hold,
            "call.resume": self.resume,
            "call.transfer": self.transfer,
            "call.dial": self.dial,
            "call.disposition": self.disposition,
        }

    def knows(self, command: str) -> bool:
        return command in self._table

    def recent(self, conn: AgentConnection, ref: Any) -> dict[str, Any]:
        """``calls.recent``: the calls lately on the agent's phone (newest first)."""
        try:
            calls = self.state.recent_calls(self.pbx_of(conn), conn.iface or "") if conn.iface else []
        except CommandError:
            calls = []
        body = messages.result(ref, "calls.recent", True)
        body["calls"] = calls
        return body

    async def run(self, conn: AgentConnection, message: ClientMessage) -> dict[str, Any]:
        """Run one command; always a ``result`` message, never an exception."""
        ref = message.body.get("ref")
        try:
            if conn.iface is None:
                raise CommandError("forbidden", "this token has no phone: it can watch, not act")
            pbx = self.pbx_of(conn)
            text = await self._table[message.type](conn, pbx, message.body)
        except CommandError as exc:
            log.info("cti command refused", agent=conn.agent, command=message.type, code=exc.code)
            return messages.result(ref, message.type, False, exc.code, str(exc))
        return messages.result(ref, message.type, True, message=text)

    # -- queues and state ----------------------------------------------------------------------

    def _queues(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any], *, joined: bool) -> list[str]:
        record = self.state.states.get(pbx, conn.iface or "")
        current = sorted(record.memberships) if record is not None else []
        wanted = body.get("queues")
        if wanted is None:
            return current if joined else [q for q in self.settings.queues if q not in current]
        if not isinstance(wanted, list) or not all(isinstance(q, str) for q in wanted) or not wanted:
            raise CommandError("bad_request", '"queues" must be a non-empty list of queue names')
        allowed = set(self.settings.queues) | set(current)
        unknown = [q for q in wanted if q not in allowed]
        if unknown:
            raise CommandError("bad_request", f"unknown queue {unknown[0][:40]!r}")
        return list(dict.fromkeys(wanted))

    async def queue_login(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        iface = conn.iface or ""
        owner = self.state.directory.owner(pbx, iface)
        record = self.state.states.get(pbx, iface)
        member_name = (
            (owner.display_name if owner else None) or (record.name if record else None) or conn.agent
        )
        queues = self._queues(conn, pbx, body, joined=False)
        if not queues:
            raise CommandError("already", "already logged in to every queue")
        for queue in queues:
            fields = {
                "Queue": queue,
                "Interface": iface,
                "MemberName": member_name,
                "StateInterface": iface,
                "Penalty": "0",
                "Paused": "false",
            }
            await self.action(pbx, "QueueAdd", fields, tolerate=("Already there",))
        return f"logged in to {', '.join(queues)}"

    async def queue_logout(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        queues = self._queues(conn, pbx, body, joined=True)
        if not queues:
            raise CommandError("already", "not logged in to any queue")
        for queue in queues:
            await self.action(pbx, "QueueRemove", {"Queue": queue, "Interface": conn.iface or ""})
        return f"logged out of {', '.join(queues)}"

    async def ready(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        await self.action(pbx, "QueuePause", {"Interface": conn.iface or "", "Paused": "false"})
        return "ready"

    async def not_ready(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        reason = body.get("reason")
        if not isinstance(reason, str) or reason not in self.settings.pause_reasons:
            choices = ", ".join(self.settings.pause_reasons)
            raise CommandError("bad_reason", f"reason must be one of: {choices}")
        fields = {"Interface": conn.iface or "", "Paused": "true", "Reason": reason}
        await self.action(pbx, "QueuePause", fields)
        return f"not ready: {reason}"

    async def end_wrapup(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        record = self.state.states.get(pbx, conn.iface or "")
        if record is None or record.state != "wrapup":
            raise CommandError("not_in_wrapup", "the agent is not in wrap-up")
        paused = [
            m for m in record.memberships.values() if m.paused and m.reason == self.settings.wrapup_reason
        ]
        if not paused:
            raise CommandError(
                "wrapup_fixed", "this wrap-up is the queue's wrapuptime; Asterisk ends it by itself"
            )
        await self.action(pbx, "QueuePause", {"Interface": conn.iface or "", "Paused": "false"})
        return "wrap-up ended"
