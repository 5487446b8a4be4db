"""The queue attempts a report or a forecast is computed from, read from the store.

AMI is the live source; a gap it left (hotline down, history from before go-live) may be filled by
``hotline ingest --queue-log``. Both sources store the same calls under the same ``call_id``, so a
call is taken from AMI when AMI saw it and from queue_log only otherwise: a call is never counted
twice, and a backfilled gap still counts.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi.facts import SOURCE_AMI, QueueAttempt
from hotline.store import repo


def prefer_ami(attempts: list[QueueAttempt]) -> list[QueueAttempt]:
    """Every AMI attempt, and the attempts of the calls only another source (queue_log) knows."""
    seen_on_ami = {(a.pbx, a.call_id) for a in attempts if a.source == SOURCE_AMI}
    return [a for a in attempts if a.source == SOURCE_AMI or (a.pbx, a.call_id) not in seen_on_ami]


async def load_facts(
    engine: AsyncEngine, since: float, until: float, *, pbx: str | None = None
) -> list[QueueAttempt]:
    """Attempts that entered a queue in ``[since, until)``, one source per call (see module doc)."""
    rows = await repo.load_attempts(engine, since=since, until=until, pbx=pbx)
    return prefer_ami([QueueAttempt(**row) for row in rows])
