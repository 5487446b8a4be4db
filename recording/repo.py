"""The recording rows: async functions over ``recording`` and ``recording_mute`` (SQLite, PostgreSQL).

Every database failure comes out as one :class:`~hotline.store.db.StoreError` naming the database
(password masked). Writes that follow AMI events are idempotent (a replayed event changes nothing).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.auth.model import interface_of
from hotline.auth.tables import auth_user
from hotline.store.db import StoreError, describe_error, mask_url
from hotline.store.models import QueueAttemptRow
from recording.capture import Answered, Ended, Joined, Muted, Started
from recording.tables import ENDED, RECORDING, recording, recording_mute

_ATTEMPT = QueueAttemptRow.__table__


@asynccontextmanager
async def transaction(engine: AsyncEngine, doing: str) -> AsyncIterator[AsyncConnection]:
    """A transaction whose database errors become one :class:`StoreError` saying what failed."""
    try:
        async with engine.begin() as connection:
            yield connection
    except (SQLAlchemyError, OSError) as exc:
        reason = describe_error(engine, exc)
        raise StoreError(f"database {mask_url(engine.url)}: cannot {doing}: {reason}") from exc


async def start(engine: AsyncEngine, fact: Started, site: str) -> None:
    """A new recording row (nothing happens if the call already has one)."""
    values = {
        "pbx": fact.pbx,
        "site": site,
        "call_id": fact.call_id,
        "uniqueid": fact.uniqueid,
        "channel": fact.channel[:128],
        "direction": fact.direction,
        "caller_number": fact.caller_number,
        "started_at": fact.at,
        "status": RECORDING,
        "updated_at": time.time(),
    }
    async with transaction(engine, "store a new recording") as connection:
        insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(recording)
        await connection.execute(
            insert.values(values).on_conflict_do_nothing(index_elements=["pbx", "call_id"])
        )


def _call(pbx: str, call_id: str) -> Any:
    return sa.and_(recording.c.pbx == pbx, recording.c.call_id == call_id)


async def end(engine: AsyncEngine, fact: Ended) -> bool:
    """The call is over: the collector now waits for the file. False if it was not recording."""
    statement = (
        sa.update(recording)
        .where(_call(fact.pbx, fact.call_id), recording.c.status == RECORDING)
        .values(status=ENDED, ended_at=fact.at, updated_at=time.time())
    )
    async with transaction(engine, "end a recording") as connection:
        changed = (await connection.execute(statement)).rowcount
        await _close_mutes(connection, fact.pbx, fact.call_id, fact.at)
    return bool(changed)


async def note_answer(engine: AsyncEngine, fact: Answered) -> None:
    """The first agent who answered is the recording's agent (the KPI projection may refine it)."""
    extension = interface_of(fact.interface).partition("/")[2] if fact.interface else None
    statement = (
        sa.update(recording)
        .where(_call(fact.pbx, fact.call_id), recording.c.agent.is_(None))
        .values(
            agent=(extension or fact.agent_name or "")[:64] or None,
            agent_name=(fact.agent_name or "")[:120] or None,
            queue=sa.func.coalesce(recording.c.queue, fact.queue),
            updated_at=time.time(),
        )
    )
    async with transaction(engine, "note a recording's agent") as connection:
        await connection.execute(statement)


async def note_queue(engine: AsyncEngine, fact: Joined) -> None:
    statement = (
        sa.update(recording)
        .where(_call(fact.pbx, fact.call_id), recording.c.queue.is_(None))
        .values(queue=fact.queue[:64], updated_at=time.time())
    )
    async with transaction(engine, "note a recording's queue") as connection:
        await connection.execute(statement)


async def _recording_id(connection: AsyncConnection, pbx: str, call_id: str) -> int | None:
    found = await connection.execute(sa.select(recording.c.id).where(_call(pbx, call_id)))
    value = found.scalar_one_or_none()
    return int(value) if value is not None else None


async def _close_mutes(connection: AsyncConnection, pbx: str, call_id: str, at: float) -> None:
    rec_id = await _recording_id(connection, pbx, call_id)
    if rec_id is not None:
        await connection.execute(
            sa.update(recording_mute)
            .where(recording_mute.c.recording_id == rec_id, recording_mute.c.unmuted_at.is_(None))
            .values(unmuted_at=at)
        )


