"""After every AMI (re)connect: complete the calls that ended while the link was down.

The AMI client hands a :class:`~hotline.ami.actions.ResyncSnapshot` to ``on_resync`` after each
login (also the first after a restart, once the projector was warmed up from the event log).
:meth:`GapFiller.resync` then

1. waits until the events read so far are projected (so an end AMI did report is not missed),
2. takes the attempts the projector still holds open whose caller channel is not in the
   snapshot's CoreShowChannels: they ended during the gap (:mod:`hotline.kpi.gap`),
3. reads the tail of the PBX's queue_log covering them (``queue_log_path``, rotations included,
   :mod:`hotline.logtail`), else of its CDR CSV (``cdr_csv_path``), and completes what it can,
4. appends each completion to the durable event log as a synthetic ``HotlineGapCompletion``
   event (connection 0, which no AMI connection uses), which the projector applies like any
   event: the attempt and the KPI rollups are written by the usual path, and ``hotline rebuild``
   reproduces them,
5. keeps the rest as *unresolved*: counted on /metrics (``hotline_gap_unresolved``), shown on
   /health, logged; retried every ``retry_interval`` seconds (a file may appear or be flushed
   late) and at the next resync, until the projector forgets the call (2 h after its last event).

It also adds the attempts AMI never saw (:mod:`hotline.kpi.gap_unseen`): the gap's window runs
from the last event the old connection delivered (:mod:`hotline.gap_window`: the event log's
committed batches, else the ``ami_event`` table when an engine is given, which covers a restart
of hotline; with neither, e.g. the first start ever, there is no gap to scan) to the snapshot,
at most :data:`MAX_WINDOW_S`. Every attempt that entered a queue in it and is no attempt the
projector or the store knows (the call's AMI attempts; a call the store holds only from
``hotline ingest --queue-log`` is counted from there already) is written as a synthetic
``HotlineGapAttempt`` event: read from queue_log when one is configured, else from the CDR. A
window stays pending and is scanned again on retry while its file is unreadable or an attempt in
it has no end yet although its caller is gone; the scan adds nothing twice (what it wrote is
remembered per window, should the event log not have projected it by the next scan). A witness
that fails (the database is down at the reconnect) counts as no answer: the calls that ended are
completed all the same, the gap's end falls back to the snapshot (put on the PBX's clock), and a
gap whose beginning no witness could tell is asked for again on retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.actions import ResyncSnapshot
from hotline.ami.dispatch import PbxEvent
from hotline.ami.protocol import Event
from hotline.config import ConfigError, PbxConfig
from hotline.gap_window import SYNTHETIC_CONNECTION, GapWitness, Heard, LastHeard, StoreWitness
from hotline.kpi import facts, gap, gap_unseen
from hotline.kpi.cdr_csv import CdrRecord, end_of_line, parse_cdr_csv
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_ami import AmiProjector
from hotline.kpi.from_queue_log import parse_queue_log
from hotline.kpi.gap import GapCompletion
from hotline.kpi.gap_unseen import Known, Window
from hotline.logs import get_logger
from hotline.logtail import read_since
from hotline.metrics import Registry
from hotline.periodic import pause_or_stop

log = get_logger("hotline.gapfill")

GAP_CONNECTION: Final = SYNTHETIC_CONNECTION
"""The connection number of synthetic events in the event log: AMI connections count from 1."""
MAX_WINDOW_S: Final = 24 * 3600.0
"""The longest gap scanned for attempts AMI never saw (older calls: ``hotline ingest --queue-log``)."""
WINDOW_PENDING_S: Final = 2 * 3600.0
"""How long a window whose file is unreadable or unfinished is scanned again, after its end."""
RETRY_INTERVAL_S: Final = 30.0
SETTLE_TIMEOUT_S: Final = 10.0
"""How long a pass waits for the event log to commit (and project) what it holds."""
CDR_WRITE_SLACK_S: Final = 3600.0
"""cdr_csv writes a call's records together when the caller's channel ends, so a record's end can
precede its place in the file by the rest of the call: the CDR tail is read this much further back."""
_LOGGED_CALLS: Final = 20

AttemptKey = tuple[str, str, int]
WrittenKey = tuple[str, str, float]
"""(call id, queue, entry) of a whole attempt written for a window."""


class EventLogLike(Protocol):
    def append(self, pbx_event: PbxEvent) -> None: ...

    async def flush(self) -> None: ...


@dataclass(frozen=True, slots=True)
class GapSources:
    """The files of one PBX that a gap can be completed from."""

    queue_log: Path | None = None
    cdr_csv: Path | None = None
    cdr_zone: tzinfo | None = None
    """None: the host's local time."""

    @classmethod
    def of(cls, pbx: PbxConfig) -> GapSources:
        """From the ``[[pbx]]`` keys; ConfigError for a time zone that does not exist."""
        zone: tzinfo | None = None
        if pbx.cdr_timezone:
            try:
                zone = ZoneInfo(pbx.cdr_timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"[[pbx]] {pbx.name}: cdr_timezone {pbx.cdr_timezone!r} is not a known time zone"
                ) from None
        return cls(
            queue_log=Path(pbx.queue_log_path) if pbx.queue_log_path else None,
            cdr_csv=Path(pbx.cdr_csv_path) if pbx.cdr_csv_path else None,
            cdr_zone=zone,
        )

    @property
    def any(self) -> bool:
        return self.queue_log is not None or self.cdr_csv is not None


