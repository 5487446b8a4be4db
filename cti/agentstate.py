"""The state of every agent's phone, derived from what Asterisk says (no IO).

One :class:`AgentRecord` per (pbx, interface). It is fed the AMI events that
concern queue members and phones, and the agent's state is *derived* from them
every time, never set by a command: a pause from the phone's feature code, from
another console or from a supervisor changes the state exactly like a pause from
this console, because all of them end in the same ``QueueMemberPause`` event.

Order of precedence of the derived state (first that holds)::

    on_call   a queue call is connected (AgentConnect .. AgentComplete)
    ringing   a queue call rings the phone (AgentCalled), or the device rings
    wrapup    Asterisk's wrapuptime after a queue call, or paused with the wrap-up reason
    on_call   the device is in use (a call outside the queues: click-to-dial, agent to agent)
    logged_out  member of no queue
    not_ready paused in every queue it is a member of (reason: the pause reason)
    ready     otherwise

Every change closes an :class:`Interval` (state, reason, start, end) for the KPI
reports. Times are the events' ``Timestamp`` (Asterisk's clock) so intervals are
exact even when hotline handles an event late.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from cti.agentcall import CurrentCall
from cti.agentrecord import AgentKey, AgentRecord, Interval
from cti.members import DEVICE_STATUS, Membership, QueueStatusLists, member_from_event
from cti.protocol import EventLike, interface_of_channel, normalize_iface

_RINGING: Final = frozenset({"RINGING", "RINGINUSE"})
_BUSY: Final = frozenset({"INUSE", "BUSY", "ONHOLD", "RINGINUSE"})

STATES: Final = ("logged_out", "ready", "not_ready", "ringing", "on_call", "wrapup")


class AgentStates:
    """Every agent's record; :meth:`feed` returns the records whose state (or detail) changed."""

    def __init__(
        self,
        *,
        wrapup_s: float = 0.0,
        wrapup_reason: str = "wrapup",
        on_interval: Callable[[Interval], None] | None = None,
    ) -> None:
        self.wrapup_s = wrapup_s
        self.wrapup_reason = wrapup_reason
        self._on_interval = on_interval
        self._records: dict[AgentKey, AgentRecord] = {}
        self._lists = QueueStatusLists()

    def get(self, pbx: str, iface: str) -> AgentRecord | None:
        return self._records.get((pbx, normalize_iface(iface)))

    def records(self) -> Iterable[AgentRecord]:
        return self._records.values()

    def _record(self, pbx: str, iface: str, ts: float) -> AgentRecord:
        key = (pbx, normalize_iface(iface))
        record = self._records.get(key)
        if record is None:
            record = self._records[key] = AgentRecord(pbx, key[1], since=ts)
        return record

    # -- derivation ----------------------------------------------------------------------------

    def _derive(self, record: AgentRecord, ts: float) -> tuple[str, str | None]:
        if record.call is not None and record.call.connected:
            return "on_call", None
        if record.ringing or record.device in _RINGING:
            return "ringing", None
        members = record.memberships.values()
        paused = [m for m in members if m.paused]
        if record.wrapup_until is not None and ts < record.wrapup_until:
            return "wrapup", None
        if members and any(m.reason == self.wrapup_reason for m in paused):
            return "wrapup", None
        if record.device in _BUSY:
            return "on_call", None
        if not members:
            return "logged_out", None
        if len(paused) == len(members):
            latest = min(paused, key=lambda m: (-m.last_pause, m.queue))
            return "not_ready", latest.reason or None
        return "ready", None

    def _settle(self, record: AgentRecord, ts: float) -> bool:
        """Re-derive the state; close the previous interval when it changed. True on change."""
        state, reason = self._derive(record, ts)
        if (state, reason) == (record.state, record.reason):
            return False
        start = record.since
        end = max(ts, start)
        if end > start and self._on_interval is not None:
            # Zero-length spans (two events of one instant) carry no time worth reporting.
            self._on_interval(
                Interval(record.pbx, record.iface, record.name, record.state, record.reason, start, end)
            )
        record.state, record.reason, record.since = state, reason, end
        return True

    # -- feeding -------------------------------------------------------------------------------

    def expire(self, pbx: str, iface: str, deadline: float) -> AgentRecord | None:
        """Asterisk's wrapuptime is over (a timer calls this): the record if its state changed."""
        record = self.get(pbx, iface)
        if record is None or record.wrapup_until is None or record.wrapup_until > deadline:
            return None
        record.wrapup_until = None
        return record if self._settle(record, deadline) else None

    def feed(self, pbx: str, event: EventLike, ts: float) -> list[AgentRecord]:
        """Apply one event; the records that changed (state or what the console shows)."""
        handler = _HANDLERS.get(event.name)
        if handler is None:
            return []
        touched = handler(self, pbx, event, ts)
        changed: list[AgentRecord] = []
        for record, detail_changed in touched:
            if record.wrapup_until is not None and ts >= record.wrapup_until:
                # A later event proves the wrap-up ended; close it at its real end, not now.
                deadline, record.wrapup_until = record.wrapup_until, None
                self._settle(record, deadline)
            if self._settle(record, ts) or detail_changed:
                changed.append(record)
        return changed

    def _on_member(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        parsed = member_from_event(event)
        if parsed is None:
            return []
        member, iface = parsed
        record = self._record(pbx, iface, ts)
        record.name = member.name or record.name
        device = DEVICE_STATUS.get(member.status, "UNKNOWN") if member.status else record.device
        # Status and InCall repeat the phone's state in every queue: they change what the console
        # shows only through the device, so seven queues make one push, not seven.
        changed = device != record.device
        record.device = device
        if event.name == "QueueMemberRemoved":
            changed = record.memberships.pop(member.queue, None) is not None or changed
        else:
            old = record.memberships.get(member.queue)
            changed = changed or old is None or old.as_json() != member.as_json()
            record.memberships[member.queue] = member
        return [(record, changed)]

    def _on_list_item(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        self._lists.add(pbx, event)
        return []

    def _on_list_complete(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        """A QueueStatus answer is complete: it is the truth for every queue it listed."""
        queues, members = self._lists.complete(pbx, event)
        if not queues:
            return []
        listed: dict[AgentKey, dict[str, Membership]] = {}
        for member, iface in members:
            record = self._record(pbx, iface, ts)
            record.name = member.name or record.name
            listed.setdefault(record.key, {})[member.queue] = member
            if member.status:
                record.device = DEVICE_STATUS.get(member.status, "UNKNOWN")
        touched: list[tuple[AgentRecord, bool]] = []
        for record in [r for r in self._records.values() if r.pbx == pbx]:
            fresh = {q: m for q, m in record.memberships.items() if q not in queues}
            fresh.update(listed.get(record.key, {}))
            changed = fresh != record.memberships
            record.memberships = fresh
            if record.device not in _RINGING and record.ringing:
                record.ringing.clear()  # the ring we remember ended while the link was down
                changed = True
            if record.device not in _BUSY and record.call is not None:
                record.call = None
                changed = True
            touched.append((record, changed))
        return touched

    def _on_device(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        device, state = event.get("Device") or "", event.get("State") or "UNKNOWN"
        record = self._records.get((pbx, normalize_iface(device)))
        if record is None or record.device == state:
            return []
        record.device = state
        return [(record, True)]

    def _on_called(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        iface, uniqueid = event.get("Interface"), event.get("Uniqueid")
        if not iface or not uniqueid:
            return []
        record = self._record(pbx, iface, ts)
        record.name = event.get("MemberName") or record.name
        record.ringing[uniqueid] = CurrentCall.from_event(event, ts)
        return [(record, True)]

    def _on_ring_end(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        iface, uniqueid = event.get("Interface"), event.get("Uniqueid") or ""
        record = self.get(pbx, iface) if iface else None
        if record is None or record.ringing.pop(uniqueid, None) is None:
            return []
        return [(record, True)]

    def _on_abandon(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        uniqueid = event.get("Uniqueid") or ""
        touched = []
        for record in self._records.values():
            if record.pbx == pbx and record.ringing.pop(uniqueid, None) is not None:
                touched.append((record, True))
        return touched

    def _on_connect(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        iface, uniqueid = event.get("Interface"), event.get("Uniqueid") or ""
        touched = self._on_abandon(pbx, event, ts)  # every other phone ringing for it stops
        if not iface:
            return touched
        record = self._record(pbx, iface, ts)
        ringing = record.ringing.pop(uniqueid, None)
        record.call = (ringing or CurrentCall.from_event(event, ts)).answered(event, ts)
        record.wrapup_until = None
        return [*(t for t in touched if t[0] is not record), (record, True)]

    def _on_complete(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        iface = event.get("Interface")
        record = self.get(pbx, iface) if iface else None
        if record is None:
            return []
        record.call = None
        wrapup = _member_wrapup(record) or self.wrapup_s
        record.wrapup_until = ts + wrapup if wrapup > 0 else None
        return [(record, True)]

    def _on_hold(self, pbx: str, event: EventLike, ts: float) -> list[tuple[AgentRecord, bool]]:
        record = self.get(pbx, interface_of_channel(event.get("Channel") or ""))
        if record is None or record.call is None:
            return []
        held = event.name == "Hold"
        if record.call.held == held:
            return []
        record.call = record.call.with_hold(held, ts)
        return [(record, True)]


def _member_wrapup(record: AgentRecord) -> float:
    """A member's own wrapuptime (queues.conf member option) when Asterisk reports one, else 0."""
    return max((m.wrapup_s for m in record.memberships.values()), default=0.0)


_Handler = Callable[[AgentStates, str, EventLike, float], list[tuple[AgentRecord, bool]]]
_HANDLERS: Final[dict[str, _Handler]] = {
    "QueueMemberAdded": AgentStates._on_member,
    "QueueMemberStatus": AgentStates._on_member,
    "QueueMemberPause": AgentStates._on_member,
    "QueueMemberPaused": AgentStates._on_member,
    "QueueMemberPenalty": AgentStates._on_member,
    "QueueMemberRinginuse": AgentStates._on_member,
    "QueueMemberRemoved": AgentStates._on_member,
    "QueueParams": AgentStates._on_list_item,
    "QueueMember": AgentStates._on_list_item,
    "QueueStatusComplete": AgentStates._on_list_complete,
    "DeviceStateChange": AgentStates._on_device,
    "AgentCalled": AgentStates._on_called,
    "AgentRingNoAnswer": AgentStates._on_ring_end,
    "QueueCallerAbandon": AgentStates._on_abandon,
    "AgentConnect": AgentStates._on_connect,
    "AgentComplete": AgentStates._on_complete,
    "Hold": AgentStates._on_hold,
    "Unhold": AgentStates._on_hold,
}
SUBSCRIBED: Final = tuple(_HANDLERS)
