"""Agent state on the wire: AMI events -> :class:`~cti.agentstate.AgentStates` -> ``agent.state``.

Runs inside the CTI's one event task (:class:`cti.events.CallEvents`), so a state
change and the call event that caused it reach the console in Asterisk's order.
Besides ``agent.state`` it sends ``call.held``/``call.resumed`` (Hold/Unhold on the
agent's channel), ``call.transferred`` (to the transferring agent) and
``wrapup.started``; it ends Asterisk's wrapuptime with a timer, and, when
``[cti] wrapup_pause`` is on, pauses the agent with the wrap-up reason after
each queue call so the agent ends wrap-up from the console.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

from cti import messages
from cti.agentrecord import AgentRecord
from cti.agentstate import SUBSCRIBED as STATE_EVENTS
from cti.agentstate import AgentStates
from cti.channels import SUBSCRIBED as CHANNEL_EVENTS
from cti.channels import ChannelTracker
from cti.directory import Directory
from cti.hub import AgentHub
from cti.protocol import EventLike, interface_of_channel, iso, known, normalize_iface
from cti.store import IntervalWriter
from hotline.logs import get_logger

log = get_logger(__name__)

TRANSFER_EVENTS: Final = {"BlindTransfer": "Transferer", "AttendedTransfer": "OrigTransferer"}
SUBSCRIBED: Final = (*STATE_EVENTS, *TRANSFER_EVENTS, *CHANNEL_EVENTS)
RECENT_CALLS: Final = 20
"""Calls remembered per phone: the console's recent calls, and which calls an agent may file."""