@dataclass(slots=True)
class Found:
    """What one reading of the files gave."""

    completions: list[GapCompletion] = field(default_factory=list)
    logged: list[QueueAttempt] | None = None
    """The queue_log's attempts read (None: no queue_log read)."""
    cdr: list[CdrRecord] | None = None
    """The CDR records read (None: no CDR read)."""
    malformed_lines: int = 0
    problems: list[str] = field(default_factory=list)
    """Files that could not be read, why (for the log)."""


@dataclass(frozen=True, slots=True)
class GapReport:
    """One pass over one PBX: how many attempts had ended in the gap, and what became of them."""

    pbx: str
    ended: int
    completed: dict[str, int]
    """By file kind (queue_log, cdr)."""
    unresolved: list[str]
    """Call ids still open."""
    added: dict[str, int] = field(default_factory=dict)
    """Attempts AMI never saw, added by file kind (queue_log, cdr)."""


def queue_log_time(line: str) -> float | None:
    """The epoch a queue_log line starts with, or None."""
    try:
        value = float(line.split("|", 1)[0])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def find_completions(
    ended: Sequence[QueueAttempt],
    sources: GapSources,
    agent_names: dict[str, str],
    window: Window | None = None,
    *,
    pbx: str,
) -> Found:
    """Read the files' tails covering ``ended`` and ``window``; complete ``ended`` (blocking IO).

    The attempts AMI never saw are decided later (that needs the store): the queue_log's attempts
    and the CDR records read are kept in ``logged`` and ``cdr``. The CDR is read for the window
    only when the PBX has no queue_log.
    """
    found = Found()
    starts = [a.entered_at for a in ended] + ([window.since] if window is not None else [])
    if not starts:
        return found
    since = min(starts) - gap.ENTRY_SLACK_S - 1.0
    todo = {a.key: a for a in ended}
    if sources.queue_log is not None:
        try:
            tail = read_since(sources.queue_log, since, queue_log_time)
        except OSError as exc:
            found.problems.append(f"queue_log {sources.queue_log}: {exc.strerror or exc}")
        else:
            if not tail.files:
                found.problems.append(f"queue_log {sources.queue_log}: not found")
            parsed = parse_queue_log(tail.lines, pbx=pbx)
            found.malformed_lines += len(parsed.errors)
            found.logged = parsed.attempts if tail.files else None
            for key, attempt in list(todo.items()):
                completion = gap.from_queue_log(attempt, parsed.attempts)
                if completion is not None:
                    found.completions.append(completion)
                    del todo[key]
    window_from_cdr = window is not None and sources.queue_log is None
    if (todo or window_from_cdr) and sources.cdr_csv is not None:
        zone = sources.cdr_zone
        try:
            tail = read_since(
                sources.cdr_csv, since - CDR_WRITE_SLACK_S, lambda line: end_of_line(line, zone)
            )
        except OSError as exc:
            found.problems.append(f"CDR {sources.cdr_csv}: {exc.strerror or exc}")
        else:
            if not tail.files:
                found.problems.append(f"CDR {sources.cdr_csv}: not found")
            records = parse_cdr_csv(tail.lines, zone)
            found.malformed_lines += len(records.errors)
            found.cdr = records.records if tail.files else None
            for key, attempt in list(todo.items()):
                completion = gap.from_cdr(attempt, records.records, agent_names)
                if completion is not None:
                    found.completions.append(completion)
                    del todo[key]
    return found


