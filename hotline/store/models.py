"""The tables of the store; their schema is created and changed only through alembic migrations.

Times are epoch seconds (float) everywhere, like the KPI facts, so no time zone can be misread.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL needs 64 bits for years of events.
_EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """The one metadata that alembic compares the migrations against."""


class AmiEvent(Base):
    """Every AMI event as received, appended before any projection sees it.

    ``session`` is random per AMI client start (connection numbers restart with the process), or a
    digest of the capture file for ingested traffic, so ingesting the same capture twice adds nothing.
    """

    __tablename__ = "ami_event"
    __table_args__ = (
        UniqueConstraint("pbx", "session", "connection", "seq", name="uq_ami_event_origin"),
        Index("ix_ami_event_uniqueid", "uniqueid"),
        Index("ix_ami_event_linkedid", "linkedid"),
        Index("ix_ami_event_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(_EVENT_ID, primary_key=True, autoincrement=True)
    pbx: Mapped[str] = mapped_column(String)
    session: Mapped[str] = mapped_column(String)
    connection: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[float] = mapped_column(Double)
    name: Mapped[str] = mapped_column(String)
    uniqueid: Mapped[str | None] = mapped_column(String)
    linkedid: Mapped[str | None] = mapped_column(String)
    event_ts: Mapped[float | None] = mapped_column(Double)
    """The AMI ``Timestamp:`` header (Asterisk's clock), when the event carries one."""
    headers: Mapped[str] = mapped_column(Text)
    """JSON list of ``[key, value]`` pairs in arrival order, repeated keys kept."""


class QueueAttemptRow(Base):
    """One caller's stay in one queue (see QueueAttempt in the KPI facts)."""

    __tablename__ = "queue_attempt"
    __table_args__ = (
        Index("ix_queue_attempt_entered_at", "entered_at"),
        Index("ix_queue_attempt_queue", "queue"),
        Index("ix_queue_attempt_agent", "agent"),
        # The CTI screen-pop's "last contacts of this caller" (migration 0008_cti_enrich).
        Index("ix_queue_attempt_caller_number", "caller_number", "entered_at"),
    )

    pbx: Mapped[str] = mapped_column(String, primary_key=True)
    call_id: Mapped[str] = mapped_column(String, primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String, primary_key=True)
    queue: Mapped[str] = mapped_column(String)
    linkedid: Mapped[str | None] = mapped_column(String)
    caller_number: Mapped[str | None] = mapped_column(String)
    entered_at: Mapped[float] = mapped_column(Double)
    position: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String)
    ended_at: Mapped[float | None] = mapped_column(Double)
    wait_s: Mapped[float | None] = mapped_column(Double)
    agent: Mapped[str | None] = mapped_column(String)
    agent_interface: Mapped[str | None] = mapped_column(String)
    connected_at: Mapped[float | None] = mapped_column(Double)
    handle_s: Mapped[float | None] = mapped_column(Double)
    hold_s: Mapped[float | None] = mapped_column(Double)
    completed_by: Mapped[str | None] = mapped_column(String)
    transfer_target: Mapped[str | None] = mapped_column(String)
    ring_no_answer: Mapped[int] = mapped_column(Integer)
    # queue_log | cdr: the end happened while the AMI link was down (migration 0010_gap_completion).
    completed_from: Mapped[str | None] = mapped_column(String)


class CallContext(Base):
    """What the IVR learned about a call (menu choice, path, verification), read by the CTI screen-pop."""

    __tablename__ = "call_context"
    __table_args__ = (Index("ix_call_context_linkedid", "linkedid"),)

    pbx: Mapped[str] = mapped_column(String, primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String, primary_key=True)
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    linkedid: Mapped[str | None] = mapped_column(String)
    updated_at: Mapped[float] = mapped_column(Double)


QUEUE_ATTEMPT_KEY = ("pbx", "call_id", "attempt", "source")
QUEUE_ATTEMPT_FIELDS = tuple(column.name for column in QueueAttemptRow.__table__.columns)
