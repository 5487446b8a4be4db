"""The queue call an agent's phone is ringing for or connected to (no IO)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cti.protocol import EventLike, iso, known


@dataclass(frozen=True)
class CurrentCall:
    call_id: str | None
    """Linkedid: the same on every leg and across transfers."""
    uniqueid: str
    """The caller's channel Uniqueid."""
    queue: str | None
    caller_number: str | None
    caller_name: str | None
    since: float
    caller_channel: str | None = None
    agent_channel: str | None = None
    connected: bool = False
    held: bool = False
    held_since: float | None = None

    @classmethod
    def from_event(cls, event: EventLike, ts: float) -> CurrentCall:
        """From AgentCalled/AgentConnect: the caller is the event's channel, the agent its Dest channel."""
        return cls(
            call_id=event.get("Linkedid"),
            uniqueid=event.get("Uniqueid") or "",
            queue=event.get("Queue"),
            caller_number=known(event.get("CallerIDNum")),
            caller_name=known(event.get("CallerIDName")),
            since=ts,
            caller_channel=event.get("Channel"),
            agent_channel=event.get("DestChannel"),
        )

    def answered(self, event: EventLike, ts: float) -> CurrentCall:
        return dataclasses.replace(
            self,
            connected=True,
            since=ts,
            caller_channel=event.get("Channel") or self.caller_channel,
            agent_channel=event.get("DestChannel") or self.agent_channel,
        )

    def with_hold(self, held: bool, ts: float) -> CurrentCall:
        return dataclasses.replace(self, held=held, held_since=ts if held else None)

    def as_json(self) -> dict[str, Any]:
        """What a console shows about the call (channel names stay on the server)."""
        return {
            "call_id": self.call_id,
            "uniqueid": self.uniqueid,
            "queue": self.queue,
            "caller": {"number": self.caller_number, "name": self.caller_name},
            "state": "talking" if self.connected else "ringing",
            "since": iso(self.since),
            "held": self.held,
        }
