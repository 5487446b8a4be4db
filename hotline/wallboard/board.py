"""The wallboard's state: live queues and agents from AMI events, KPIs from rollup differences.

No IO. Every update costs the same however much history there is:

- calls waiting: a set per queue, from QueueCallerJoin / QueueCallerLeave / QueueCallerAbandon;
- agents: one record per (PBX, interface) with its state in each queue, from QueueMemberStatus,
  QueueMemberAdded/Removed/Pause and the ``QueueMember`` events of a QueueStatus list;
- KPIs: 15-minute buckets per (PBX, queue), the same sums as ``kpi_rollup``, moved by each
  committed rollup difference; the rolling 24 h are the last 96 buckets, so nothing resets at
  midnight. A snapshot sums at most 96 buckets per queue.

After an AMI reconnect the client asks QueueStatus; its ``QueueParams`` event opens the resync of
one queue (its waiting callers and memberships are forgotten) and the ``QueueEntry`` and
``QueueMember`` events that follow say what is true now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from hotline.kpi.definitions import PER_ATTEMPT, PER_CALL
from hotline.rollup.contrib import RowKey, Vector, interval_of
from hotline.rollup.query import Totals, empty_totals, summary_of
from hotline.rollup.tables import INTERVAL_S, NO_AGENT, SUM_COLUMNS

DAY_BUCKETS: Final = 24 * 3600 // INTERVAL_S
MAX_CLOCK_LEAD_S: Final = 3600.0
"""A PBX clock further ahead than this is wrong, not early: it does not move the board's clock."""
STATES: Final = ("available", "ringing", "talking", "paused", "offline")
_TALKING: Final = frozenset({2, 3, 7, 8})  # in use, busy, ringing while in use, on hold
_RINGING: Final = frozenset({6})
_OFFLINE: Final = frozenset({4, 5})  # invalid, unavailable (phone unregistered)
LIVE_EVENTS: Final = (
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
    "QueueMemberStatus",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueMemberPause",
    "QueueMemberPaused",
    "QueueParams",
    "QueueMember",
    "QueueEntry",
)


class EventLike(Protocol):
    """What the board reads of an AMI event (``hotline.ami.protocol.Event`` fits)."""

    @property
    def name(self) -> str: ...

    def get(self, key: str, default: str | None = None) -> str | None: ...


@dataclass(slots=True)
class _Member:
    name: str
    queues: dict[str, tuple[int, bool, str]] = field(default_factory=dict)
    """queue -> (device status 0..8, paused, pause reason)."""

    def state(self) -> tuple[str, str]:
        """(one of STATES, pause reason)."""
        statuses = [status for status, _, _ in self.queues.values()]
        if statuses and all(s in _OFFLINE for s in statuses):
            return "offline", ""
        if any(s in _TALKING for s in statuses):
            return "talking", ""
        if any(s in _RINGING for s in statuses):
            return "ringing", ""
        reasons = [reason for _, paused, reason in self.queues.values() if paused]
        if reasons:
            return "paused", reasons[0]
        return "available", ""


def _int(raw: str | None, default: int = 0) -> int:
    try:
        return int(raw) if raw else default
    except ValueError:
        return default


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


