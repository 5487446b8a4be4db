"""Reading sampled calls: a day's sample (scoped to a team), one call, and their recordings.

The recording of a sampled call is the ``recording`` row of the same PBX whose call id is the
call's key (both are the call's Linkedid); it may be missing (not archived yet, or never
recorded), in which case the call is listed without audio.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.users import transaction
from hotline.logs import mask_number
from recording.qc.scores import Score, in_force, scores_of
from recording.qc.tables import CALIBRATION, REVIEW, qc_calibration, sampled_call
from recording.tables import HAS_FILE, recording

_CHUNK: Final = 500


def _row(row: Any) -> dict[str, Any]:
    values = dict(row._mapping)
    values["sample_date"] = values["sample_date"].isoformat()
    return values


async def list_sample(
    engine: AsyncEngine,
    day: date,
    *,
    team: str | None = None,
    agent: str | None = None,
) -> list[dict[str, Any]]:
    """The sampled calls of ``day`` (optionally one team's or one agent's), by agent and time."""
    query = sa.select(sampled_call).where(sampled_call.c.sample_date == day)
    if team is not None:
        query = query.where(sa.func.lower(sampled_call.c.team) == team.strip().lower())
    if agent is not None:
        query = query.where(sampled_call.c.agent == agent.strip())
    query = query.order_by(sampled_call.c.agent, sampled_call.c.started_at, sampled_call.c.id)
    async with transaction(engine, "read the QC sample") as connection:
        rows = [_row(r) for r in await connection.execute(query)]
    return await _decorate(engine, rows)


async def get_call(engine: AsyncEngine, call_id: int) -> dict[str, Any] | None:
    async with transaction(engine, "read a sampled call") as connection:
        row = (await connection.execute(sa.select(sampled_call).where(sampled_call.c.id == call_id))).first()
    if row is None:
        return None
    return (await _decorate(engine, [_row(row)]))[0]


async def _recordings(engine: AsyncEngine, calls: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    keys = sorted({c["call_key"] for c in calls})
    found: dict[tuple[str, str], Any] = {}
    columns = (
        recording.c.id,
        recording.c.pbx,
        recording.c.call_id,
        recording.c.status,
        recording.c.caller_number,
    )
    async with transaction(engine, "find the recordings of sampled calls") as connection:
        for start in range(0, len(keys), _CHUNK):
            query = sa.select(*columns).where(recording.c.call_id.in_(keys[start : start + _CHUNK]))
            for row in await connection.execute(query):
                found[(row.pbx, row.call_id)] = row
    return found


async def _calibration_picks(engine: AsyncEngine, ids: Iterable[int]) -> set[int]:
    wanted = sorted(set(ids))
    picked: set[int] = set()
    async with transaction(engine, "read calibration picks") as connection:
        for start in range(0, len(wanted), _CHUNK):
            query = sa.select(qc_calibration.c.sampled_call_id).where(
                qc_calibration.c.sampled_call_id.in_(wanted[start : start + _CHUNK])
            )
            picked.update(int(v) for v in (await connection.execute(query)).scalars())
    return picked


def _brief(pair: tuple[Score, Score] | None) -> dict[str, Any] | None:
    if pair is None:
        return None
    original, current = pair
    return {
        "id": current.id,
        "total": current.total,
        "scorer": original.scorer,
        "amended": current is not original,
    }


async def _decorate(engine: AsyncEngine, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the recording (id, audio URL, masked caller) and the scores in force to each call."""
    if not calls:
        return calls
    ids = [int(c["id"]) for c in calls]
    recordings = await _recordings(engine, calls)
    chains = in_force(await scores_of(engine, ids))
    picks = await _calibration_picks(engine, ids)
    for call in calls:
        rec = recordings.get((call["pbx"], call["call_key"]))
        playable = rec is not None and rec.status in HAS_FILE
        call["recording_id"] = int(rec.id) if rec is not None else None
        call["recording_status"] = rec.status if rec is not None else None
        call["audio_url"] = f"/api/recordings/{rec.id}/audio" if playable and rec is not None else None
        call["listen_url"] = f"/api/recordings/{rec.id}/listen-url" if playable and rec is not None else None
        call["caller_number"] = (
            mask_number(rec.caller_number) if rec is not None and rec.caller_number else None
        )
        call["review"] = _brief(chains.get((int(call["id"]), REVIEW)))
        call["calibration"] = _brief(chains.get((int(call["id"]), CALIBRATION)))
        call["calibration_pick"] = int(call["id"]) in picks
    return calls
