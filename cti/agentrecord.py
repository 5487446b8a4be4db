"""What is known of one agent's phone (:class:`AgentRecord`) and a closed span of its state."""

from __future__ import annotations

from dataclasses import dataclass, field

from cti.agentcall import CurrentCall
from cti.members import Membership

AgentKey = tuple[str, str]
"""(pbx, interface as Asterisk writes it, technology upper-cased)."""


@dataclass(frozen=True)
class Interval:
    """A closed span of one state of one agent (the row of ``agent_state_interval``)."""

    pbx: str
    iface: str
    name: str | None
    state: str
    reason: str | None
    started_at: float
    ended_at: float

    @property
    def duration_s(self) -> float:
        return max(self.ended_at - self.started_at, 0.0)


@dataclass
class AgentRecord:
    pbx: str
    iface: str
    name: str | None = None
    """The queue MemberName (``Siti Rahma``)."""
    memberships: dict[str, Membership] = field(default_factory=dict)
    device: str = "UNKNOWN"
    ringing: dict[str, CurrentCall] = field(default_factory=dict)
    """Calls ringing this phone, by the caller's uniqueid."""
    call: CurrentCall | None = None
    wrapup_until: float | None = None
    state: str = "logged_out"
    reason: str | None = None
    since: float = 0.0

    @property
    def key(self) -> AgentKey:
        return (self.pbx, self.iface)
