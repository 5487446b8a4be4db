"""What one call adds to the rollups: pure functions, no IO.

A call's contribution is a map ``RowKey -> Vector`` (the additive columns of
:data:`~hotline.rollup.tables.SUM_COLUMNS`, plus the longest wait, kept apart because a maximum
cannot be subtracted). When a call's attempts change, the rollups get
``contribution(new attempts) - contribution(old attempts)``: applying the same attempts twice
adds zero, whatever order the changes came in.

Only one source counts per call: AMI when AMI saw the call, otherwise queue_log (a backfilled gap,
or history from before go-live), as :func:`hotline.reports.facts.prefer_ami` does for reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt
from hotline.rollup.tables import ALL, ATTEMPT_COUNTS, CALL_COUNTS, INTERVAL_S, NO_AGENT, SUM_COLUMNS

RowKey = tuple[str, str, str, int]
"""``(pbx, queue, agent, interval_start)``; agent ``''`` is the queue row."""
Vector = list[int]

WIDTH: Final = len(SUM_COLUMNS)
SOURCE_PRIORITY: Final = (facts.SOURCE_AMI, facts.SOURCE_QUEUE_LOG)
_INDEX: Final = {name: i for i, name in enumerate(SUM_COLUMNS)}
_OUTCOME_COLUMN: Final = {
    facts.ANSWERED: "answered",
    facts.ABANDONED: "abandoned",
    facts.TIMEOUT: "timed_out",
    facts.EXIT_EMPTY: "exited",
    facts.EXIT_KEY: "exited",
    facts.WAITING: "waiting",
}
_CALL_OUTCOME: Final = {o: _INDEX[c] for o, c in _OUTCOME_COLUMN.items()}
_ATTEMPT_OUTCOME: Final = {o: _INDEX["attempts_" + c] for o, c in _OUTCOME_COLUMN.items()}
_I = _INDEX  # short alias for the hot loop below


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The definitions' thresholds the rollups are computed with ([kpi] in the configuration).

    Changing one needs ``hotline rebuild``: stored sums were counted with the old value.
    """

    service_level_s: float = 20
    short_abandon_s: float = 5


