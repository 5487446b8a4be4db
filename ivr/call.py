"""One call in the IVR: what the caller did (:class:`CallState`) and what the flows can use (:class:`Call`).

The path is a '/'-separated list of ``step=value`` tokens, e.g.
``lang=en/main=pengaduan/identify=yes/customer=******0001/dob=***/verified=yes``: menus and
choices (``main=timeout``, ``main=invalid``, ``pay-option=back``), entries masked
(``contract=************0001``; secrets as ``***``) and results. It goes to the agent with the
call (channel variables, the call context the CTI screen-pop reads) and to ``ivr_call``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from hotline import names
from hotline.feature import AmiActions, CallContextStore
from hotline.logs import get_logger
from ivr.background import Background
from ivr.ports import CallRow, CallSession, CoreSystem, Records, SpeechInput, Ticketing

log = get_logger(__name__)

PATH_MAX: Final = 480
"""Channel variables and screen-pops stay readable; the oldest steps give way to the newest."""
MUTE_TIMEOUT_S: Final = 2.0


class ToAgent(Exception):
    """The caller pressed 0, or gave no valid answer after the last try: route to an agent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class CallState:
    script: str
    lang: str = "id"
    steps: list[str] = field(default_factory=list)
    choice: str = ""
    queue: str = ""
    agent_queue: str = names.QUEUE_AGENT
    """Where 0 (or running out of tries) leads from the caller's current place in the menus."""
    outcome: str = "hangup"
    verified: str = ""
    customer_no: str = ""
    customer_name: str = ""
    outlet_code: str = ""
    outlet_name: str = ""
    ticket_key: str = ""
    payment_ref: str = ""
    started_at: float = field(default_factory=time.time)

    def note(self, step: str, value: str) -> None:
        self.steps.append(f"{step}={value}")

    @property
    def path(self) -> str:
        text = "/".join(self.steps)
        return text if len(text) <= PATH_MAX else "..." + text[-(PATH_MAX - 3) :]

    def context(self) -> dict[str, str]:
        """What the screen-pop shows (empty values left out, except the routing keys)."""
        values = {
            "script": self.script,
            "choice": self.choice,
            "path": self.path,
            "queue": self.queue,
            "lang": self.lang,
            "verified": self.verified,
            "customer_no": self.customer_no,
            "customer_name": self.customer_name,
            "outlet_code": self.outlet_code,
            "outlet_name": self.outlet_name,
            "ticket": self.ticket_key,
            "payment_ref": self.payment_ref,
        }
        return {k: v for k, v in values.items() if v or k in ("choice", "path", "queue")}

    def variables(self) -> list[tuple[str, str]]:
        """Channel variables for the dialplan and the agent, the queue first (it decides the route)."""
        pairs = [
            (names.VAR_QUEUE, self.queue),
            (names.VAR_IVR_CHOICE, self.choice),
            (names.VAR_IVR_PATH, self.path),
            (names.VAR_LANG, self.lang),
            (names.VAR_VERIFIED, self.verified),
            (names.VAR_CUSTOMER_NO, self.customer_no),
            (names.VAR_OUTLET_CODE, self.outlet_code),
            (names.VAR_TICKET, self.ticket_key),
            (names.VAR_PAYMENT_REF, self.payment_ref),
        ]
        return [(k, v) for k, v in pairs if v or k == names.VAR_QUEUE]


@dataclass
class IvrDeps:
    """Everything the flows use besides the caller's session; any external system may be absent."""

    call_context: CallContextStore
    ami: Mapping[str, AmiActions] = field(default_factory=dict)
    records: Records | None = None
    core_system: CoreSystem | None = None
    ticketing: Ticketing | None = None
    background: Background = field(default_factory=Background)
    speech: SpeechInput | None = None


class Call:
    """A flow's handle on one call: the session, its state, and the outside world."""

    def __init__(self, session: CallSession, deps: IvrDeps, state: CallState) -> None:
        self.session = session
        self.deps = deps
        self.state = state
        env = session.env
        self.uniqueid = env.uniqueid
        self.linkedid = env.get("linkedid") or env.uniqueid
        self.caller_number = env.callerid
        self._shared: dict[str, str] | None = None

    @property
    def call_id(self) -> str:
        """Names the call across hotline instances and retried AGI sessions."""
        return f"{self.session.pbx}/{self.uniqueid}"

    async def set_language(self, lang: str) -> None:
        """Asterisk looks prompts up under CHANNEL(language) and says numbers in it."""
        self.state.lang = lang
        await self.session.exec_("Set", f"CHANNEL(language)={lang}")

    def route(self, queue: str, choice: str) -> None:
        self.state.queue, self.state.choice = queue, choice

    async def publish(self) -> None:
        """Channel variables first (they decide the route), then the call context."""
        for name, value in self.state.variables():
            await self.session.set_variable(name, value)
        await self.share()

    async def share(self) -> None:
        """Update the call context the screen-pop reads (memory now, the store in the background).

        Unchanged since the last share: nothing is sent, so the store gets no write for nothing.
        """
        context = self.state.context()
        if context == self._shared:
            return
        await self.deps.call_context.set(self.session.pbx, self.uniqueid, context, self.linkedid)
        self._shared = context

    def row(self) -> CallRow:
        s = self.state
        return CallRow(
            pbx=self.session.pbx,
            uniqueid=self.uniqueid,
            script=s.script,
            linkedid=self.linkedid,
            caller_number=self.caller_number,
            lang=s.lang,
            path=s.path,
            choice=s.choice,
            queue=s.queue,
            outcome=s.outcome,
            verified=s.verified,
            customer_no=s.customer_no,
            outlet_code=s.outlet_code,
            ticket_key=s.ticket_key,
            payment_ref=s.payment_ref,
            started_at=s.started_at,
            ended_at=time.time(),
        )

    async def save(self) -> None:
        """Write ``ivr_call``; a store failure is logged, never the caller's problem."""
        records = self.deps.records
        if records is None:
            return
        try:
            await records.save_call(self.row())
        except Exception as exc:
            log.error("ivr call row not stored", error=str(exc) or type(exc).__name__)

    @contextlib.asynccontextmanager
    async def recording_muted(self) -> AsyncIterator[None]:
        """Mute the call recording while the caller keys in a secret, and unmute after, always."""
        await self._mute(1)
        try:
            yield
        finally:
            await self._mute(0)

    async def _mute(self, state: int) -> None:
        ami = self.deps.ami.get(self.session.pbx)
        if ami is None:
            log.debug("no AMI link for this call's PBX: recording not muted", pbx=self.session.pbx)
            return
        fields: dict[str, str | int | bool] = {
            "Channel": self.session.env.channel,
            "Direction": "both",
            "State": state,
        }
        try:
            result = await ami.send_action("MixMonitorMute", fields, timeout=MUTE_TIMEOUT_S)
        except Exception as exc:  # the AMI link being down must not stop the caller
            log.warning("recording mute not sent", state=state, error=str(exc) or type(exc).__name__)
            return
        if not getattr(result, "ok", False):
            # Usually no recording runs yet (MixMonitor starts at queue entry): nothing to mute.
            log.debug("recording mute refused", state=state, message=getattr(result, "message", ""))
