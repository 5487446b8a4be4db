"""Queue membership as app_queue reports it, read from its member events (no IO).

``QueueMemberStatus/Added/Removed/Pause/Penalty`` name the member ``MemberName``
and ``Interface``; the ``QueueMember`` items of a ``QueueStatus`` answer call the
same fields ``Name`` and ``Location``. Both shapes come out as one
:class:`Membership`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from cti.protocol import EventLike, normalize_iface

DEVICE_STATUS: Final = {
    0: "UNKNOWN",
    1: "NOT_INUSE",
    2: "INUSE",
    3: "BUSY",
    4: "INVALID",
    5: "UNAVAILABLE",
    6: "RINGING",
    7: "RINGINUSE",
    8: "ONHOLD",
}
"""Queue member ``Status`` numbers are device states (app_queue copies them from the phone)."""


@dataclass(frozen=True)
class Membership:
    """One agent's membership of one queue, as ``queue show`` would print it."""

    queue: str
    name: str | None
    paused: bool
    reason: str
    status: int
    """Device state number (1 not in use, 2 in use, 6 ringing, ...); 0 when unknown."""
    in_call: bool
    dynamic: bool
    wrapup_s: float = 0.0
    """The member's own wrapuptime; 0 means the queue's."""
    last_pause: int = 0
    """Epoch of the member's last pause (``LastPause``): the latest pause gives the agent's reason."""

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "paused": self.paused,
            "reason": self.reason or None,
            "membership": "dynamic" if self.dynamic else "static",
        }


def _int(value: str | None) -> int:
    try:
        return int(value) if value else 0
    except ValueError:
        return 0


def member_from_event(event: EventLike) -> tuple[Membership, str] | None:
    """The membership an event describes, and the member's interface; None without queue/interface."""
    queue = event.get("Queue")
    iface = event.get("Interface") or event.get("Location")
    if not queue or not iface:
        return None
    member = Membership(
        queue=queue,
        name=event.get("MemberName") or event.get("Name"),
        paused=(event.get("Paused") or "0").strip() == "1",
        reason=(event.get("PausedReason") or "").strip()
        if (event.get("Paused") or "0").strip() == "1"
        else "",
        status=_int(event.get("Status")),
        in_call=(event.get("InCall") or "0").strip() == "1",
        dynamic=(event.get("Membership") or "").strip().lower() == "dynamic",
        wrapup_s=float(_int(event.get("Wrapuptime"))),
        last_pause=_int(event.get("LastPause")),
    )
    return member, normalize_iface(iface)


@dataclass
class QueueStatusLists:
    """QueueParams and QueueMember items of QueueStatus answers, collected by ActionID until Complete.

    A QueueStatus answer lists each queue (QueueParams) and then its members: once complete it is
    the truth for those queues only (a QueueStatus for one queue says nothing about the others).
    """

    _lists: dict[tuple[str, str], tuple[set[str], list[tuple[Membership, str]]]] = field(default_factory=dict)

    def add(self, pbx: str, event: EventLike) -> None:
        queues, members = self._lists.setdefault((pbx, event.get("ActionID") or ""), (set(), []))
        if event.name == "QueueParams":
            if queue := event.get("Queue"):
                queues.add(queue)
        elif (parsed := member_from_event(event)) is not None:
            members.append(parsed)

    def complete(self, pbx: str, event: EventLike) -> tuple[set[str], list[tuple[Membership, str]]]:
        return self._lists.pop((pbx, event.get("ActionID") or ""), (set(), []))
