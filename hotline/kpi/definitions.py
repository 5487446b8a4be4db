"""Every KPI definition in one place, computed from :class:`~hotline.kpi.facts.QueueAttempt` rows.

Formulas of the operations manual (§3.2) and the standard companions:

- **SCR** (Successful Call Ratio, target >= 90 %) = answered calls / incoming calls x 100.
- **AHT** (Average Handling Time, target <= 450 s) = (sum talk + sum hold) / ACD calls.
  Asterisk's TalkTime (queue_log calltime) already runs from answer to end *with* hold, so
  sum talk + sum hold = sum handle_s: hold is never added on top. Hold is the agent's hold during
  the conversation, not the queue wait. Wrap-up is not part of it.
- **ASA** (average speed of answer) = sum queue wait of ACD calls / ACD calls answered.
- **Service level** = ACD calls answered within T seconds / ACD calls answered x 100
  ("within" is ``wait <= T``, as app_queue counts its own servicelevel).
- **Abandon rate** = (abandoned - short abandoned) / (offered - short abandoned) x 100; a short
  abandon is a caller who hung up within ``short_abandon_s`` (wait <= threshold): a misdial, not
  a caller the centre failed.

Counting units (decided here, once):

- *Calls* (distinct ``(pbx, call_id)``) for offered, answered, abandoned, short_abandoned,
  timed_out, exited and waiting: a blind transfer into a second queue is ONE incoming call, so
  it cannot inflate traffic (COF) or SCR. A call is answered if any of its attempts was
  answered; otherwise it takes the outcome of its last attempt. The outcomes partition the
  calls, so SCR stays within 0..100 and offered = answered + abandoned + timed_out + exited +
  waiting.
- *ACD calls* (answered attempts, one per delivery to an agent) for AHT, talk, hold, ASA and
  service level: after a blind transfer both the transferring agent's handling and the second
  agent's count, each over its own ACD call, because each was work an agent did. Only attempts
  that have ended (handle time known) count in AHT, talk and hold; one still in conversation
  counts in ASA and service level already.
- Per queue (:func:`by_queue`) and per agent (:func:`by_agent`) every attempt counts as an
  offer to that queue or agent, so a transfer out of queue A into queue B counts in both.
  Per site (:func:`by_site`) calls count, as overall: a call never leaves its PBX.
- Per interval (:func:`summarize_by`) a call is offered in the interval its first attempt entered
  in, and each ACD call is measured in the interval its own attempt entered in, so the intervals
  add up to the whole window.

talk_total and hold_total are None when any ended ACD call lacks agent hold (queue_log cannot
know it); AHT does not depend on the split and is always available.

Per agent, the time KPIs (login time, pause time in total and by reason, available time,
occupancy with wrap-up) are defined next to these in :mod:`hotline.kpi.agent_definitions`,
from the agent spans of :mod:`hotline.kpi.agent_spans`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, TypeVar

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt

K = TypeVar("K")

PER_CALL: Final = "call"
PER_ATTEMPT: Final = "attempt"


@dataclass(frozen=True, slots=True)
class KpiSummary:
    """KPIs of a set of attempts. Percentages 0..100; durations in seconds; None = no data."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timed_out: int
    exited: int
    """Left with a key or because the queue was empty."""
    waiting: int
    acd_calls: int
    """Answered attempts that have ended: the denominator of AHT."""
    scr: float | None
    abandon_rate: float | None
    aht: float | None
    talk_total: float | None
    hold_total: float | None
    asa: float | None
    service_level: float | None
    longest_wait: float | None
    transfers: int
    ring_no_answer: int

    def as_dict(self) -> dict[str, int | float | None]:
        """Rounded for reports: percentages to 2 decimals, seconds to 1 decimal."""
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "timed_out": self.timed_out,
            "exited": self.exited,
            "waiting": self.waiting,
            "acd_calls": self.acd_calls,
            "scr": _round(self.scr, 2),
            "abandon_rate": _round(self.abandon_rate, 2),
            "aht": _round(self.aht, 1),
            "talk_total": _round(self.talk_total, 1),
            "hold_total": _round(self.hold_total, 1),
            "asa": _round(self.asa, 1),
            "service_level": _round(self.service_level, 2),
            "longest_wait": _round(self.longest_wait, 1),
            "transfers": self.transfers,
            "ring_no_answer": self.ring_no_answer,
        }


