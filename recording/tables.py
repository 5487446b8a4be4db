"""The recording tables (SQLAlchemy Core); migration ``0006_recording`` creates them.

One ``recording`` row per call (``pbx`` + ``call_id``, the call's Linkedid, so transfers stay one
recording). ``file_path`` is relative to the archive folder and written only by hotline: a path
from a request is never looked up, only the integer ``id``. Times are epoch seconds.

Status of a row, in the order a call goes through them::

    recording -> ended -> archived | empty | missing | unanswered      (... -> purged)

``ended``: the call is over, hotline waits for Asterisk to close the file. ``empty``: the file
exists but holds no audio. ``missing``: the call reached an agent but no file appeared within
``missing_grace_s``. ``unanswered``: nobody answered (MixMonitor's ``b`` option records only
while bridged, so no file is expected). ``purged``: removed by the retention job.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

metadata = sa.MetaData()

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite only autoincrements an INTEGER PRIMARY KEY."""

RECORDING: Final = "recording"
ENDED: Final = "ended"
ARCHIVED: Final = "archived"
EMPTY: Final = "empty"
MISSING: Final = "missing"
UNANSWERED: Final = "unanswered"
PURGED: Final = "purged"
STATUSES: Final = (RECORDING, ENDED, ARCHIVED, EMPTY, MISSING, UNANSWERED, PURGED)
HAS_FILE: Final = (ARCHIVED, EMPTY)
"""Statuses whose row points at a file in the archive."""

recording = sa.Table(
    "recording",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("pbx", sa.String(32), nullable=False),
    sa.Column("site", sa.String(32), nullable=False),
    sa.Column("call_id", sa.String(64), nullable=False),
    sa.Column("uniqueid", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(128), nullable=False),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("queue", sa.String(64), nullable=True),
    sa.Column("agent", sa.String(64), nullable=True),
    sa.Column("agent_name", sa.String(120), nullable=True),
    sa.Column("team", sa.String(32), nullable=True),
    sa.Column("caller_number", sa.String(64), nullable=True),
    sa.Column("started_at", sa.Double(), nullable=False),
    sa.Column("ended_at", sa.Double(), nullable=True),
    sa.Column("duration_s", sa.Double(), nullable=True),
    sa.Column("talk_s", sa.Double(), nullable=True),
    sa.Column("hold_s", sa.Double(), nullable=True),
    sa.Column("disposition", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("problem", sa.String(255), nullable=True),
    sa.Column("file_path", sa.String(512), nullable=True),
    sa.Column("format", sa.String(16), nullable=True),
    sa.Column("size_bytes", sa.BigInteger(), nullable=True),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("qc_score", sa.Double(), nullable=True),
    sa.Column("purged_at", sa.Double(), nullable=True),
    sa.Column("updated_at", sa.Double(), nullable=False),
    sa.UniqueConstraint("pbx", "call_id", name="uq_recording_call"),
)
sa.Index("ix_recording_started_at", recording.c.started_at)
sa.Index("ix_recording_agent_started", recording.c.agent, recording.c.started_at)
sa.Index("ix_recording_team_started", recording.c.team, recording.c.started_at)
sa.Index("ix_recording_queue_started", recording.c.queue, recording.c.started_at)
sa.Index("ix_recording_site_started", recording.c.site, recording.c.started_at)
sa.Index("ix_recording_caller", recording.c.caller_number)
sa.Index("ix_recording_status", recording.c.status, recording.c.ended_at)
sa.Index("ix_recording_uniqueid", recording.c.pbx, recording.c.uniqueid)

recording_mute = sa.Table(
    "recording_mute",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("recording_id", _ID, sa.ForeignKey("recording.id"), nullable=False),
    sa.Column("muted_at", sa.Double(), nullable=False),
    sa.Column("unmuted_at", sa.Double(), nullable=True),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
)
sa.Index("ix_recording_mute_recording", recording_mute.c.recording_id)
