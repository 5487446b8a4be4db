"""Marking agents whose spans changed, in the transaction that changes them (the hot path).

:func:`mark_changed` runs before the spans it is given are written, as one ``INSERT ... SELECT``
upsert into ``agent_time_dirty``: per (pbx, agent), the earliest moment whose time may now
differ, the MIN of

- each written span's new start and, when it replaces a row, the old row's start (a call span
  may move; a deleted row has only its old start);
- for an AMI login or pause, the start of any queue_log span of the same kind straddling its
  earlier (old or new) start: a queue_log span counts, whole, only where no AMI span overlaps it
  (:func:`hotline.kpi.agent_spans.prefer_ami`), so an AMI span decides whether that earlier
  queue_log span counts at all;
- for an AMI call that appears (a new row) or goes (a delete of a row there), the start of each
  queue_log call of the same (pbx, ref), under the agent that call names (maybe another name): a
  queue_log call counts only while AMI has no call of its ``ref``, and its copy may start
  earlier (queue_log's whole seconds) or be filed under another name. A call rewritten in place
  changes nothing for its copies.

An existing mark keeps the lower ``since`` and gets a new ``version`` (see
:mod:`hotline.rollup.agent_time`).

It runs for every batch of the pipeline, so the database is asked only what Python cannot know:

- a login's or pause's ``ref`` is its start second (:func:`hotline.kpi.agent_spans.session_ref`),
  so a row it replaces started when it does: no lookup of the old row;
- only a call span or a deleted row needs the old row's start (a primary-key probe of
  ``agent_session``), only an AMI login or pause the queue_log straddle probe, and only an AMI
  call appearing or going the probe of queue_log's copies (the key's (pbx, source, kind) range);
- what needs neither is reduced to one row per (pbx, agent), and the AMI logins and pauses to one
  per (pbx, agent, kind) at their earliest start: the straddling span found from an earlier
  moment never starts later than the one found from a later moment.

The statement is one constant text per dialect (rows bound as parameters), so it is never
compiled per batch, and it is one round trip. It begins with INSERT, so Python's sqlite3 runs it
in the caller's transaction, and it upserts the marks in (pbx, agent) order, the order
:func:`hotline.rollup.agent_time.refresh` deletes them in.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.kpi import facts
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, session_ref

ChangedRow = tuple[str, str, str, str, str, float | None]
"""(pbx, source, kind, agent, ref, new start or None for a deleted row)."""

Probe = tuple[str, str, str | None, str | None, str | None, float | None, bool]
"""One row of the statement: (pbx, agent, source, kind, ref, start, straddle).