def summarize(
    attempts: Iterable[QueueAttempt],
    *,
    service_level_s: float = 20,
    short_abandon_s: float = 5,
    unit: str = PER_CALL,
) -> KpiSummary:
    """KPIs of ``attempts``; offers count calls (``unit='call'``) or attempts (``'attempt'``)."""
    if unit not in (PER_CALL, PER_ATTEMPT):
        raise ValueError(f"unit must be {PER_CALL!r} or {PER_ATTEMPT!r}, not {unit!r}")
    rows = list(attempts)
    offers = _offers(rows) if unit == PER_CALL else [(a.outcome, a.wait_s) for a in rows]
    outcomes = [outcome for outcome, _ in offers]
    offered = len(offers)
    answered = outcomes.count(facts.ANSWERED)
    abandoned = outcomes.count(facts.ABANDONED)
    short = sum(1 for o, w in offers if o == facts.ABANDONED and w is not None and w <= short_abandon_s)

    delivered = [a for a in rows if a.outcome == facts.ANSWERED]
    ended = [a for a in delivered if a.handle_s is not None]
    waits = [a.wait_s for a in delivered if a.wait_s is not None]
    handle_total = sum(a.handle_s or 0.0 for a in ended)
    hold_known = all(a.hold_s is not None for a in ended)
    hold_total = sum(a.hold_s or 0.0 for a in ended) if hold_known else None
    all_waits = [a.wait_s for a in rows if a.wait_s is not None]
    return KpiSummary(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        short_abandoned=short,
        timed_out=outcomes.count(facts.TIMEOUT),
        exited=outcomes.count(facts.EXIT_EMPTY) + outcomes.count(facts.EXIT_KEY),
        waiting=outcomes.count(facts.WAITING),
        acd_calls=len(ended),
        scr=_percent(answered, offered),
        abandon_rate=_percent(abandoned - short, offered - short),
        aht=handle_total / len(ended) if ended else None,
        talk_total=handle_total - hold_total if hold_total is not None else None,
        hold_total=hold_total,
        asa=sum(waits) / len(waits) if waits else None,
        service_level=_percent(sum(1 for w in waits if w <= service_level_s), len(waits)),
        longest_wait=max(all_waits) if all_waits else None,
        transfers=sum(1 for a in rows if a.completed_by == facts.BY_TRANSFER),
        ring_no_answer=sum(a.ring_no_answer for a in rows),
    )


def by_queue(
    attempts: Iterable[QueueAttempt], *, service_level_s: float = 20, short_abandon_s: float = 5
) -> dict[str, KpiSummary]:
    """KPIs per queue; every attempt in the queue is one offer to it."""
    groups: dict[str, list[QueueAttempt]] = defaultdict(list)
    for attempt in attempts:
        groups[attempt.queue].append(attempt)
    return {
        queue: summarize(
            rows, service_level_s=service_level_s, short_abandon_s=short_abandon_s, unit=PER_ATTEMPT
        )
        for queue, rows in sorted(groups.items())
    }


def by_agent(attempts: Iterable[QueueAttempt], *, service_level_s: float = 20) -> dict[str, KpiSummary]:
    """KPIs per agent (MemberName) over the ACD calls the agent answered."""
    groups: dict[str, list[QueueAttempt]] = defaultdict(list)
    for attempt in attempts:
        if attempt.outcome == facts.ANSWERED and attempt.agent:
            groups[attempt.agent].append(attempt)
    return {
        agent: summarize(rows, service_level_s=service_level_s, unit=PER_ATTEMPT)
        for agent, rows in sorted(groups.items())
    }


def _offers(rows: list[QueueAttempt]) -> list[tuple[str, float | None]]:
    """One (outcome, wait of the deciding attempt) per call."""
    calls: dict[tuple[str, str], list[QueueAttempt]] = defaultdict(list)
    for attempt in rows:
        calls[(attempt.pbx, attempt.call_id)].append(attempt)
    offers: list[tuple[str, float | None]] = []
    for call in calls.values():
        call.sort(key=lambda a: a.attempt)
        answered = next((a for a in call if a.outcome == facts.ANSWERED), None)
        deciding = answered or call[-1]
        offers.append((deciding.outcome, deciding.wait_s))
    return offers


def _percent(part: int, whole: int) -> float | None:
    return part / whole * 100 if whole > 0 else None


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


# --- groups and buckets (reports, intervals) ------------------------------------------------------