class StateEvents:
    def __init__(
        self,
        hub: AgentHub,
        directory: Directory,
        *,
        wrapup_s: float = 0.0,
        wrapup_reason: str = "wrapup",
        wrapup_pause: bool = False,
        intervals: IntervalWriter | None = None,
        ami: Mapping[str, Any] | None = None,
    ) -> None:
        self.hub = hub
        self.directory = directory
        self.intervals = intervals
        self.states = AgentStates(
            wrapup_s=wrapup_s,
            wrapup_reason=wrapup_reason,
            on_interval=intervals.add if intervals is not None else None,
        )
        self.wrapup_pause = wrapup_pause
        self.channels = ChannelTracker()
        self._ami = ami or {}
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._recent: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, pbx: str, event: EventLike, ts: float) -> None:
        if event.name in CHANNEL_EVENTS:
            self.channels.feed(pbx, event)
            if event.name == "Newchannel" and event.get("Linkedid"):
                self._note_call(pbx, interface_of_channel(event.get("Channel") or ""), event, ts)
            return
        if event.name == "AgentConnect":
            self.channels.remember(
                pbx, event.get("DestChannel"), event.get("DestUniqueid"), event.get("Linkedid")
            )
            self.channels.remember(pbx, event.get("Channel"), event.get("Uniqueid"), event.get("Linkedid"))
            self._note_call(pbx, event.get("Interface") or "", event, ts)
        elif event.name == "AgentComplete":
            self._note_end(pbx, event, ts)
        before = self._before(pbx, event)
        for record in self.states.feed(pbx, event, ts):
            self._publish(record, ts, before.get(record.iface))
        if event.name in ("Hold", "Unhold"):
            held_by = self.states.get(pbx, interface_of_channel(event.get("Channel") or ""))
            if (
                held_by is not None
                and held_by.call is not None
                and held_by.call.held == (event.name == "Hold")
            ):
                self.hub.deliver(pbx, held_by.iface, messages.hold(pbx, held_by, ts, held_by.call.held))
        elif event.name in TRANSFER_EVENTS:
            prefix = TRANSFER_EVENTS[event.name]
            channel = event.get(f"{prefix}Channel")
            if channel:
                iface = interface_of_channel(channel)
                self.hub.deliver(pbx, iface, messages.transferred(pbx, event, ts, prefix))
        elif event.name == "AgentComplete" and self.wrapup_pause:
            self._pause_for_wrapup(pbx, event.get("Interface") or "")

    # -- recent calls --------------------------------------------------------------------------

    def _note_call(self, pbx: str, iface: str, event: EventLike, ts: float) -> None:
        """A call on this phone: a queue call (AgentConnect) or any channel of the phone (dialled)."""
        calls = self._recent.setdefault((pbx, normalize_iface(iface)), deque(maxlen=RECENT_CALLS))
        call_id = event.get("Linkedid") or ""
        for call in calls:
            if call["call_id"] == call_id:
                if event.name == "AgentConnect":
                    call.update(_queue_call(event))
                return
        queue_call = event.name == "AgentConnect"
        calls.appendleft(
            {
                "call_id": call_id,
                "at": iso(ts),
                **(
                    _queue_call(event)
                    if queue_call
                    else {"queue": None, "caller": {"number": known(event.get("ConnectedLineNum"))}}
                ),
                "talk_s": None,
            }
        )

    def _note_end(self, pbx: str, event: EventLike, ts: float) -> None:
        for call in self._recent.get((pbx, normalize_iface(event.get("Interface") or "")), ()):
            if call["call_id"] == event.get("Linkedid"):
                call["talk_s"] = _int(event.get("TalkTime"))

    def recent_calls(self, pbx: str, iface: str) -> list[dict[str, Any]]:
        return [dict(c) for c in self._recent.get((pbx, normalize_iface(iface)), ())]

    def took_call(self, pbx: str, iface: str, call_id: str) -> bool:
        """Was ``call_id`` on this phone lately (it may be filed)?"""
        return any(c["call_id"] == call_id for c in self._recent.get((pbx, normalize_iface(iface)), ()))

    def _before(self, pbx: str, event: EventLike) -> dict[str, tuple[str, str | None]]:
        """States (and call ids) before the event, for the records it may change."""
        iface = event.get("Interface") or event.get("Location") or event.get("Device")
        record = self.states.get(pbx, iface) if iface else None
        if record is None:
            return {}
        return {record.iface: (record.state, record.call.call_id if record.call else None)}

    def _publish(self, record: AgentRecord, ts: float, before: tuple[str, str | None] | None) -> None:
        owner = self.directory.owner(record.pbx, record.iface)
        message = messages.agent_state(
            record, ts, agent=owner.username if owner else None, team=owner.team if owner else None
        )
        self.hub.deliver(record.pbx, record.iface, message)
        if record.state == "wrapup" and before is not None and before[0] == "on_call":
            self.hub.deliver(
                record.pbx, record.iface, messages.wrapup_started(record.pbx, record, ts, before[1])
            )
        self._schedule_expiry(record, ts)

    def publish_all(self, ts: float) -> None:
        """Send every known agent's state again (after the team directory changed, at start)."""
        for record in list(self.states.records()):
            self._publish(record, ts, None)

    # -- Asterisk's wrapuptime ------------------------------------------------------------------

    def _schedule_expiry(self, record: AgentRecord, ts: float) -> None:
        key = record.key
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if record.wrapup_until is None:
            return
        deadline = record.wrapup_until
        delay = max(deadline - ts, 0.0)
        self._timers[key] = asyncio.get_running_loop().call_later(delay, self._expire, key, deadline)

    def _expire(self, key: tuple[str, str], deadline: float) -> None:
        self._timers.pop(key, None)
        record = self.states.expire(key[0], key[1], deadline)
        if record is not None:
            self._publish(record, deadline, None)

    # -- wrap-up by pause ---------------------------------------------------------------------

    def _pause_for_wrapup(self, pbx: str, iface: str) -> None:
        client = self._ami.get(pbx)
        if client is None or not iface:
            return
        fields = {"Interface": iface, "Paused": "true", "Reason": self.states.wrapup_reason}
        task = asyncio.create_task(self._send(client, "QueuePause", fields), name="cti-wrapup-pause")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _send(client: Any, action: str, fields: Mapping[str, str]) -> None:
        try:
            reply = await client.send_action(action, fields)
        except Exception as exc:  # the link is down: the agent simply stays ready
            log.warning("cti wrap-up pause failed", action=action, error=repr(exc)[:200])
            return
        if not reply.ok:
            log.warning("cti wrap-up pause refused", action=action, reply=reply.message)

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()

    @property
    def agent_of(self) -> Callable[[str, str], str | None]:
        return self.directory.agent_of


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _queue_call(event: EventLike) -> dict[str, Any]:
    return {
        "queue": event.get("Queue"),
        "caller": {"number": known(event.get("CallerIDNum")), "name": known(event.get("CallerIDName"))},
    }
