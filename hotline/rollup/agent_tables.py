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

from sqlalchemy import Column, Double, Index, MetaData, String, Table

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
