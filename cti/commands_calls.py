"""Call commands (hang up, hold, transfer, dial, disposition) and the AMI plumbing they share.

See :mod:`cti.commands` for the rules; this half acts on channels, always the
agent's own (found by :class:`cti.channels.ChannelTracker`, never named by the client).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from cti.channels import LiveChannel
from cti.connection import AgentConnection
from cti.errors import CommandError
from cti.state_events import StateEvents
from cti.store import Disposition, save_disposition
from cti.tables import MAX_NOTES
from hotline import names
from hotline.logs import get_logger, mask_number

if TYPE_CHECKING:
    from cti.commands import CommandSettings

log = get_logger(__name__)

NUMBER: Final = re.compile(r"\+?[0-9*#]{1,24}")
ACTION_TIMEOUT: Final = 5.0


class CallCommands:
    def __init__(
        self,
        state: StateEvents,
        ami: Mapping[str, Any],
        settings: CommandSettings,
        *,
        engine: Any = None,
        audit: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        self.state = state
        self.ami = ami
        self.settings = settings
        self.engine = engine
        self._audit = audit
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- shared plumbing -----------------------------------------------------------------------

    def pbx_of(self, conn: AgentConnection) -> str:
        """The PBX the agent's phone is on: the token's, else where the phone is a queue member."""
        if conn.pbx is not None:
            return conn.pbx
        known = sorted({r.pbx for r in self.state.states.records() if r.iface == conn.iface})
        if len(known) == 1:
            return known[0]
        if len(self.ami) == 1:
            return next(iter(self.ami))
        raise CommandError(
            "pbx_unknown", "the token names no PBX and the phone is known on none (or several)"
        )

    async def action(
        self, pbx: str, action: str, fields: Mapping[str, str], *, tolerate: tuple[str, ...] = ()
    ) -> str:
        """Send one AMI action; its message on success (or a tolerated error), CommandError otherwise."""
        client = self.ami.get(pbx)
        if client is None:
            raise CommandError("pbx_unreachable", f"this hotline has no AMI link to PBX {pbx!r}")
        try:
            reply = await client.send_action(action, fields, ACTION_TIMEOUT)
        except Exception as exc:  # link down or no answer in time: the agent must hear about it
            log.warning("cti action failed", pbx=pbx, action=action, error=repr(exc)[:200])
            raise CommandError(
                "pbx_unreachable", f"{action} not done: the PBX link is down or slow"
            ) from None
        message = str(reply.message or "")
        if not reply.ok and not any(t in message for t in tolerate):
            raise CommandError("refused", f"Asterisk refused {action}: {message[:200]}")
        return message

    def _audit_later(
        self, conn: AgentConnection, action: str, target: str, ok: bool, detail: str = ""
    ) -> None:
        if self._audit is None or self.engine is None:
            return
        task = asyncio.create_task(self._write_audit(conn, action, target, ok, detail), name="cti-audit")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_audit(
        self, conn: AgentConnection, action: str, target: str, ok: bool, detail: str
    ) -> None:
        assert self._audit is not None
        try:
            await self._audit(self.engine, conn.principal, action, target, source="cti", ok=ok, detail=detail)
        except Exception as exc:  # the command is done; a lost audit row is logged, not hidden
            log.error("cti audit write failed", action=action, error=repr(exc)[:200])

    def own_channel(
        self, conn: AgentConnection, pbx: str, body: Mapping[str, Any], command: str
    ) -> LiveChannel:
        """The agent's own channel on the call the client names (or its only call)."""
        call_id = body.get("call_id")
        if call_id is not None and (not isinstance(call_id, str) or len(call_id) > 64):
            raise CommandError("bad_request", '"call_id" must be a call id string')
        channel = self.state.channels.own(pbx, conn.iface or "", call_id)
        if channel is None:
            if call_id is not None:
                log.warning(
                    "cti command on a call that is not the agent's", agent=conn.agent, command=command
                )
                self._audit_later(conn, command, call_id, False, "not the agent's call")
                raise CommandError("not_your_call", "this call is not on your phone")
            raise CommandError("no_call", "no call on your phone (or several: name the call_id)")
        return channel

    def _peer(self, pbx: str, own: LiveChannel, conn: AgentConnection) -> str:
        peer = self.state.channels.peer(pbx, own)
        if peer is not None:
            return peer.name
        record = self.state.states.get(pbx, conn.iface or "")
        call = record.call if record is not None else None
        if call is not None and call.caller_channel and call.call_id == own.linkedid:
            return call.caller_channel
        raise CommandError("no_call", "the call has no other party to transfer")

    # -- call commands -------------------------------------------------------------------------

    async def hangup(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        own = self.own_channel(conn, pbx, body, "call.hangup")
        await self.action(pbx, "Hangup", {"Channel": own.name, "Cause": "16"})
        self._audit_later(conn, "call.hangup", own.linkedid, True)
        return "hung up"

    async def _notify(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any], event: str) -> None:
        own = self.own_channel(conn, pbx, body, "call.hold")
        tech, _, endpoint = (conn.iface or "").partition("/")
        if tech.upper() != "PJSIP" or not endpoint:
            raise CommandError("unsupported", "hold from the console needs a PJSIP phone")
        record = self.state.states.get(pbx, conn.iface or "")
        held = bool(record and record.call and record.call.held)
        if held == (event == "hold"):
            raise CommandError("already", "the call is already " + ("on hold" if held else "off hold"))
        fields = {"Endpoint": endpoint, "Variable": f"Event={event}"}
        await self.action(pbx, "PJSIPNotify", fields)
        self._audit_later(conn, f"call.{event}", own.linkedid, True)

    async def hold(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        await self._notify(conn, pbx, body, "hold")
        return "hold asked of the phone"

    async def resume(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        await self._notify(conn, pbx, body, "talk")
        return "resume asked of the phone"

    def _target(self, body: Mapping[str, Any]) -> str:
        queue, number = body.get("queue"), body.get("to")
        if isinstance(queue, str) and queue:
            exten = names.QUEUE_TRANSFER_EXTENSIONS.get(queue)
            if exten is None:
                raise CommandError("bad_request", f"no transfer extension for queue {queue[:40]!r}")
            return exten
        if not isinstance(number, str) or not NUMBER.fullmatch(number):
            raise CommandError(
                "bad_request", '"to" must be a number or extension (digits, * #), or give "queue"'
            )
        return number

    async def transfer(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        kind = body.get("kind", "blind")
        if kind not in ("blind", "attended"):
            raise CommandError("bad_request", '"kind" must be "blind" or "attended"')
        own = self.own_channel(conn, pbx, body, "call.transfer")
        exten, context = self._target(body), self.settings.transfer_context
        if kind == "blind":
            fields = {
                "Channel": self._peer(pbx, own, conn),
                "Context": context,
                "Exten": exten,
                "Priority": "1",
            }
            await self.action(pbx, "Redirect", fields)
        else:
            await self.action(pbx, "Atxfer", {"Channel": own.name, "Context": context, "Exten": exten})
        self._audit_later(conn, f"call.transfer.{kind}", own.linkedid, True, f"to {mask_number(exten)}")
        return f"{kind} transfer to {exten}"

    async def dial(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        number = body.get("number")
        if not isinstance(number, str) or not NUMBER.fullmatch(number):
            raise CommandError("bad_request", '"number" must be digits (with * # or a leading +)')
        if self.state.channels.of_iface(pbx, conn.iface or ""):
            raise CommandError("busy", "finish the current call first")
        record = self.state.states.get(pbx, conn.iface or "")
        name = (record.name if record else None) or conn.agent
        fields = {
            # The agent's phone rings first; when it answers, Asterisk dials the number from the dialplan.
            "Channel": conn.iface or "",
            "Context": self.settings.transfer_context,
            "Exten": number,
            "Priority": "1",
            "CallerID": f'"{name}" <{number}>',
            "Timeout": "30000",
            "Async": "true",
        }
        await self.action(pbx, "Originate", fields)
        self._audit_later(conn, "call.dial", mask_number(number), True)
        return f"dialling {mask_number(number)}: answer your phone"

    async def disposition(self, conn: AgentConnection, pbx: str, body: Mapping[str, Any]) -> str:
        call_id, category, notes = body.get("call_id"), body.get("category"), body.get("notes", "")
        if not isinstance(call_id, str) or not call_id or len(call_id) > 64:
            raise CommandError("bad_request", '"call_id" is required')
        if not isinstance(category, str) or category not in self.settings.dispositions:
            raise CommandError(
                "bad_category", f"category must be one of: {', '.join(self.settings.dispositions)}"
            )
        if not isinstance(notes, str) or len(notes) > MAX_NOTES:
            raise CommandError("bad_request", f'"notes" must be text of at most {MAX_NOTES} characters')
        if not self.state.took_call(pbx, conn.iface or "", call_id):
            self._audit_later(conn, "call.disposition", call_id, False, "not the agent's call")
            raise CommandError("not_your_call", "you did not take this call")
        if self.engine is None:
            raise CommandError("unavailable", "no store to keep dispositions in")
        item = Disposition(pbx, call_id, conn.agent, conn.iface or "", category, notes, time.time())
        try:
            await save_disposition(self.engine, item)
        except Exception as exc:  # the database is down: the agent must know it was not kept
            log.error("cti disposition not stored", error=repr(exc)[:200])
            raise CommandError("store_failed", "the disposition could not be stored; try again") from None
        return "disposition stored"