async def note_mute(engine: AsyncEngine, fact: Muted, source: str = "ami") -> None:
    """Open (muted) or close (unmuted) the call's mute interval; a repeated state changes nothing.

    The recordings API records its own mutes and the AMI event of the same mute follows: the
    state rule makes the second report harmless.
    """
    async with transaction(engine, "store a recording mute") as connection:
        rec_id = await _recording_id(connection, fact.pbx, fact.call_id)
        if rec_id is None:
            return
        open_row = (
            await connection.execute(
                sa.select(recording_mute.c.id, recording_mute.c.muted_at).where(
                    recording_mute.c.recording_id == rec_id, recording_mute.c.unmuted_at.is_(None)
                )
            )
        ).first()
        if fact.muted and open_row is None:
            await connection.execute(
                sa.insert(recording_mute).values(
                    recording_id=rec_id, muted_at=fact.at, direction=fact.direction[:8], source=source[:16]
                )
            )
        elif not fact.muted and open_row is not None:
            # The API stamps with hotline's clock, AMI with Asterisk's: never end before the start.
            await connection.execute(
                sa.update(recording_mute)
                .where(recording_mute.c.id == open_row.id)
                .values(unmuted_at=max(fact.at, float(open_row.muted_at)))
            )


async def mutes(engine: AsyncEngine, recording_id: int) -> list[dict[str, Any]]:
    query = (
        sa.select(
            recording_mute.c.muted_at,
            recording_mute.c.unmuted_at,
            recording_mute.c.direction,
            recording_mute.c.source,
        )
        .where(recording_mute.c.recording_id == recording_id)
        .order_by(recording_mute.c.muted_at)
    )
    async with transaction(engine, "read recording mutes") as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def in_progress(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    """(pbx, uniqueid, call id) of recordings still running, to restore the tracker after a restart."""
    query = sa.select(recording.c.pbx, recording.c.uniqueid, recording.c.call_id).where(
        recording.c.status == RECORDING
    )
    async with transaction(engine, "read running recordings") as connection:
        return [(r.pbx, r.uniqueid, r.call_id) for r in await connection.execute(query)]


async def get(engine: AsyncEngine, recording_id: int) -> dict[str, Any] | None:
    async with transaction(engine, "read a recording") as connection:
        row = (await connection.execute(sa.select(recording).where(recording.c.id == recording_id))).first()
    return dict(row._mapping) if row is not None else None


async def rows_with_status(
    engine: AsyncEngine, statuses: tuple[str, ...], *, limit: int = 500, after_id: int = 0
) -> list[dict[str, Any]]:
    query = (
        sa.select(recording)
        .where(recording.c.status.in_(statuses), recording.c.id > after_id)
        .order_by(recording.c.id)
        .limit(limit)
    )
    async with transaction(engine, "read recordings") as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


async def update(
    engine: AsyncEngine, recording_id: int, values: Mapping[str, Any], *, status_was: str | None = None
) -> bool:
    """Change one row; with ``status_was`` only if it still has that status (False if not changed)."""
    statement = sa.update(recording).where(recording.c.id == recording_id)
    if status_was is not None:
        statement = statement.where(recording.c.status == status_was)
    async with transaction(engine, "update a recording") as connection:
        result = await connection.execute(statement.values({**values, "updated_at": time.time()}))
    return bool(result.rowcount)


async def call_facts(engine: AsyncEngine, pbx: str, call_id: str) -> dict[str, Any]:
    """Queue, agent, talk and hold of a call from hotline's queue_attempt projection (empty if none).

    Talk is handle time minus hold over every answered attempt (a transferred call adds up);
    the queue and agent are those of the first answered attempt, else of the first attempt.
    """
    query = (
        sa.select(_ATTEMPT)
        .where(_ATTEMPT.c.pbx == pbx, sa.or_(_ATTEMPT.c.linkedid == call_id, _ATTEMPT.c.call_id == call_id))
        .order_by(_ATTEMPT.c.entered_at, _ATTEMPT.c.attempt)
    )
    async with transaction(engine, "read a call's queue attempts") as connection:
        attempts = [dict(row) for row in (await connection.execute(query)).mappings()]
    if not attempts:
        return {}
    answered = [a for a in attempts if a.get("connected_at") is not None]
    first = answered[0] if answered else attempts[0]
    facts: dict[str, Any] = {"queue": first.get("queue")}
    if answered:
        handle = sum(float(a.get("handle_s") or 0.0) for a in answered)
        hold = sum(float(a.get("hold_s") or 0.0) for a in answered)
        facts.update(talk_s=max(0.0, handle - hold), hold_s=hold, agent_name=first.get("agent"))
        facts["agent_interface"] = first.get("agent_interface")
    return facts


async def agent_user(engine: AsyncEngine, interface: str | None, pbx: str) -> tuple[str, str | None] | None:
    """(username, team) of the agent user whose phone is ``interface`` (and PBX, when the user names one)."""
    if not interface:
        return None
    wanted = interface_of(interface)
    query = sa.select(auth_user.c.username, auth_user.c.team, auth_user.c.iface, auth_user.c.pbx).where(
        auth_user.c.role == "agent", auth_user.c.iface.is_not(None)
    )
    async with transaction(engine, "look up an agent") as connection:
        rows = (await connection.execute(query)).all()
    for row in rows:
        if interface_of(row.iface) == wanted and (row.pbx is None or row.pbx == pbx):
            return row.username, row.team
    return None
