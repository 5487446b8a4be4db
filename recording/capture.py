"""Which AMI events start, end, mute and describe a recording, without IO.

:class:`CaptureTracker` folds AMI events into a few facts the feature stores:

- ``MixMonitorStart`` on a channel starts the recording of its call (keyed on ``Linkedid``, so a
  call transferred from agent to agent or queue to queue keeps one recording; a second
  MixMonitor in the same call is ignored, the dialplan only starts one).
- ``MixMonitorStop`` or the recorded channel's ``Hangup`` ends it. Asterisk 22 publishes
  MixMonitorStop only when StopMixMonitor runs (the shipped dialplan does so in ``h``), so a
  Hangup alone must end it too; whichever comes first wins, the other is ignored.
- ``MixMonitorMute`` (``State: 1|0``, Asterisk 16.17+/18.3+) opens and closes a mute interval,
  whoever sent the action: the IVR's payment flow or the recordings API.
- ``QueueCallerJoin`` and ``AgentConnect`` of the same call give its queue and agent, so a row
  has them even before the KPI projection (which is authoritative) is read.

The file name is not on AMI (``MIXMONITOR_FILENAME`` travels in VarSet, filtered out for volume);
it follows from the dialplan's rule, see :mod:`recording.archive`, unless manager.conf
``channelvars`` adds ``MIXMONITOR_FILENAME`` to channel events, which is used when present.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from hotline.logs import get_logger

log = get_logger(__name__)

INTERNAL_CONTEXTS: Final = frozenset({"from-agents"})
"""Contexts of calls placed by agents' phones; every other recorded call came in from the PSTN."""


class EventLike(Protocol):
    @property
    def name(self) -> str: ...

    def get(self, key: str) -> str | None: ...

    def get_all(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Started:
    pbx: str
    call_id: str
    uniqueid: str
    channel: str
    caller_number: str | None
    direction: str
    at: float
    filename: str | None = None
    """MIXMONITOR_FILENAME when manager.conf channelvars carries it."""


@dataclass(frozen=True)
class Ended:
    pbx: str
    call_id: str
    uniqueid: str
    at: float
    how: str
    """``stop`` (MixMonitorStop) or ``hangup``."""


@dataclass(frozen=True)
class Muted:
    pbx: str
    call_id: str
    at: float
    direction: str
    muted: bool


@dataclass(frozen=True)
class Answered:
    pbx: str
    call_id: str
    agent_name: str | None
    interface: str | None
    queue: str | None
    at: float


@dataclass(frozen=True)
class Joined:
    pbx: str
    call_id: str
    queue: str


Fact = Started | Ended | Muted | Answered | Joined


def _timestamp(event: EventLike, fallback: float) -> float:
    try:
        return float(event.get("Timestamp") or fallback)
    except ValueError:
        return fallback


def _chanvar(event: EventLike, name: str) -> str | None:
    for item in event.get_all("ChanVariable"):
        key, sep, value = item.partition("=")
        if sep and key.strip() == name and value.strip():
            return value.strip()
    return None


def _number(value: str | None) -> str | None:
    # Asterisk writes "<unknown>" for a withheld or absent caller ID.
    if not value or value.startswith("<"):
        return None
    return value


class CaptureTracker:
    """Recorded channels in progress, per PBX; :meth:`feed` returns the facts an event adds."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, str], str] = {}
        """(pbx, recorded channel's uniqueid) -> call id."""
        self._calls: dict[tuple[str, str], str] = {}
        """(pbx, call id) -> recorded channel's uniqueid."""

    def restore(self, active: Iterable[tuple[str, str, str]]) -> None:
        """Recordings the store says are in progress ((pbx, uniqueid, call id)), after a restart."""
        for pbx, uniqueid, call_id in active:
            self._channels[(pbx, uniqueid)] = call_id
            self._calls[(pbx, call_id)] = uniqueid

    @property
    def active(self) -> int:
        return len(self._channels)

    def feed(self, pbx: str, event: EventLike, received_at: float) -> list[Fact]:
        name = event.name
        uniqueid = event.get("Uniqueid") or ""
        at = _timestamp(event, received_at)
        if name == "MixMonitorStart":
            return self._start(pbx, event, uniqueid, at)
        if name in ("MixMonitorStop", "Hangup"):
            call_id = self._channels.pop((pbx, uniqueid), None)
            if call_id is None:
                return []
            self._calls.pop((pbx, call_id), None)
            return [Ended(pbx, call_id, uniqueid, at, "stop" if name == "MixMonitorStop" else "hangup")]
        if name == "MixMonitorMute":
            call_id = self._channels.get((pbx, uniqueid))
            state = (event.get("State") or "").strip()
            if call_id is None or state not in ("0", "1"):
                return []
            direction = (event.get("Direction") or "both").strip().lower() or "both"
            return [Muted(pbx, call_id, at, direction, state == "1")]
        linkedid = event.get("Linkedid") or ""
        if (pbx, linkedid) not in self._calls:
            return []
        if name == "AgentConnect":
            return [
                Answered(
                    pbx, linkedid, event.get("MemberName"), event.get("Interface"), event.get("Queue"), at
                )
            ]
        if name == "QueueCallerJoin" and event.get("Queue"):
            return [Joined(pbx, linkedid, event.get("Queue") or "")]
        return []

    def _start(self, pbx: str, event: EventLike, uniqueid: str, at: float) -> list[Fact]:
        call_id = event.get("Linkedid") or uniqueid
        if not uniqueid:
            log.warning("MixMonitorStart without Uniqueid ignored", pbx=pbx)
            return []
        if (pbx, uniqueid) in self._channels:
            return []
        if (pbx, call_id) in self._calls:
            # One recording per call: the dialplan guards against a second MixMonitor; if another
            # one runs anyway (a custom context), the first recording stays the call's recording.
            log.warning("second MixMonitor in one call ignored", pbx=pbx, call_id=call_id, uniqueid=uniqueid)
            return []
        self._channels[(pbx, uniqueid)] = call_id
        self._calls[(pbx, call_id)] = uniqueid
        context = (event.get("Context") or "").strip()
        return [
            Started(
                pbx=pbx,
                call_id=call_id,
                uniqueid=uniqueid,
                channel=event.get("Channel") or "",
                caller_number=_number(event.get("CallerIDNum")),
                direction="internal" if context in INTERNAL_CONTEXTS else "inbound",
                at=at,
                filename=_chanvar(event, "MIXMONITOR_FILENAME"),
            )
        ]
