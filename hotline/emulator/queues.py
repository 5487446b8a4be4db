"""app_queue state: queues, members, rrmemory choice, member events and statistics.

Member ``Status`` is the device state of the member's interface (1 not in use,
2 in use, 4 invalid, 6 ringing, 8 on hold), exactly the numbers AMI shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline.emulator.bus import EventBus, Headers
from hotline.emulator.channels import DeviceStates
from hotline.emulator.settings import QueueSpec

if TYPE_CHECKING:
    from hotline.emulator.channels import Channel

DEVICE_STATUS = {
    "UNKNOWN": 0,
    "NOT_INUSE": 1,
    "INUSE": 2,
    "BUSY": 3,
    "INVALID": 4,
    "UNAVAILABLE": 5,
    "RINGING": 6,
    "RINGINUSE": 7,
    "ONHOLD": 8,
}


@dataclass
class Member:
    name: str
    interface: str
    login_time: int
    dynamic: bool = False
    penalty: int = 0
    calls_taken: int = 0
    last_call: int = 0
    last_call_end: float = 0.0
    last_pause: int = 0
    in_call: bool = False
    paused: bool = False
    paused_reason: str = ""


@dataclass
class Caller:
    channel: Channel
    entered_at: float
    original_position: int


@dataclass
class Queue:
    spec: QueueSpec
    members: list[Member] = field(default_factory=list)
    callers: list[Caller] = field(default_factory=list)
    rr_next: int = 0
    completed: int = 0
    abandoned: int = 0
    holdtime: float = 0.0
    talktime: float = 0.0

    @property
    def name(self) -> str:
        return self.spec.name

    def member(self, interface: str) -> Member | None:
        return next((m for m in self.members if m.interface == interface), None)

    def record_completed(self, holdtime: int, talktime: int) -> None:
        # app_queue smooths its averages this way; KPIs must never be read from them.
        self.completed += 1
        self.holdtime = (self.holdtime * 3 + holdtime) / 4
        self.talktime = (self.talktime * 3 + talktime) / 4


class QueueSet:
    """All queues of the PBX, with the member-event publishing that app_queue does."""

    def __init__(
        self,
        specs: tuple[QueueSpec, ...],
        status_order: tuple[str, ...],
        agents: dict[str, str],
        bus: EventBus,
        devices: DeviceStates,
        login_time: int,
    ) -> None:
        self._bus = bus
        self._devices = devices
        self._agent_interfaces = {f"PJSIP/{ext}" for ext in agents}
        self.queues: dict[str, Queue] = {}
        for spec in specs:
            queue = Queue(spec)
            for ext in spec.members:
                queue.members.append(
                    Member(name=agents[ext], interface=f"PJSIP/{ext}", login_time=login_time)
                )
            self.queues[spec.name] = queue
        self.order = [q for q in status_order if q in self.queues] + [
            q for q in self.queues if q not in status_order
        ]
        self.reserved: set[str] = set()
        """Interfaces being rung right now (ringinuse=no: nobody else may ring them)."""

    def get(self, name: str) -> Queue | None:
        return self.queues.get(name)

    def in_order(self) -> list[Queue]:
        return [self.queues[name] for name in self.order]

    def status(self, member: Member) -> int:
        # An interface with no endpoint behind it (a dynamic member added by hand) is INVALID, as in Asterisk.
        default = "NOT_INUSE" if member.interface in self._agent_interfaces else "INVALID"
        return DEVICE_STATUS.get(self._devices.get(member.interface, default), 0)

    def member_body(self, queue: Queue, member: Member, *, list_item: bool = False) -> Headers:
        name_keys = ("Name", "Location") if list_item else ("MemberName", "Interface")
        body: Headers = [
            ("Queue", queue.name),
            (name_keys[0], member.name),
            (name_keys[1], member.interface),
            ("StateInterface", member.interface),
            ("Membership", "dynamic" if member.dynamic else "static"),
            ("Penalty", str(member.penalty)),
            ("CallsTaken", str(member.calls_taken)),
            ("LastCall", str(member.last_call)),
            ("LastPause", str(member.last_pause)),
            ("LoginTime", str(member.login_time)),
            ("InCall", "1" if member.in_call else "0"),
            ("Status", str(self.status(member))),
            ("Paused", "1" if member.paused else "0"),
            ("PausedReason", member.paused_reason),
        ]
        if not list_item:
            body.append(("Ringinuse", "0"))
        body.append(("Wrapuptime", "0"))
        return body

    def publish_member(self, event: str, queue: Queue, member: Member, instant: float) -> None:
        self._bus.publish(event, self.member_body(queue, member), instant)

    def device_changed(self, interface: str, instant: float) -> None:
        """QueueMemberStatus in every queue the interface belongs to (app_queue's device state callback)."""
        for queue in self.in_order():
            member = queue.member(interface)
            if member is not None:
                self.publish_member("QueueMemberStatus", queue, member, instant)

    def is_free(self, queue: Queue, member: Member, instant: float) -> bool:
        return (
            not member.paused
            and member.interface not in self.reserved
            and self._devices.get(member.interface) == "NOT_INUSE"
            and member.last_call_end + queue.spec.wrapup_s <= instant
        )

    def free_count(self, queue: Queue, instant: float) -> int:
        return sum(1 for m in queue.members if self.is_free(queue, m, instant))

    def pick_rrmemory(self, queue: Queue, instant: float) -> Member | None:
        """The next free member after the last one rung (strategy rrmemory), or None."""
        count = len(queue.members)
        for step in range(count):
            index = (queue.rr_next + step) % count
            member = queue.members[index]
            if self.is_free(queue, member, instant):
                queue.rr_next = (index + 1) % count
                return member
        return None

    def join(self, queue: Queue, channel: Channel, instant: float) -> Caller:
        caller = Caller(channel, instant, len(queue.callers) + 1)
        queue.callers.append(caller)
        return caller

    def position(self, queue: Queue, caller: Caller) -> int:
        return queue.callers.index(caller) + 1

    def leave(self, queue: Queue, caller: Caller) -> int:
        position = self.position(queue, caller)
        queue.callers.remove(caller)
        return position
