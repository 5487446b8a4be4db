"""Agent KPIs from agent spans: login time, pause time by reason, available time, occupancy.

The companions of :func:`hotline.kpi.definitions.by_agent` (calls handled, AHT, hold), computed
from :class:`~hotline.kpi.agent_spans.AgentSpan` rows clipped to each reporting interval. At
every moment an agent is in one state, the first that holds (the CTI's precedence):

1. **logged out**: a member of no queue; counts nowhere;
2. **on a call**: an ACD call is connected (answer -> end, hold included);
3. **paused** with a reason: paused in every queue the agent is a member of (a pause in only
   some of them is no pause of the agent, see :mod:`hotline.kpi.agent_spans`). A pause taken
   during a call counts from the call's end, as the CTI shows it;
4. **available**: logged in, taking calls or waiting for one.

Definitions (seconds; ``[cti] wrapup_pause`` pauses with :data:`WRAPUP_REASON` after each call):

- ``login_s`` = time logged in;
- ``pause_by_reason`` = paused time per reason (``""`` for a pause without a reason), the
  wrap-up reason included; ``pause_s`` = their sum;
- ``available_s`` = ``login_s - pause_s`` (calls are handled in available time);
- **wrap-up** = paused time with the reason :data:`WRAPUP_REASON` (hotline's CTI pauses the
  agent with it after each queue call when ``[cti] wrapup_pause`` is on). Asterisk's own
  ``wrapuptime`` is not visible in any event or log line: that after-call time counts as
  available, so occupancy is then a lower bound;
- ``occupancy`` = ``(handle + wrap-up) / (login_s - (pause_s - wrap-up)) x 100``, where
  handle is the time on ACD calls while logged in (Σ talk + hold: the calls' ``handle_s``, the
  numerator of AHT; an agent takes one queue call at a time, ``ringinuse = no``). ``null``
  with no logged-in time.

A span still open counts until the window's end (or the source's last known moment). A call
span left open (its end never reported) counts at most :data:`MAX_OPEN_CALL_S`.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan

WRAPUP_REASON: Final = "wrapup"
"""The pause reason of wrap-up: what the CTI pauses with after a queue call ([cti] wrapup_pause)."""
MAX_OPEN_CALL_S: Final = 6 * 3600
"""An open call span (no end heard of) counts at most this long: no call lasts longer."""
AGENT_KEYS: Final = ("login_s", "pause_s", "pause_by_reason", "available_s", "occupancy")
"""The keys each agent's KPI object gains (after the call KPIs of ``by_agent``)."""


@dataclass(slots=True)
class AgentTime:
    """Where an agent's time went in one window or interval (seconds)."""

    login_s: float = 0.0
    handle_s: float = 0.0
    pause_by_reason: dict[str, float] = field(default_factory=dict)
    wrapup_reason: str = WRAPUP_REASON

    @property
    def pause_s(self) -> float:
        return float(sum(self.pause_by_reason.values()))

    @property
    def available_s(self) -> float:
        return self.login_s - self.pause_s

    @property
    def wrapup_s(self) -> float:
        return self.pause_by_reason.get(self.wrapup_reason, 0.0)

    @property
    def occupancy(self) -> float | None:
        staffed = self.available_s + self.wrapup_s
        return (self.handle_s + self.wrapup_s) / staffed * 100 if staffed > 0 else None

    def as_dict(self) -> dict[str, Any]:
        """Rounded as the call KPIs are: seconds to 1 decimal, occupancy to 2."""
        figures: dict[str, Any] = {}
        self.put_figures(figures)
        return figures

    def put_figures(self, row: dict[str, Any]) -> None:
        """Set :data:`AGENT_KEYS` in ``row`` as :meth:`as_dict` gives them (appended in that order,
        or replaced where they are), so a report's interval row is built once, not merged.

        The same arithmetic as the properties, each sum taken once: a month by agent per
        15 minutes builds some 200,000 of these."""
        by_reason = self.pause_by_reason
        if not by_reason:
            pause = wrapup = 0.0
            reasons: dict[str, float] = {}
        else:
            pause = float(sum(by_reason.values()))
            wrapup = by_reason.get(self.wrapup_reason, 0.0)
            if len(by_reason) == 1:
                ((reason, seconds),) = by_reason.items()
                reasons = {reason: _tenths(seconds)}
            else:
                reasons = {r: _tenths(s) for r, s in sorted(by_reason.items())}
        available = self.login_s - pause
        staffed = available + wrapup
        row["login_s"] = _tenths(self.login_s)
        row["pause_s"] = _tenths(pause)
        row["pause_by_reason"] = reasons
        row["available_s"] = _tenths(available)
        row["occupancy"] = round((self.handle_s + wrapup) / staffed * 100, 2) if staffed > 0 else None