def interval_of(stamp: float) -> int:
    """The 15-minute UTC interval (epoch seconds) holding ``stamp``."""
    return int(stamp // INTERVAL_S) * INTERVAL_S


def ms(seconds: float | None) -> int:
    """Seconds as whole milliseconds (the rollups' unit)."""
    return round(seconds * 1000) if seconds is not None else 0


def effective(attempts: Iterable[QueueAttempt]) -> list[QueueAttempt]:
    """The attempts of one call from its best source (AMI, else queue_log), by attempt number."""
    rows = list(attempts)
    for source in SOURCE_PRIORITY:
        chosen = [a for a in rows if a.source == source]
        if chosen:
            return sorted(chosen, key=lambda a: a.attempt)
    return sorted(rows, key=lambda a: a.attempt)


def contribution(
    attempts: Iterable[QueueAttempt], thresholds: Thresholds
) -> tuple[dict[RowKey, Vector], dict[RowKey, int]]:
    """The sums and the longest waits (ms) one call's attempts (all sources) put into the rollups."""
    sums: dict[RowKey, Vector] = {}
    longest: dict[RowKey, int] = {}
    chosen = effective(attempts)
    if not chosen:
        return sums, longest

    def row(key: RowKey) -> Vector:
        vector = sums.get(key)
        if vector is None:
            vector = sums[key] = [0] * WIDTH
        return vector

    # Calls: once, in the queue row of the first attempt, with the outcome of the whole call.
    first = chosen[0]
    deciding = next((a for a in chosen if a.outcome == facts.ANSWERED), chosen[-1])
    call_row = row((first.pbx, first.queue, NO_AGENT, interval_of(first.entered_at)))
    call_row[_I["offered"]] += 1
    call_row[_CALL_OUTCOME.get(deciding.outcome, _I["waiting"])] += 1
    if _short_abandon(deciding, thresholds):
        call_row[_I["short_abandoned"]] += 1

    for attempt in chosen:
        start = interval_of(attempt.entered_at)
        keys = [(attempt.pbx, attempt.queue, NO_AGENT, start)]
        if attempt.outcome == facts.ANSWERED and attempt.agent:
            keys.append((attempt.pbx, attempt.queue, attempt.agent, start))
        for key in keys:
            _add_attempt(row(key), attempt, thresholds)
            if attempt.wait_s is not None:
                longest[key] = max(longest.get(key, -1), ms(attempt.wait_s))
    _add_totals(sums, longest)
    return sums, longest


def _add_totals(sums: dict[RowKey, Vector], longest: dict[RowKey, int]) -> None:
    """Add each queue row into its PBX's total row and into the grand total row."""
    for (pbx, queue, agent, start), vector in list(sums.items()):
        if agent != NO_AGENT:
            continue
        for total in ((pbx, ALL, NO_AGENT, start), (ALL, ALL, NO_AGENT, start)):
            known = sums.get(total)
            if known is None:
                sums[total] = list(vector)
            else:
                for i, value in enumerate(vector):
                    known[i] += value
            wait = longest.get((pbx, queue, agent, start))
            if wait is not None:
                longest[total] = max(longest.get(total, -1), wait)


def _short_abandon(attempt: QueueAttempt, thresholds: Thresholds) -> bool:
    return (
        attempt.outcome == facts.ABANDONED
        and attempt.wait_s is not None
        and attempt.wait_s <= thresholds.short_abandon_s
    )


def _add_attempt(vector: Vector, attempt: QueueAttempt, thresholds: Thresholds) -> None:
    """The per-attempt columns: outcome counted per attempt, and the ACD-call measures."""
    vector[_I["attempts_offered"]] += 1
    vector[_ATTEMPT_OUTCOME.get(attempt.outcome, _I["attempts_waiting"])] += 1
    if _short_abandon(attempt, thresholds):
        vector[_I["attempts_short_abandoned"]] += 1
    if attempt.completed_by == facts.BY_TRANSFER:
        vector[_I["transfers"]] += 1
    vector[_I["ring_no_answer"]] += attempt.ring_no_answer
    if attempt.outcome != facts.ANSWERED:
        return
    if attempt.wait_s is not None:
        vector[_I["answered_waits"]] += 1
        vector[_I["wait_sum_answered_ms"]] += ms(attempt.wait_s)
        if attempt.wait_s <= thresholds.service_level_s:
            vector[_I["answered_within_sl"]] += 1
    if attempt.handle_s is not None:  # only ended ACD calls count in AHT, talk and hold
        handle, hold = ms(attempt.handle_s), ms(attempt.hold_s)
        vector[_I["acd_calls"]] += 1
        vector[_I["handle_sum_ms"]] += handle
        vector[_I["hold_sum_ms"]] += hold
        vector[_I["talk_sum_ms"]] += handle - hold
        if attempt.hold_s is None:
            vector[_I["hold_unknown"]] += 1


def difference(new: Mapping[RowKey, Vector], old: Mapping[RowKey, Vector]) -> dict[RowKey, Vector]:
    """``new - old`` per row, leaving out the rows where nothing changed."""
    delta: dict[RowKey, Vector] = {}
    for key in new.keys() | old.keys():
        after, before = new.get(key), old.get(key)
        if after is None:
            assert before is not None
            change = [-v for v in before]
        elif before is None:
            change = list(after)
        else:
            change = [a - b for a, b in zip(after, before, strict=True)]
        if any(change):
            delta[key] = change
    return delta


def add_into(total: dict[RowKey, Vector], more: Mapping[RowKey, Vector]) -> None:
    """``total += more``, row by row."""
    for key, vector in more.items():
        known = total.get(key)
        if known is None:
            total[key] = list(vector)
        else:
            for i, value in enumerate(vector):
                known[i] += value


def as_attempt(row: object) -> QueueAttempt:
    """A QueueAttempt from a stored row (mapping) or any QueueAttempt-like object."""
    if isinstance(row, QueueAttempt):
        return row
    if isinstance(row, Mapping):
        return QueueAttempt(**{name: row[name] for name in QueueAttempt.__slots__})
    return QueueAttempt(**{name: getattr(row, name) for name in QueueAttempt.__slots__})


__all__ = [
    "ATTEMPT_COUNTS",
    "CALL_COUNTS",
    "RowKey",
    "Thresholds",
    "Vector",
    "add_into",
    "as_attempt",
    "contribution",
    "difference",
    "effective",
    "interval_of",
    "ms",
]
