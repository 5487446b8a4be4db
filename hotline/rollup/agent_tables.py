"""The ``agent_session`` table (SQLAlchemy Core; created by migration ``0009_agent_session``).

One row per agent span (:class:`hotline.kpi.agent_spans.AgentSpan`): a login, a pause with its
reason, or an ACD call, per PBX and source (``ami`` live, ``queue_log`` imported). ``ended_at``
is NULL while the span is open. The key names the span within (pbx, source, kind, agent): a
login's or pause's start second, a call's ``call_id#attempt``, so writing a span again replaces
it. Spans are whole seconds; a month of a 67-seat center is some 100,000 rows (mostly calls).

It is a projection like ``kpi_rollup``: ``hotline rebuild`` makes the AMI rows again from the
event log, ``hotline ingest --queue-log`` writes the queue_log rows.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import BigInteger, Column, Double, Index, MetaData, String, Table

metadata = MetaData()

agent_session = Table(
    "agent_session",
    metadata,
    Column("pbx", String, primary_key=True),
    Column("source", String, primary_key=True),
    Column("kind", String, primary_key=True),
    Column("agent", String, primary_key=True),
    Column("ref", String, primary_key=True),
    Column("started_at", Double, nullable=False),
    Column("ended_at", Double, nullable=True),
    Column("reason", String, nullable=True),
    Column("interface", String, nullable=True),
)
# A window's spans are those ending after its start (or still open) and starting before its end.
Index("ix_agent_session_ended_at", agent_session.c.ended_at)
Index("ix_agent_session_started_at", agent_session.c.started_at)
# A call's copies in either source, under any agent name: which one counts (prefer_ami) and which
# agents a change of it touches (migration 0012_agent_time).
Index("ix_agent_session_ref", agent_session.c.pbx, agent_session.c.ref)

# --- the agent time rollup (migration 0012_agent_time; hotline/rollup/agent_time.py) ----------

TIME: Final = "time"
"""``agent_time_rollup.kind`` of a bucket's login row: ``seconds`` logged in, ``handle_s`` on calls."""
PAUSED: Final = "pause"
"""``agent_time_rollup.kind`` of a bucket's pause row: ``seconds`` paused with ``reason``."""
ALL_PBX: Final = ""
"""The ``pbx`` of the rows summing an agent's time on every PBX (the sweep keys agents by name)."""


def _time_table(name: str, start: str) -> Table:
    """One level of the agent time rollup: the same columns keyed by the level's own start."""
    return Table(
        name,
        metadata,
        Column("pbx", String, primary_key=True),
        Column(start, BigInteger, primary_key=True),
        Column("agent", String, primary_key=True),
        Column("kind", String, primary_key=True),
        Column("reason", String, primary_key=True),
        Column("seconds", Double, nullable=False),
        Column("handle_s", Double, nullable=False),
        sqlite_with_rowid=False,
    )


agent_time_rollup = _time_table("agent_time_rollup", "bucket_start")
"""Per PBX (and :data:`ALL_PBX`), 15-minute bucket and agent: where the agent's time went.

A ``time`` row exists for every bucket one of the agent's spans overlaps, even with no logged-in
time (the agent is then listed with zero figures, as the sweep lists it). The key starts with
``pbx, bucket_start``: a month of one level is one contiguous range."""

agent_time_hourly = _time_table("agent_time_hourly", "hour_start")
"""``agent_time_rollup`` summed per UTC hour (``hour_start``, epoch aligned), for hourly (and
longer) intervals in a timezone whose UTC offset is whole hours: a month per 60 minutes reads
its rows as they are instead of grouping four times as many. An hour is only read when the
agent's rows hold all of it, as a day of ``agent_time_daily``."""

agent_time_daily = _time_table("agent_time_daily", "day_start")
"""``agent_time_hourly`` summed per UTC day (``day_start``, epoch aligned), for windows' totals:
a month is some 30 rows per agent and state instead of some 1,500. A day is only read when the
agent's rows hold all of it (before its ``through`` and its pending changes)."""

agent_time_mark = Table(
    "agent_time_mark",
    metadata,
    Column("pbx", String, primary_key=True),
    Column("agent", String, primary_key=True),
    Column("through", Double, nullable=True),
)
"""Per PBX level (and :data:`ALL_PBX`) and agent: the rollup holds every bucket before ``through``
(NULL: every bucket; the agent has no span open there). With a span open, ``through`` is the last
bucket boundary before the store's last known moment at the last refresh: buckets before it are
final while the span stays open, later ones are computed from the spans when asked."""

agent_time_dirty = Table(
    "agent_time_dirty",
    metadata,
    Column("pbx", String, primary_key=True),
    Column("agent", String, primary_key=True),
    Column("since", Double, nullable=False),
    Column("version", BigInteger, nullable=False),
)
"""Per PBX and agent: spans changed from ``since`` on and not rolled up yet. ``version`` grows with
each change, so the refresher clears only the marks it has handled."""