def _tenths(seconds: float) -> float:
    """``round(seconds, 1)``; whole seconds (nearly every figure: spans are whole seconds) are
    returned as they are, which is what ``round`` gives for them, at a tenth of its cost."""
    return seconds if seconds.is_integer() else round(seconds, 1)


def _clipped(span: AgentSpan, since: float, until: float) -> tuple[float, float] | None:
    end = span.ended_at
    if end is None:
        end = span.started_at + MAX_OPEN_CALL_S if span.kind == CALL else until
        end = min(end, until)
    start, end = max(span.started_at, since), min(end, until)
    return (start, end) if end > start else None


def _pieces(start: float, end: float, starts: Sequence[float]) -> Iterable[tuple[float, float]]:
    """(bucket start, seconds) of ``[start, end)`` cut at the bucket starts."""
    index = max(bisect.bisect_right(starts, start) - 1, 0)
    while start < end:
        limit = starts[index + 1] if index + 1 < len(starts) else math.inf
        piece_end = min(end, limit)
        yield starts[index], piece_end - start
        start, index = piece_end, index + 1


def agent_times(
    spans: Iterable[AgentSpan],
    since: float,
    until: float,
    *,
    starts: Sequence[float] | None = None,
    wrapup_reason: str = WRAPUP_REASON,
) -> dict[str, dict[float, AgentTime]]:
    """Per agent, per bucket (``starts``, sorted; default one bucket at ``since``): its :class:`AgentTime`.

    ``[since, until)`` is the window; open spans count until ``until``. Buckets without time
    are left out.
    """
    buckets = list(starts) if starts else [since]
    per_agent: dict[str, list[tuple[float, int, str, str | None, float]]] = defaultdict(list)
    for span in spans:
        clipped = _clipped(span, since, until)
        if clipped is None or span.kind not in (LOGIN, PAUSE, CALL):
            continue
        begin, end = clipped
        reason = (span.reason or "") if span.kind == PAUSE else None
        # (time, +1/-1, kind, reason, the span's own start: the latest pause gives the reason)
        per_agent[span.agent] += [(begin, 1, span.kind, reason, span.started_at),
                                  (end, -1, span.kind, reason, span.started_at)]  # fmt: skip
    result: dict[str, dict[float, AgentTime]] = {}
    for agent, edges in per_agent.items():
        result[agent] = _sweep(edges, buckets, wrapup_reason)
    return result


def _sweep(
    edges: list[tuple[float, int, str, str | None, float]], buckets: Sequence[float], wrapup_reason: str
) -> dict[float, AgentTime]:
    edges.sort(key=lambda e: (e[0], e[1]))  # ends before starts at one instant
    out: dict[float, AgentTime] = {}
    whole = len(buckets) == 1
    logins = calls = 0
    pauses: dict[tuple[float, str], int] = {}
    paused: str | None = None  # the reason of the latest pause open now
    previous: float | None = None
    for at, step, kind, reason, began in edges:
        if previous is not None and at > previous and logins > 0:
            pieces = [(buckets[0], at - previous)] if whole else _pieces(previous, at, buckets)
            for bucket, seconds in pieces:
                time_of = out.get(bucket)
                if time_of is None:
                    time_of = out[bucket] = AgentTime(wrapup_reason=wrapup_reason)
                time_of.login_s += seconds
                if calls > 0:
                    time_of.handle_s += seconds
                elif paused is not None:
                    time_of.pause_by_reason[paused] = time_of.pause_by_reason.get(paused, 0.0) + seconds
        previous = at
        if kind == LOGIN:
            logins += step
        elif kind == CALL:
            calls += step
        else:
            key = (began, reason or "")
            count = pauses.get(key, 0) + step
            if count > 0:
                pauses[key] = count
            else:
                pauses.pop(key, None)
            paused = max(pauses)[1] if pauses else None
    return out


def totals(per_bucket: dict[str, dict[float, AgentTime]]) -> dict[str, AgentTime]:
    """Each agent's buckets added up (the whole window)."""
    out: dict[str, AgentTime] = {}
    for agent, buckets in per_bucket.items():
        whole = out[agent] = AgentTime()
        by_reason = whole.pause_by_reason
        login = handle = 0.0  # added in the buckets' order, as ever: the same sums to the last bit
        for part in buckets.values():
            whole.wrapup_reason = part.wrapup_reason
            login += part.login_s
            handle += part.handle_s
            for reason, seconds in part.pause_by_reason.items():
                by_reason[reason] = by_reason.get(reason, 0.0) + seconds
        whole.login_s, whole.handle_s = login, handle
    return out


def zero(wrapup_reason: str = WRAPUP_REASON) -> dict[str, Any]:
    """The figures of an agent with no logged-in time."""
    return AgentTime(wrapup_reason=wrapup_reason).as_dict()
