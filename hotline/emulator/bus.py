"""Fan-out of emulated AMI events to every logged-in AMI session.

An event is built once as ordered header pairs (the ``Event:`` line, ``Privilege:``,
``Timestamp:``, then the body) and handed to each subscriber, which applies its own
filter (``Events: off``, an event-class mask, the event filter) before encoding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

Headers = list[tuple[str, str]]

PRIVILEGE: Final[dict[str, str]] = {
    "AGIExecStart": "agi",
    "AGIExecEnd": "agi",
    "AgentCalled": "agent",
    "AgentComplete": "agent",
    "AgentConnect": "agent",
    "AgentRingNoAnswer": "agent",
    "QueueCallerAbandon": "agent",
    "QueueCallerJoin": "agent",
    "QueueCallerLeave": "agent",
    "QueueMemberStatus": "agent",
    "QueueMemberAdded": "agent",
    "QueueMemberRemoved": "agent",
    "QueueMemberPause": "agent",
    "Cdr": "cdr",
    "DTMFEnd": "dtmf",
    "DTMFBegin": "dtmf",
    "Newexten": "dialplan",
    "VarSet": "dialplan",
    "SuccessfulAuth": "security",
    "InvalidPassword": "security",
    "RequestBadFormat": "security",
    "FullyBooted": "system",
}
"""Event class per event name (manager.c / stasis); anything else is ``call``."""


def privilege_of(event: str) -> str:
    return PRIVILEGE.get(event, "call")


@dataclass(frozen=True, slots=True)
class EmittedEvent:
    """One event as it goes out: ``headers`` start with Event, Privilege and (usually) Timestamp."""

    name: str
    event_class: str
    headers: tuple[tuple[str, str], ...]


Subscriber = Callable[[EmittedEvent], None]


class EventBus:
    """Synchronous fan-out; subscribers must not block (AMI sessions only queue bytes)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._last_stamp = 0.0

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def stamp(self, instant: float) -> float:
        """A timestamp never earlier than the previous one: events leave in time order like Asterisk's."""
        self._last_stamp = max(instant, self._last_stamp + 0.000005)
        return self._last_stamp

    def publish(self, name: str, body: Headers, instant: float | None, *, timestamped: bool = True) -> None:
        event_class = privilege_of(name)
        headers: Headers = [("Event", name), ("Privilege", f"{event_class},all")]
        if timestamped and instant is not None:
            headers.append(("Timestamp", f"{self.stamp(instant):.6f}"))
        headers.extend(body)
        event = EmittedEvent(name, event_class, tuple(headers))
        for subscriber in list(self._subscribers):
            subscriber(event)
