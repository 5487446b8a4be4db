"""The caller's recent contacts and tickets, from the store, for the screen-pop.

Three indexed reads, whatever the size of the store:

1. ``queue_attempt`` by ``caller_number``, newest first (index
   ``ix_queue_attempt_caller_number`` on (caller_number, entered_at), migration
   ``0008_cti_enrich``), a few more rows than shown so the two sources of one
   attempt (AMI and queue_log) can be merged;
2. ``cti_disposition`` of those calls by linkedid (``ix_cti_disposition_linkedid``);
3. ``call_context`` rows ``ticket`` of those calls by primary key (pbx, uniqueid, key):
   the complaint tickets the IVR opened for this caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from cti.protocol import iso
from cti.tables import disposition
from hotline.store.models import Base, CallContext, QueueAttemptRow

ATTEMPT: Final = Base.metadata.tables[QueueAttemptRow.__tablename__]
CONTEXT: Final = Base.metadata.tables[CallContext.__tablename__]
SOURCE_RANK: Final = {"ami": 0, "queue_log": 1}
"""Which source of one attempt to show when both stored it (AMI knows more: linkedid, interface)."""
MAX_NOTES_SHOWN: Final = 500
TICKET_KEY: Final = "ticket"


@dataclass(frozen=True)
class CallerHistory:
    contacts: list[dict[str, Any]]
    """Newest first: at, call_id, pbx, queue, agent, outcome, wait_s, handle_s, dispositions."""
    tickets: list[str]
    """Ticket keys the IVR opened in the caller's recent calls, newest first, each once."""


def contacts_query(caller_number: str, scan: int) -> sa.Select[Any]:
    """The caller's latest attempts (the index gives them in order: no sort of the table)."""
    return (
        sa.select(ATTEMPT)
        .where(ATTEMPT.c.caller_number == caller_number)
        .order_by(ATTEMPT.c.entered_at.desc())
        .limit(scan)
    )


async def caller_history(
    engine: AsyncEngine,
    caller_number: str,
    *,
    pbx: str,
    uniqueid: str,
    linkedid: str | None,
    limit: int = 5,
) -> CallerHistory:
    """The last ``limit`` contacts of ``caller_number`` (not counting the call ringing now)."""
    async with engine.connect() as connection:
        rows = (await connection.execute(contacts_query(caller_number, limit * 4))).mappings().all()
        attempts = _merge_sources(rows, current=(pbx, uniqueid, linkedid))
        calls = [(a["pbx"], a["call_id"], a["linkedid"]) for a in attempts]
        shown = attempts[:limit]
        notes = await _dispositions(connection, [(a["pbx"], a["linkedid"]) for a in shown if a["linkedid"]])
        tickets = await _tickets(connection, [(p, u) for p, u, _ in calls])
    contacts = [_contact(a, notes.get((a["pbx"], a["linkedid"]), [])) for a in shown]
    return CallerHistory(contacts, tickets)


def _merge_sources(rows: Any, *, current: tuple[str, str, str | None]) -> list[dict[str, Any]]:
    """One row per attempt (the best source), newest first, without the current call's attempts."""
    pbx, uniqueid, linkedid = current
    best: dict[tuple[str, str, int], dict[str, Any]] = {}
    for row in rows:
        if row["pbx"] == pbx and (row["call_id"] == uniqueid or (linkedid and row["linkedid"] == linkedid)):
            continue
        key = (row["pbx"], row["call_id"], row["attempt"])
        kept = best.get(key)
        if kept is None or SOURCE_RANK.get(row["source"], 9) < SOURCE_RANK.get(kept["source"], 9):
            best[key] = dict(row)
    return sorted(best.values(), key=lambda a: a["entered_at"], reverse=True)


async def _dispositions(
    connection: AsyncConnection, calls: list[tuple[str, str]]
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    if not calls:
        return {}
    query = (
        sa.select(
            disposition.c.pbx,
            disposition.c.linkedid,
            disposition.c.agent,
            disposition.c.category,
            disposition.c.notes,
        )
        .where(disposition.c.linkedid.in_(sorted({linkedid for _, linkedid in calls})))
        .order_by(disposition.c.created_at)
    )
    wanted = set(calls)
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in (await connection.execute(query)).mappings():
        if (row["pbx"], row["linkedid"]) in wanted:
            notes = row["notes"] or ""
            found.setdefault((row["pbx"], row["linkedid"]), []).append(
                {
                    "category": row["category"],
                    "notes": notes if len(notes) <= MAX_NOTES_SHOWN else notes[: MAX_NOTES_SHOWN - 1] + "…",
                    "agent": row["agent"],
                }
            )
    return found


async def _tickets(connection: AsyncConnection, calls: list[tuple[str, str]]) -> list[str]:
    if not calls:
        return []
    order = {call: position for position, call in enumerate(calls)}
    query = sa.select(CONTEXT.c.pbx, CONTEXT.c.uniqueid, CONTEXT.c.value).where(
        sa.or_(
            *(
                sa.and_(CONTEXT.c.pbx == pbx, CONTEXT.c.uniqueid == uniqueid, CONTEXT.c.key == TICKET_KEY)
                for pbx, uniqueid in order
            )
        )
    )
    rows = sorted(
        (order[(row["pbx"], row["uniqueid"])], row["value"])
        for row in (await connection.execute(query)).mappings()
    )
    return list(dict.fromkeys(value.strip() for _, value in rows if value and value.strip()))


def _contact(attempt: dict[str, Any], notes: list[dict[str, Any]]) -> dict[str, Any]:
    def seconds(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "at": iso(attempt["entered_at"]),
        "call_id": attempt["linkedid"] or attempt["call_id"],
        "pbx": attempt["pbx"],
        "queue": attempt["queue"],
        "agent": attempt["agent"],
        "outcome": attempt["outcome"],
        "wait_s": seconds(attempt["wait_s"]),
        "handle_s": seconds(attempt["handle_s"]),
        "dispositions": notes,
    }