BY_QUEUE: Final = "queue"
BY_AGENT: Final = "agent"
BY_SITE: Final = "site"
GROUPINGS: Final = (BY_QUEUE, BY_AGENT, BY_SITE)

CALL_FIELDS: Final = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "exited",
    "waiting",
    "scr",
    "abandon_rate",
)
"""The :class:`KpiSummary` fields counted in calls when ``unit='call'``; all others count attempts."""


def group_attempts(
    attempts: Iterable[QueueAttempt], by: str, *, site_of: Callable[[str], str] = str
) -> tuple[dict[str, list[QueueAttempt]], str]:
    """The rows of each group and the counting unit the group's KPIs use.

    The same rules as :func:`by_queue` and :func:`by_agent`: a queue or an agent is offered every
    attempt it received (unit ``attempt``); an agent's group holds only the ACD calls it answered.
    A site (``site_of(pbx)``) counts calls, like the overall figures: a call never leaves its PBX.
    """
    groups: dict[str, list[QueueAttempt]] = defaultdict(list)
    for attempt in attempts:
        if by == BY_QUEUE:
            groups[attempt.queue].append(attempt)
        elif by == BY_AGENT:
            if attempt.outcome == facts.ANSWERED and attempt.agent:
                groups[attempt.agent].append(attempt)
        elif by == BY_SITE:
            groups[site_of(attempt.pbx)].append(attempt)
        else:
            raise ValueError(f"grouping must be one of {', '.join(GROUPINGS)}, not {by!r}")
    unit = PER_CALL if by == BY_SITE else PER_ATTEMPT
    return dict(sorted(groups.items())), unit


def by_site(
    attempts: Iterable[QueueAttempt],
    *,
    site_of: Callable[[str], str],
    service_level_s: float = 20,
    short_abandon_s: float = 5,
) -> dict[str, KpiSummary]:
    """KPIs per site (``site_of(pbx)``), counting calls as the overall figures do."""
    groups, unit = group_attempts(attempts, BY_SITE, site_of=site_of)
    return {
        site: summarize(rows, service_level_s=service_level_s, short_abandon_s=short_abandon_s, unit=unit)
        for site, rows in groups.items()
    }


def summarize_by(
    attempts: Iterable[QueueAttempt],
    bucket_of: Callable[[QueueAttempt], K],
    *,
    service_level_s: float = 20,
    short_abandon_s: float = 5,
    unit: str = PER_CALL,
) -> dict[K, KpiSummary]:
    """KPIs per bucket (e.g. per interval), such that the buckets add up to the whole.

    Every attempt counts in the bucket of its own ``bucket_of(attempt)`` for the ACD-call measures
    (AHT, ASA, service level, longest wait, transfers, ring-no-answer). With ``unit='call'`` the
    :data:`CALL_FIELDS` count each call once, in the bucket of its first attempt, with the outcome
    of the whole call: a call transferred into a second queue in the next interval is offered once,
    so the buckets' ``offered`` sum to the window's.
    """
    rows = list(attempts)
    measured: dict[K, list[QueueAttempt]] = defaultdict(list)
    for attempt in rows:
        measured[bucket_of(attempt)].append(attempt)

    def of(selected: list[QueueAttempt], how: str) -> KpiSummary:
        return summarize(selected, service_level_s=service_level_s, short_abandon_s=short_abandon_s, unit=how)

    if unit == PER_ATTEMPT:
        return {bucket: of(selected, PER_ATTEMPT) for bucket, selected in measured.items()}
    if unit != PER_CALL:
        raise ValueError(f"unit must be {PER_CALL!r} or {PER_ATTEMPT!r}, not {unit!r}")
    calls: dict[tuple[str, str], list[QueueAttempt]] = defaultdict(list)
    for attempt in rows:
        calls[(attempt.pbx, attempt.call_id)].append(attempt)
    offered: dict[K, list[QueueAttempt]] = defaultdict(list)
    for call in calls.values():
        offered[bucket_of(min(call, key=lambda a: a.attempt))].extend(call)
    result: dict[K, KpiSummary] = {}
    for bucket, selected in measured.items():  # a call's first attempt is measured too: no bucket is missed
        # The measures never depend on the unit; counting them per attempt skips grouping calls twice.
        measures, offers = of(selected, PER_ATTEMPT), of(offered.get(bucket, []), PER_CALL)
        result[bucket] = dataclasses.replace(
            measures, **{name: getattr(offers, name) for name in CALL_FIELDS}
        )
    return result
