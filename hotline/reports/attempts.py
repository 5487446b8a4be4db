"""The KPIs of a window from the raw attempts, figure for figure what the rollups give.

:func:`hotline.kpi.report.build_report` over the attempts that entered in the window is right
inside the window; at its edges and in its durations two details need care, so that the store's
two paths (:mod:`hotline.reports.kpis`) print the same digits:

- **Calls at the window's edges.** A call is offered in the interval of its *first* attempt, with
  the outcome of the *whole* call (:mod:`hotline.kpi.definitions`). A call transferred across the
  window's start has its first attempt outside: it is not offered in the window, though its second
  attempt's handling is measured there. One whose first attempt is inside but whose later attempt
  is past the window's end takes that attempt's outcome. So the attempts of the window's calls are
  read with a margin of :data:`CALL_SPAN_S` on each side, and the call counts (offered, answered,
  abandoned, ..., SCR) are taken over whole calls; the measures stay those of the window's attempts.
- **Durations in milliseconds.** The rollups keep durations as integer milliseconds (they are
  updated by adding and subtracting, which must stay exact); AMI hold times carry microseconds.
  Summed as floats, a hold total of 35.85 s may print 35.8 on one path and 35.9 on the other, so
  AHT, talk, hold, ASA and the longest wait are summed here in whole milliseconds, with the
  arithmetic of :func:`hotline.rollup.query.summary_of`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi import facts
from hotline.kpi.definitions import BY_SITE, CALL_FIELDS, PER_CALL, group_attempts, summarize
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import interval_start, iso
from hotline.kpi.report import Figures, KpiReport, ReportOptions, build_report
from hotline.reports.facts import prefer_ami
from hotline.rollup.contrib import ms
from hotline.store import repo

CALL_SPAN_S: Final = 6 * 3600
"""Longer than any call lasts from its first queue to its last (the live projector forgets a call
2 h after its last event)."""
DURATIONS: Final = ("aht", "talk_total", "hold_total", "asa", "longest_wait")
_EMPTY: Final = summarize([])
CallKey = tuple[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class WindowAttempts:
    """The attempts that entered in the window, and every attempt of the calls they belong to."""

    inside: list[QueueAttempt]
    calls: dict[CallKey, list[QueueAttempt]]


def _inside(attempt: QueueAttempt, since: float | None, until: float | None) -> bool:
    return (since is None or attempt.entered_at >= since) and (until is None or attempt.entered_at < until)


async def load_window(
    engine: AsyncEngine, since: float | None, until: float | None, pbx: str | None = None
) -> WindowAttempts:
    """The window's attempts with their calls, one source per call (AMI first, as the rollups)."""
    rows = await repo.load_attempts(
        engine,
        since=None if since is None else since - CALL_SPAN_S,
        until=None if until is None else until + CALL_SPAN_S,
        pbx=pbx,
    )
    attempts = prefer_ami([QueueAttempt(**row) for row in rows])
    inside = [a for a in attempts if _inside(a, since, until)]
    wanted = {(a.pbx, a.call_id) for a in inside}
    calls: dict[CallKey, list[QueueAttempt]] = defaultdict(list)
    for attempt in attempts:
        if (attempt.pbx, attempt.call_id) in wanted:
            calls[(attempt.pbx, attempt.call_id)].append(attempt)
    return WindowAttempts(inside, dict(calls))


def window_report(window: WindowAttempts, options: ReportOptions) -> KpiReport:
    """The report of ``options`` over the window (see the module docstring). CPU only."""
    report = build_report(window.inside, options)
    labels: dict[int, str] = {}

    def label(attempt: QueueAttempt) -> str:
        # One conversion per UTC minute, as the report's own interval clock does.
        minute = int(attempt.entered_at // 60)
        if minute not in labels:
            assert options.interval is not None
            labels[minute] = iso(interval_start(minute * 60, options.interval, options.tz), options.tz)
        return labels[minute]

    # Whole calls whose first attempt entered in the window: the ones it offers.
    offered = [
        sorted(call, key=lambda a: a.attempt)
        for call in window.calls.values()
        if _inside(min(call, key=lambda a: a.attempt), options.since, options.until)
    ]
    _fix(report.overall, window.inside, offered, options)
    _fix_intervals(report.intervals, window.inside, offered, options, label)
    if report.groups is None or options.by is None:
        return report
    groups, _ = group_attempts(window.inside, options.by, site_of=options.site_of)
    offered_in: dict[str, list[list[QueueAttempt]]] = defaultdict(list)
    if options.by == BY_SITE:
        for call in offered:
            offered_in[options.site_of(call[0].pbx)].append(call)
    for name, figures in report.groups.items():
        calls = offered_in.get(name, []) if options.by == BY_SITE else None
        _fix(figures, groups.get(name, []), calls, options)
        intervals = report.group_intervals.get(name)
        _fix_intervals(intervals, groups.get(name, []), calls, options, label)
    return report


def _fix(
    figures: Figures,
    measured: list[QueueAttempt],
    calls: list[list[QueueAttempt]] | None,
    options: ReportOptions,
) -> None:
    figures.update(durations(measured))
    if calls is not None:
        rows = [a for call in calls for a in call]
        counted = summarize(
            rows,
            service_level_s=options.service_level_s,
            short_abandon_s=options.short_abandon_s,
            unit=PER_CALL,
        ).as_dict()
        figures.update({name: counted[name] for name in CALL_FIELDS})


def _fix_intervals(
    intervals: list[Figures] | None,
    measured: list[QueueAttempt],
    calls: list[list[QueueAttempt]] | None,
    options: ReportOptions,
    label: Callable[[QueueAttempt], str],
) -> None:
    if intervals is None:
        return
    measured_in: dict[str, list[QueueAttempt]] = defaultdict(list)
    for attempt in measured:  # every duration is measured in its own attempt's interval
        measured_in[label(attempt)].append(attempt)
    offered_in: dict[str, list[list[QueueAttempt]]] = defaultdict(list)
    for call in calls or ():
        offered_in[label(call[0])].append(call)  # a call is offered in its first attempt's interval
    for figures in intervals:
        start = figures["start"]
        _fix(
            figures,
            measured_in.get(start, []),
            offered_in.get(start, []) if calls is not None else None,
            options,
        )


def durations(rows: list[QueueAttempt]) -> dict[str, Any]:
    """AHT, talk, hold, ASA and longest wait of ``rows`` from whole milliseconds, rounded as
    :meth:`hotline.kpi.definitions.KpiSummary.as_dict` rounds them."""
    handle = hold = acd = waits = wait_sum = 0
    longest = -1
    hold_known = True
    for attempt in rows:
        if attempt.wait_s is not None:
            longest = max(longest, ms(attempt.wait_s))
        if attempt.outcome != facts.ANSWERED:
            continue
        if attempt.wait_s is not None:
            waits += 1
            wait_sum += ms(attempt.wait_s)
        if attempt.handle_s is not None:  # only ended ACD calls count in AHT, talk and hold
            acd += 1
            handle += ms(attempt.handle_s)
            hold += ms(attempt.hold_s)
            hold_known = hold_known and attempt.hold_s is not None
    exact = dataclasses.replace(
        _EMPTY,
        aht=handle / 1000 / acd if acd else None,
        talk_total=(handle - hold) / 1000 if hold_known else None,
        hold_total=hold / 1000 if hold_known else None,
        asa=wait_sum / 1000 / waits if waits else None,
        longest_wait=longest / 1000 if longest >= 0 else None,
    )
    figures = exact.as_dict()
    return {name: figures[name] for name in DURATIONS}
