"""What the CTI remembers about calls in the queue: when each joined, and whose phones ring for it.

Join times give the screen-pop its ``waited_s`` (AgentCalled carries no wait).
The ringing map lets a popped screen be cleared: when another agent answers
(ringall), when the caller leaves the queue (QueueCallerAbandon comes without an
AgentRingNoAnswer), or when the phone gives up ringing.

Both maps are bounded: events of calls that never complete (a restart of
Asterisk, a lost event) must not grow memory without end.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

DEFAULT_MAX_CALLS: Final = 20_000

CallKey = tuple[str, str]
"""(pbx, caller Uniqueid)."""


@dataclass(frozen=True)
class RingingCall:
    iface: str
    call_id: str | None
    queue: str | None


class CallTracker:
    def __init__(self, max_calls: int = DEFAULT_MAX_CALLS) -> None:
        self._joined: OrderedDict[CallKey, float] = OrderedDict()
        self._ringing: OrderedDict[CallKey, dict[str, RingingCall]] = OrderedDict()
        self._max = max_calls

    def _trim(self, table: OrderedDict[CallKey, Any]) -> None:
        while len(table) > self._max:
            table.popitem(last=False)

    def joined(self, pbx: str, uniqueid: str, at: float) -> None:
        self._joined[(pbx, uniqueid)] = at
        self._joined.move_to_end((pbx, uniqueid))
        self._trim(self._joined)

    def left(self, pbx: str, uniqueid: str) -> None:
        self._joined.pop((pbx, uniqueid), None)

    def waited(self, pbx: str, uniqueid: str, at: float) -> float | None:
        """Seconds since the caller joined the queue, or None when the join was not seen."""
        start = self._joined.get((pbx, uniqueid))
        return None if start is None else at - start

    def ring(self, pbx: str, uniqueid: str, call: RingingCall) -> None:
        key = (pbx, uniqueid)
        self._ringing.setdefault(key, {})[call.iface] = call
        self._ringing.move_to_end(key)
        self._trim(self._ringing)

    def stop_ringing(self, pbx: str, uniqueid: str, iface: str) -> RingingCall | None:
        """One phone stopped ringing (no answer, or it answered); what was ringing there, if known."""
        key = (pbx, uniqueid)
        calls = self._ringing.get(key)
        if not calls:
            return None
        found = calls.pop(iface, None)
        if not calls:
            del self._ringing[key]
        return found

    def stop_all(self, pbx: str, uniqueid: str) -> list[RingingCall]:
        """Every phone still ringing for this call (the call was answered or left the queue)."""
        return list(self._ringing.pop((pbx, uniqueid), {}).values())

    def __len__(self) -> int:
        return len(self._joined) + len(self._ringing)
