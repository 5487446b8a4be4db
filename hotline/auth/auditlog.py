"""The audit log: who did what to which target, when, from where, and whether it was allowed.

Append-only by construction: this module offers :func:`audit` (insert) and :func:`audit_entries`
(read) and nothing else, and the database refuses UPDATE and DELETE on ``audit_log`` with a
trigger (migration ``0002_auth``). A feature writes the row *before* it serves what it audits
(a recording's audio, an export), so a failed audit write means nothing is served.

Actions are short dotted names chosen by the feature: ``login``, ``recording.listen``,
``recording.download``, ``recording.export``, ``users.add``, ``call.hangup``...
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import Principal
from hotline.auth.tables import audit_log
from hotline.auth.users import transaction

Outcome = Literal["ok", "refused"]
_LIMITS: Final = {"actor": 64, "actor_role": 16, "action": 64, "target": 255, "source": 64}
MAX_DETAIL: Final = 2000
MAX_ENTRIES: Final = 10_000


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    actor_role: str | None
    action: str
    target: str
    source: str
    outcome: Outcome
    detail: str


def _clip(value: str | None, limit: int) -> str:
    # An over-long value (a username an attacker typed) is cut, not refused: the row must be written.
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def audit(
    engine: AsyncEngine,
    actor: Principal | str,
    action: str,
    target: str = "",
    *,
    source: str = "",
    ok: bool = True,
    detail: str = "",
    at: float | None = None,
) -> int:
    """Append one row and return its id.

    ``actor`` is the principal (its role is recorded too) or a name (``cli:root``, an attempted
    username); ``source`` is where the request came from (client IP, ``cli``); ``ok=False``
    records a refusal. Raises :class:`~hotline.store.db.StoreError` if the row cannot be written.
    """
    if not action:
        raise ValueError("an audit row needs an action")
    actor_name, role = (actor.username, actor.role) if isinstance(actor, Principal) else (actor, None)
    values = {
        "at": time.time() if at is None else at,
        "actor": _clip(actor_name, _LIMITS["actor"]),
        "actor_role": _clip(role, _LIMITS["actor_role"]) if role else None,
        "action": _clip(action, _LIMITS["action"]),
        "target": _clip(target, _LIMITS["target"]),
        "source": _clip(source, _LIMITS["source"]),
        "outcome": "ok" if ok else "refused",
        "detail": _clip(detail, MAX_DETAIL),
    }
    async with transaction(engine, "write the audit log") as connection:
        result = await connection.execute(sa.insert(audit_log).values(values).returning(audit_log.c.id))
        return int(result.scalar_one())


async def audit_entries(
    engine: AsyncEngine,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Rows matching every filter given, oldest first (``since`` inclusive, ``until`` exclusive)."""
    query = sa.select(audit_log).order_by(audit_log.c.at, audit_log.c.id)
    for column, value in (
        (audit_log.c.actor, actor),
        (audit_log.c.action, action),
        (audit_log.c.target, target),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    query = query.limit(max(1, min(limit, MAX_ENTRIES)))
    async with transaction(engine, "read the audit log") as connection:
        rows = (await connection.execute(query)).all()
    return [
        AuditEntry(
            id=int(row.id),
            at=float(row.at),
            actor=row.actor,
            actor_role=row.actor_role,
            action=row.action,
            target=row.target,
            source=row.source,
            outcome=row.outcome,
            detail=row.detail,
        )
        for row in rows
    ]