class GapFiller:
    """Completes the attempts of calls that ended while an AMI link was down (module docstring)."""

    def __init__(
        self,
        pbxs: Iterable[PbxConfig],
        projector: AmiProjector,
        eventlog: EventLogLike,
        *,
        clock: Callable[[], float] = time.time,
        retry_interval: float = RETRY_INTERVAL_S,
        settle_timeout: float = SETTLE_TIMEOUT_S,
        engine: AsyncEngine | None = None,
    ) -> None:
        """``engine``: the store, asked where a gap began after a restart and what it holds of the
        calls in a gap (:class:`~hotline.gap_window.StoreWitness`); without it only the event log's
        batches since start tell (``eventlog.add_listener``, when it has one)."""
        self.sources = {pbx.name: GapSources.of(pbx) for pbx in pbxs}
        self._heard = LastHeard()
        listen: Any = getattr(eventlog, "add_listener", None)
        if callable(listen):
            listen(self._heard.observe)
        self._session = str(getattr(eventlog, "session", ""))
        self._witnesses: list[GapWitness] = [self._heard]
        if engine is not None:
            self._witnesses.append(StoreWitness(engine))
        self._projector = projector
        self._eventlog = eventlog
        self._clock = clock
        self.retry_interval = retry_interval
        self._settle_timeout = settle_timeout
        self._seq = itertools.count(1)
        self._lock = asyncio.Lock()
        self._agent_names: dict[str, dict[str, str]] = {}
        self._unresolved: dict[str, dict[AttemptKey, QueueAttempt]] = {}
        self._windows: dict[str, Window] = {}
        """Per PBX, the gap still to be scanned for attempts AMI never saw."""
        self._window_ends: dict[str, float] = {}
        """Per PBX, when (hotline's clock) that gap ended."""
        self._live: dict[str, set[str]] = {}
        """Per PBX, the caller channels Asterisk listed at the last resync."""
        self._closed = False
        """Set by :meth:`close`: no more passes."""
        self._unopened: dict[str, ResyncSnapshot] = {}
        """Per PBX, a resync whose gap no witness could place (one failed): asked again on retry."""
        self._written: dict[str, set[WrittenKey]] = {}
        """Per PBX, the whole attempts already written for its pending window."""
        self.completed_total: Counter[tuple[str, str]] = Counter()
        """(pbx, queue_log | cdr) -> attempts completed since start."""
        self.added_total: Counter[tuple[str, str]] = Counter()
        """(pbx, queue_log | cdr) -> attempts AMI never saw, added since start."""
        self.last_report: dict[str, GapReport] = {}
        """The latest pass of each PBX (resync or retry)."""
        self.passes: Counter[str] = Counter()
        """Finished passes per PBX."""

    # -- what operators see -----------------------------------------------------------------------

    def unresolved(self, pbx: str) -> int:
        return len(self._unresolved.get(pbx, {}))

    def register_metrics(self, registry: Registry) -> None:
        registry.counter_func(
            "hotline_gap_completions_total",
            "Queue attempts that ended while the AMI link was down, completed from queue_log or CDR",
            lambda: {key: float(n) for key, n in self.completed_total.items()},
            ("pbx", "source"),
        )
        registry.counter_func(
            "hotline_gap_attempts_added_total",
            "Queue attempts AMI never saw (in a queue only while the link was down), added from a file",
            lambda: {key: float(n) for key, n in self.added_total.items()},
            ("pbx", "source"),
        )
        registry.gauge_func(
            "hotline_gap_unresolved",
            "Queue attempts that ended while the AMI link was down and no file could complete yet",
            lambda: {name: float(self.unresolved(name)) for name in self.sources},
            ("pbx",),
        )

    # -- passes -----------------------------------------------------------------------------------

    async def close(self) -> None:
        """Wait for the pass in progress and take no more: the service stops.

        Called before the AMI links stop, so a resync's store reads are never cut off by the
        cancellation of the link's task (that can leave a pooled connection neither returned nor
        closed); a resync that comes later finds the filler closed and does nothing.
        """
        async with self._lock:
            self._closed = True

    def reopen(self) -> None:
        """Take passes again (the service starts again after :meth:`close`)."""
        self._closed = False

    async def resync(self, snapshot: ResyncSnapshot) -> GapReport:
        """One pass after a (re)connect of ``snapshot.pbx`` (see the module docstring)."""
        async with self._lock:
            if self._closed:
                return GapReport(snapshot.pbx, 0, {}, [])
            await self._settle()
            live = {uid for channel in snapshot.channels if (uid := channel.get("Uniqueid"))}
            self._live[snapshot.pbx] = live
            names = self._agent_names.setdefault(snapshot.pbx, {})
            names.update(gap.agent_names(snapshot.queue_members))
            await self._open_window(snapshot)
            ended = gap.ended_during_gap(self._projector.open_attempts(snapshot.pbx), live)
            return await self._complete(snapshot.pbx, ended)

    async def retry(self) -> list[GapReport]:
        """Try the unresolved attempts again (their channels were already gone)."""
        reports: list[GapReport] = []
        async with self._lock:
            if self._closed:
                return reports
            for snapshot in list(self._unopened.values()):
                await self._open_window(snapshot)
            for pbx in sorted(self._unresolved.keys() | self._windows.keys()):
                waiting = self._unresolved.get(pbx, {})
                if not waiting and pbx not in self._windows:
                    continue
                still = [a for a in self._projector.open_attempts(pbx) if a.key in waiting]
                forgotten = len(waiting) - len(still)
                if forgotten:
                    log.warning(
                        "calls that ended during an AMI gap were never completed; left open",
                        pbx=pbx,
                        attempts=forgotten,
                    )
                reports.append(await self._complete(pbx, still))
        return reports

    async def run_retries(self, stopping: asyncio.Event | None = None) -> None:
        """Retry until ``stopping`` is set (a task of the running service, which sets it rather
        than cancel a pass that may be reading the store); one failed pass does not stop the next."""
        while not await pause_or_stop(stopping, self.retry_interval):
            try:
                await self.retry()
            except Exception as exc:
                log.error("retrying AMI gap completion failed", error=f"{type(exc).__name__}: {exc}")

    async def _complete(self, pbx: str, ended: list[QueueAttempt]) -> GapReport:
        report = await self._pass(pbx, ended)
        self.last_report[pbx] = report
        self.passes[pbx] += 1
        return report

    async def _pass(self, pbx: str, ended: list[QueueAttempt]) -> GapReport:
        previous = self._unresolved.get(pbx, {})
        window = self._windows.get(pbx)
        if not ended and window is None:
            self._unresolved[pbx] = {}
            return GapReport(pbx, 0, {}, [])
        sources = self.sources.get(pbx, GapSources())
        names = dict(self._agent_names.get(pbx, {}))
        found = await asyncio.to_thread(find_completions, ended, sources, names, window, pbx=pbx)
        unseen = await self._unseen(pbx, found, window, sources, names) if window is not None else []
        now = self._clock()
        completed: Counter[str] = Counter()
        added: Counter[str] = Counter()
        for completion in [*found.completions, *unseen]:
            headers = gap.to_headers(completion, now)
            self._eventlog.append(PbxEvent(pbx, GAP_CONNECTION, next(self._seq), now, Event(headers)))
            if completion.whole:
                added[completion.completed_from] += 1
                self.added_total[(pbx, completion.completed_from)] += 1
            else:
                completed[completion.completed_from] += 1
                self.completed_total[(pbx, completion.completed_from)] += 1
        done = {c.key for c in found.completions}
        left = {a.key: a for a in ended if a.key not in done}
        self._unresolved[pbx] = left
        report = GapReport(pbx, len(ended), dict(completed), sorted({key[1] for key in left}), dict(added))
        self._log(report, found, sources, new=bool(left.keys() - previous.keys()))
        if found.completions or unseen:
            await self._settle()  # projected before the pass returns: the next pass sees them closed
        return report

    # -- attempts AMI never saw -------------------------------------------------------------------

    async def _open_window(self, snapshot: ResyncSnapshot) -> None:
        """The gap this (re)connect ends, on the PBX's clock (queue_log's): from the last event of
        an earlier connection to the first of this one (else the snapshot, put on that clock)."""
        pbx = snapshot.pbx
        current = (self._session, snapshot.connection)
        failed = False
        heard: Heard | None = None
        for witness in self._witnesses:
            try:
                heard = await witness.last_heard(pbx, current)
            except Exception as exc:
                failed = True
                log.warning("AMI gap: cannot tell where the gap began", pbx=pbx, error=_describe(exc))
                continue
            if heard is not None:
                break
        if heard is None:
            self._unopened.pop(pbx, None)
            if failed:  # a gap may be there: asked again on retry, unless too long ago
                if self._clock() - snapshot.at <= WINDOW_PENDING_S:
                    self._unopened[pbx] = snapshot
                else:
                    log.warning(
                        "AMI gap: where it began stayed unknown; calls AMI never saw are not added "
                        "(hotline ingest --queue-log)",
                        pbx=pbx,
                    )
            return
        self._unopened.pop(pbx, None)
        resumed = None
        for witness in self._witnesses:
            try:
                resumed = await witness.first_heard(pbx, current)
            except Exception as exc:  # the snapshot's time stands in
                log.warning("AMI gap: cannot tell where the gap ended", pbx=pbx, error=_describe(exc))
                continue
            if resumed is not None:
                break
        since, until = heard.at, resumed if resumed is not None else snapshot.at + heard.offset
        if since >= until:
            return
        if until - since > MAX_WINDOW_S:
            log.warning(
                "AMI gap longer than is scanned for calls AMI never saw; import the rest with "
                "hotline ingest --queue-log",
                pbx=pbx,
                gap_s=round(until - since),
                scanned_s=MAX_WINDOW_S,
            )
            since = until - MAX_WINDOW_S
        pending = self._windows.get(pbx)
        if pending is not None:  # an earlier gap not finished yet: scan both at once
            since = min(since, pending.since)
        self._windows[pbx] = Window(since, until)
        self._window_ends[pbx] = snapshot.at

    async def _unseen(
        self, pbx: str, found: Found, window: Window, sources: GapSources, names: dict[str, str]
    ) -> list[GapCompletion]:
        """The whole attempts to add for ``window``; the window is closed once fully read."""
        if sources.queue_log is None and sources.cdr_csv is None:
            self._close_window(pbx)  # nothing to read from, ever
            return []
        if sources.queue_log is not None:
            entries = {a.call_id for a in found.logged or () if window.holds(a.entered_at)}
        else:  # the calls of every stay from_cdr may take
            entries = {r.uniqueid for r in found.cdr or () if r.queue is not None and window.closes(r.end)}
        try:
            known, elsewhere = await self._known(pbx, entries)
        except Exception as exc:  # the store is down: scan again on the next retry
            log.warning("AMI gap: cannot ask the store which calls it holds", pbx=pbx, error=str(exc))
            return self._keep_pending(pbx, window, [])
        if sources.queue_log is not None:
            if found.logged is None:
                return self._keep_pending(pbx, window, [])
            logged = [a for a in found.logged if a.call_id not in elsewhere]
            unseen = gap_unseen.from_queue_log(logged, known, window)
        else:
            if found.cdr is None:
                return self._keep_pending(pbx, window, [])
            records = [r for r in found.cdr if r.uniqueid not in elsewhere]
            unseen = gap_unseen.from_cdr(pbx, records, known, window, names)
        fresh = self._not_written(pbx, unseen.attempts)
        live = self._live.get(pbx, set())
        waiting = [call_id for call_id in unseen.unfinished if call_id not in live]
        if waiting:  # ended (the caller is gone) but not written yet: read again later
            return self._keep_pending(pbx, window, fresh, waiting)
        self._close_window(pbx)
        return fresh

    def _not_written(self, pbx: str, attempts: list[GapCompletion]) -> list[GapCompletion]:
        """Those of ``attempts`` not written yet for the window, which now are: a scan again of a
        pending window meets the ones it wrote before unknown if the event log has not projected
        them yet (its flush timed out)."""
        written = self._written.setdefault(pbx, set())
        fresh = [c for c in attempts if _written_key(c) not in written]
        written.update(_written_key(c) for c in fresh)
        return fresh

    def _close_window(self, pbx: str) -> None:
        del self._windows[pbx]
        self._written.pop(pbx, None)

    def _keep_pending(
        self, pbx: str, window: Window, attempts: list[GapCompletion], waiting: Sequence[str] = ()
    ) -> list[GapCompletion]:
        if self._clock() - self._window_ends.get(pbx, window.until) > WINDOW_PENDING_S:
            log.warning(
                "AMI gap: calls AMI never saw could not all be read; given up (hotline ingest --queue-log)",
                pbx=pbx,
                call_ids=list(waiting)[:_LOGGED_CALLS],
            )
            self._close_window(pbx)
        return attempts

    async def _known(self, pbx: str, call_ids: set[str]) -> tuple[Known, set[str]]:
        """The AMI attempts the projector and the store hold of ``call_ids``, and the calls the
        store holds from another source only (already counted from there)."""
        stored: dict[str, list[QueueAttempt]] = {}
        if call_ids:
            for witness in self._witnesses:
                stored.update(await witness.stored_attempts(pbx, call_ids))
        known: dict[str, list[QueueAttempt]] = {}
        elsewhere: set[str] = set()
        for call_id in call_ids:
            held = {a.attempt: a for a in stored.get(call_id, ()) if a.source == facts.SOURCE_AMI}
            held.update((a.attempt, a) for a in self._projector.attempts_of(pbx, call_id))
            if held:
                known[call_id] = list(held.values())
            elif stored.get(call_id):
                elsewhere.add(call_id)
        return known, elsewhere

    def _log(self, report: GapReport, found: Found, sources: GapSources, *, new: bool) -> None:
        for problem in found.problems:
            log.warning(
                "AMI gap: a file to complete calls from is unreadable", pbx=report.pbx, problem=problem
            )
        if found.malformed_lines:
            log.warning("AMI gap: malformed lines skipped", pbx=report.pbx, lines=found.malformed_lines)
        if report.added:
            log.info(
                "calls AMI never saw (in a queue only while the link was down) added",
                pbx=report.pbx,
                **{f"from_{kind}": n for kind, n in report.added.items()},
            )
        if report.completed:
            log.info(
                "calls that ended while the AMI link was down completed",
                pbx=report.pbx,
                ended=report.ended,
                **{f"from_{kind}": n for kind, n in report.completed.items()},
            )
        if report.unresolved and new:
            log.warning(
                "calls that ended while the AMI link was down cannot be completed yet; kept open, retried",
                pbx=report.pbx,
                unresolved=len(report.unresolved),
                call_ids=report.unresolved[:_LOGGED_CALLS],
                sources="configured, no line yet" if sources.any else "none (queue_log_path, cdr_csv_path)",
            )

    async def _settle(self) -> None:
        with contextlib.suppress(TimeoutError, RuntimeError):
            async with asyncio.timeout(self._settle_timeout):
                await self._eventlog.flush()


def _written_key(completion: GapCompletion) -> WrittenKey:
    return (completion.call_id, completion.queue, completion.entered_at or 0.0)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