class Board:
    """Everything the wallboard shows; feed it with :meth:`on_event` and :meth:`on_rollup`."""

    def __init__(
        self,
        sites: Mapping[str, str],
        *,
        scr_target: float,
        aht_target: float,
        service_level_s: float,
        timezone: str = "Asia/Jakarta",
    ) -> None:
        self.sites = dict(sites)
        self.timezone = timezone
        self.targets = {"scr": scr_target, "aht": aht_target, "service_level_s": service_level_s}
        self.waiting: dict[tuple[str, str], dict[str, float]] = {}
        self.members: dict[tuple[str, str], _Member] = {}
        self.buckets: dict[tuple[str, str], dict[int, Vector]] = {}
        self.pbx_clock = 0.0

    # -- input ---------------------------------------------------------------------------------------

    def on_event(self, pbx: str, event: EventLike, received_at: float) -> bool:
        """Apply one live AMI event; True if the board changed."""
        name = event.name
        stamp = _float(event.get("Timestamp"))
        if stamp is not None and stamp - received_at < MAX_CLOCK_LEAD_S:
            self.pbx_clock = max(self.pbx_clock, stamp)
        queue = event.get("Queue")
        if not queue:
            return False
        self._queue_known(pbx, queue)
        if name in ("QueueCallerJoin", "QueueEntry"):
            uid = event.get("Uniqueid")
            if not uid:
                return False
            waited = (_float(event.get("Wait")) or 0.0) if name == "QueueEntry" else 0.0
            self.waiting[(pbx, queue)][uid] = received_at - waited
            return True
        if name in ("QueueCallerLeave", "QueueCallerAbandon"):
            return self.waiting[(pbx, queue)].pop(event.get("Uniqueid") or "", None) is not None
        if name == "QueueParams":
            self._resync_queue(pbx, queue)
            return True
        return self._member_event(pbx, queue, name, event)

    def _queue_known(self, pbx: str, queue: str) -> None:
        self.waiting.setdefault((pbx, queue), {})
        self.buckets.setdefault((pbx, queue), {})

    def _resync_queue(self, pbx: str, queue: str) -> None:
        self.waiting[(pbx, queue)] = {}
        for (member_pbx, _), member in self.members.items():
            if member_pbx == pbx:
                member.queues.pop(queue, None)

    def _member_event(self, pbx: str, queue: str, name: str, event: EventLike) -> bool:
        interface = event.get("StateInterface") or event.get("Interface") or event.get("Location")
        if not interface:
            return False
        key = (pbx, interface)
        if name == "QueueMemberRemoved":
            member = self.members.get(key)
            return member is not None and member.queues.pop(queue, None) is not None
        member = self.members.get(key)
        if member is None:
            member = self.members[key] = _Member(event.get("MemberName") or event.get("Name") or interface)
        status, paused, reason = member.queues.get(queue, (1, False, ""))
        if event.get("Status") is not None:
            status = _int(event.get("Status"), status)
        if event.get("Paused") is not None:
            paused = event.get("Paused") == "1"
            reason = (event.get("PausedReason") or "") if paused else ""
        member.queues[queue] = (status, paused, reason)
        return True

    def on_rollup(self, delta: Mapping[RowKey, Vector]) -> bool:
        """Add one committed rollup difference (queue rows only: agent rows are part of them)."""
        changed = False
        for (pbx, queue, agent, start), vector in delta.items():
            if agent != NO_AGENT or not pbx or not queue:
                continue  # agent rows and total rows are sums of the queue rows
            self._queue_known(pbx, queue)
            bucket = self.buckets[(pbx, queue)].get(start)
            if bucket is None:
                self.buckets[(pbx, queue)][start] = list(vector)
            else:
                for i, value in enumerate(vector):
                    bucket[i] += value
            changed = True
        return changed

    def warm(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Load ``kpi_rollup`` queue rows (as read at start) into the buckets."""
        self.on_rollup(
            {
                (row["pbx"], row["queue"], NO_AGENT, int(row["interval_start"])): [
                    int(row[c]) for c in SUM_COLUMNS
                ]
                for row in rows
            }
        )

    # -- output --------------------------------------------------------------------------------------

    def clock(self, now: float) -> float:
        """The board's time: the PBX's when it runs ahead (its events decide the interval), else ours."""
        return max(now, self.pbx_clock) if self.pbx_clock - now < MAX_CLOCK_LEAD_S else now

    def prune(self, now: float) -> None:
        """Forget buckets older than the rolling 24 h."""
        oldest = interval_of(self.clock(now)) - DAY_BUCKETS * INTERVAL_S
        for buckets in self.buckets.values():
            for start in [s for s in buckets if s <= oldest]:
                del buckets[start]

    def snapshot(self, now: float) -> dict[str, Any]:
        """Everything on the page, as JSON-ready data (times are epoch seconds of ``now``'s clock)."""
        current = interval_of(self.clock(now))
        oldest = current - (DAY_BUCKETS - 1) * INTERVAL_S
        sites: dict[str, dict[str, Any]] = {}
        for pbx, queue in sorted(self.buckets.keys() | self.waiting.keys()):
            site = sites.setdefault(self.sites.get(pbx, pbx), _group())
            now_sum, day_sum = empty_totals(), empty_totals()
            for start, vector in self.buckets.get((pbx, queue), {}).items():
                if start >= oldest:
                    _add(day_sum, vector)
                    if start == current:
                        _add(now_sum, vector)
            waiting = self.waiting.get((pbx, queue), {})
            row: dict[str, Any] = {
                "queue": queue,
                "pbx": pbx,
                "waiting": len(waiting),
                "oldest_join": min(waiting.values(), default=None),
                "agents": dict.fromkeys(STATES, 0),
                "current": self._kpis(now_sum, PER_ATTEMPT),
                "day": self._kpis(day_sum, PER_ATTEMPT),
            }
            site["queues"].append(row)
            _add(site["_now"], now_sum)
            _add(site["_day"], day_sum)
            site["waiting"] += len(waiting)
            site["oldest_join"] = _earliest(site["oldest_join"], row["oldest_join"])
        by_queue = {(row["pbx"], row["queue"]): row for site in sites.values() for row in site["queues"]}
        for (pbx, _), member in self.members.items():
            if not member.queues:
                continue  # removed from every queue (or not confirmed by a resync): not on the floor
            state, _ = member.state()
            site = sites.setdefault(self.sites.get(pbx, pbx), _group())
            site["agents"][state] += 1
            for queue in member.queues:
                if (pbx, queue) in by_queue:
                    by_queue[(pbx, queue)]["agents"][state] += 1
        total = _group()
        for site in sites.values():
            _add(total["_now"], site["_now"])
            _add(total["_day"], site["_day"])
            total["waiting"] += site["waiting"]
            total["oldest_join"] = _earliest(total["oldest_join"], site["oldest_join"])
            for state in STATES:
                total["agents"][state] += site["agents"][state]
        return {
            "type": "wallboard",
            "now": now,
            "interval_start": current,
            "interval_s": INTERVAL_S,
            "timezone": self.timezone,
            "targets": self.targets,
            "total": self._finish(total),
            "sites": [{"site": name, **self._finish(site)} for name, site in sorted(sites.items())],
        }

    def _finish(self, group: dict[str, Any]) -> dict[str, Any]:
        now_sum, day_sum = group.pop("_now"), group.pop("_day")
        return {**group, "current": self._kpis(now_sum, PER_CALL), "day": self._kpis(day_sum, PER_CALL)}

    def _kpis(self, totals: Totals, unit: str) -> dict[str, Any]:
        figures = summary_of(totals, unit).as_dict()
        scr, aht = figures["scr"], figures["aht"]
        keep = ("offered", "answered", "abandoned", "short_abandoned", "scr", "aht", "asa", "service_level")
        return {
            **{key: figures[key] for key in keep},
            "scr_ok": None if scr is None else scr >= self.targets["scr"],
            "aht_ok": None if aht is None else aht <= self.targets["aht"],
        }


def _group() -> dict[str, Any]:
    return {
        "waiting": 0,
        "oldest_join": None,
        "agents": dict.fromkeys(STATES, 0),
        "queues": [],
        "_now": empty_totals(),
        "_day": empty_totals(),
    }


def _add(total: Totals, vector: Vector) -> None:
    for i in range(len(SUM_COLUMNS)):
        total[i] += vector[i]


def _earliest(left: float | None, right: float | None) -> float | None:
    if left is None:
        return right
    return left if right is None else min(left, right)