``ref`` is None when the old row need not be looked up (``source``/``kind`` then only serve the
straddle probe); ``start`` is None for a deleted row (the old row's start is used)."""

_SESSIONS: Final = frozenset({LOGIN, PAUSE})


def probes(rows: Sequence[ChangedRow]) -> list[Probe]:
    """The rows the statement needs for ``rows``, each lookup only where its answer can matter."""
    lookups: dict[tuple[str, str, str, str, str], float | None] = {}
    straddles: dict[tuple[str, str, str], float] = {}
    plain: dict[tuple[str, str], float] = {}
    for pbx, source, kind, agent, ref, start in rows:
        if start is None or kind not in _SESSIONS or session_ref(start) != ref or start != int(start):
            key = (pbx, source, kind, agent, ref)
            known = lookups.get(key, start)
            # A delete and an upsert of one key: the upsert's MIN(start, old start) covers both.
            lookups[key] = start if known is None else known if start is None else min(known, start)
        elif source == facts.SOURCE_AMI:
            low = straddles.get((pbx, agent, kind))
            straddles[(pbx, agent, kind)] = start if low is None else min(low, start)
        else:
            low = plain.get((pbx, agent))
            plain[(pbx, agent)] = start if low is None else min(low, start)
    needed: list[Probe] = [
        (pbx, agent, source, kind, ref, start, source == facts.SOURCE_AMI and kind in _SESSIONS)
        for (pbx, source, kind, agent, ref), start in lookups.items()
    ]
    needed += [
        (pbx, agent, facts.SOURCE_AMI, kind, None, start, True)
        for (pbx, agent, kind), start in straddles.items()
    ]
    needed += [(pbx, agent, None, None, None, start, False) for (pbx, agent), start in plain.items()]
    return needed


_COLUMNS: Final = "pbx, agent, source, kind, ref, started_at, straddle"
# Per probe: the earlier of its new start and the old row's (only the old one for a delete;
# none, hence no mark, for a delete of a row that is not there).
_EARLIEST: Final = (
    "CASE WHEN ch.started_at IS NULL OR old.started_at < ch.started_at "
    "THEN old.started_at ELSE ch.started_at END"
)
# ``probed``: each probe with its earliest moment, and whether it makes an AMI call of its
# (pbx, ref) appear (a new row) or go (a delete of a row there).
# "+ 0": the straddle probe walks the key (pbx, source, kind, agent) of one agent's queue_log
# spans, never the index range of every span begun before the moment.
# ORDER BY: the marks are upserted in (pbx, agent) order, the order the refresher deletes them
# in, so two transactions never wait on each other's marks crosswise (PostgreSQL row locks).
_BODY: Final = f"""
probed AS (
    SELECT ch.pbx AS pbx, ch.agent AS agent, ch.kind AS kind, ch.ref AS ref,
        ch.straddle AS straddle, {_EARLIEST} AS earliest,
        ch.source = '{facts.SOURCE_AMI}' AND ch.kind = '{CALL}'
            AND (ch.started_at IS NULL) <> (old.started_at IS NULL) AS toggles
    FROM changed AS ch LEFT JOIN agent_session AS old
        ON old.pbx = ch.pbx AND old.source = ch.source AND old.kind = ch.kind
        AND old.agent = ch.agent AND old.ref = ch.ref
)
SELECT pbx, agent, MIN(since), 1 FROM (
    SELECT c.pbx AS pbx, c.agent AS agent, CASE WHEN c.straddle THEN COALESCE((
        SELECT MIN(other.started_at) FROM agent_session AS other
        WHERE other.pbx = c.pbx AND other.source = '{facts.SOURCE_QUEUE_LOG}' AND other.kind = c.kind
            AND other.agent = c.agent AND other.started_at + 0 < c.earliest
            AND (other.ended_at IS NULL OR other.ended_at > c.earliest)
    ), c.earliest) ELSE c.earliest END AS since
    FROM probed AS c
    UNION ALL
    SELECT copy.pbx, copy.agent, copy.started_at
    FROM probed AS c JOIN agent_session AS copy
        ON copy.pbx = c.pbx AND copy.source = '{facts.SOURCE_QUEUE_LOG}' AND copy.kind = '{CALL}'
        AND copy.ref = c.ref
    WHERE c.toggles
) AS marks
WHERE since IS NOT NULL
GROUP BY pbx, agent
ORDER BY pbx, agent
"""  # noqa: S608 - constant names only
_UPSERT: Final = (
    "ON CONFLICT (pbx, agent) DO UPDATE SET since = {least}(agent_time_dirty.since, excluded.since), "
    "version = agent_time_dirty.version + 1"
)
# INSERT first, the WITH inside it: Python's sqlite3 opens the caller's transaction only before
# a statement beginning with INSERT, UPDATE, DELETE or REPLACE; one beginning with WITH would run
# (and commit) on its own, and a refresh could then clear the mark before the spans are written.
_INSERT: Final = "INSERT INTO agent_time_dirty (pbx, agent, since, version) "
_PG_MARK: Final = (
    f"{_INSERT}WITH changed ({_COLUMNS}) AS (SELECT * FROM unnest("  # noqa: S608 - constant names only
    "$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::boolean[])), "
    f"{_BODY} {_UPSERT.format(least='LEAST')}"
)
"""Every probe in one statement: a column array per parameter."""
_SQLITE_ROWS: Final = 1024
"""Most probes per SQLite statement (7 variables each, far below SQLite's limit)."""


@functools.lru_cache(maxsize=16)
def _sqlite_mark(rows: int) -> str:
    """The statement for ``rows`` probes: a power of two, so a handful of texts that stay prepared."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * rows)
    return f"{_INSERT}WITH changed ({_COLUMNS}) AS (VALUES {values}), {_BODY} {_UPSERT.format(least='MIN')}"


async def mark_changed(connection: AsyncConnection, rows: Sequence[ChangedRow]) -> None:
    """Upsert the dirty marks of ``rows`` (see the module docstring)."""
    needed = probes(rows)
    if not needed:
        return
    if connection.dialect.name == "postgresql":
        columns = tuple(list(column) for column in zip(*needed, strict=True))
        await connection.exec_driver_sql(_PG_MARK, columns)
        return
    for start in range(0, len(needed), _SQLITE_ROWS):
        chunk = needed[start : start + _SQLITE_ROWS]
        size = 1 << (len(chunk) - 1).bit_length()
        # Padded with copies of the last probe: the marks are a MIN per agent, so nothing changes.
        padded: Any = itertools.chain(chunk, itertools.repeat(chunk[-1], size - len(chunk)))
        await connection.exec_driver_sql(_sqlite_mark(size), tuple(itertools.chain.from_iterable(padded)))
