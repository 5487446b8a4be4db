"""Calibration: QC scores again a share (10 %) of the calls each team leader scored.

Picks are per team leader, over the team leader's original review scores given in a period:
``ceil(share x scored)`` calls, the ones with the smallest ``sha256(seed:pbx:call)``. The order
does not depend on when the selection runs, so running it again for the same period picks the
same calls, and a longer period only adds calls (``qc_calibration`` keeps every pick once).

The report compares, call by call, the team leader's score in force with QC's calibration score
in force: deviation = leader - QC, per criterion (both applicable) and on the total, averaged
per criterion and per team leader (mean and mean absolute deviation).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import TEAM_LEADER
from hotline.auth.users import transaction
from recording.qc.scores import Score, in_force, scores_of
from recording.qc.tables import CALIBRATION, REVIEW, qc_calibration, qc_score, sampled_call


def pick_order(seed: int, pbx: str, call_key: str) -> str:
    return hashlib.sha256(f"{seed}:{pbx}:{call_key}".encode()).hexdigest()


async def _leader_scored(engine: AsyncEngine, since: float, until: float) -> list[Any]:
    query = (
        sa.select(qc_score.c.sampled_call_id, qc_score.c.scorer, sampled_call.c.pbx, sampled_call.c.call_key)
        .join(sampled_call, sampled_call.c.id == qc_score.c.sampled_call_id)
        .where(
            qc_score.c.kind == REVIEW,
            qc_score.c.amends_id.is_(None),
            qc_score.c.scorer_role == TEAM_LEADER,
            qc_score.c.created_at >= since,
            qc_score.c.created_at < until,
        )
    )
    async with transaction(engine, "read team leaders' scores") as connection:
        return list((await connection.execute(query)).all())


async def _picked(engine: AsyncEngine) -> dict[int, str]:
    query = sa.select(qc_calibration.c.sampled_call_id, qc_calibration.c.team_leader)
    async with transaction(engine, "read calibration picks") as connection:
        return {int(row.sampled_call_id): row.team_leader for row in await connection.execute(query)}


async def select_calls(
    engine: AsyncEngine, since: float, until: float, *, share: float, seed: int
) -> dict[str, dict[str, int]]:
    """Pick the calls QC scores again; per team leader: scored, target, picked, added now."""
    scored = await _leader_scored(engine, since, until)
    picked = await _picked(engine)
    summary: dict[str, dict[str, int]] = {}
    rows: list[dict[str, Any]] = []
    now = time.time()
    for leader in sorted({row.scorer for row in scored}):
        own = sorted(
            (row for row in scored if row.scorer == leader),
            key=lambda row: pick_order(seed, row.pbx, row.call_key),
        )
        target = math.ceil(share * len(own))
        already = sum(1 for row in own if int(row.sampled_call_id) in picked)
        fresh = [row for row in own if int(row.sampled_call_id) not in picked][: max(0, target - already)]
        rows += [
            {
                "sampled_call_id": int(r.sampled_call_id),
                "team_leader": leader,
                "selected_at": now,
                "seed": seed,
            }
            for r in fresh
        ]
        summary[leader] = {
            "scored": len(own),
            "target": target,
            "picked": already + len(fresh),
            "added": len(fresh),
        }
    if rows:
        async with transaction(engine, "store calibration picks") as connection:
            await connection.execute(sa.insert(qc_calibration), rows)
    return summary


@dataclass
class _Tally:
    n: int = 0
    total: float = 0.0
    absolute: float = 0.0

    def add(self, deviation: float) -> None:
        self.n += 1
        self.total += deviation
        self.absolute += abs(deviation)

    def public(self) -> dict[str, Any]:
        mean = round(self.total / self.n, 1) if self.n else None
        spread = round(self.absolute / self.n, 1) if self.n else None
        return {"n": self.n, "mean_deviation": mean, "mean_abs_deviation": spread}


def deviations(pairs: Iterable[tuple[Score, Score]]) -> dict[str, Any]:
    """Leader-minus-QC deviations of ``(leader score, QC score)`` pairs, per criterion and scorer."""
    criteria: dict[str, _Tally] = {}
    scorers: dict[str, tuple[_Tally, dict[str, _Tally]]] = {}
    for leader, qc in pairs:
        total, per_criterion = scorers.setdefault(leader.scorer, (_Tally(), {}))
        total.add(leader.total - qc.total)
        qc_ratings = qc.ratings()
        for criterion, rating in leader.ratings().items():
            other = qc_ratings.get(criterion)
            if rating is None or other is None:
                continue
            criteria.setdefault(criterion, _Tally()).add(rating - other)
            per_criterion.setdefault(criterion, _Tally()).add(rating - other)
    return {
        "criteria": {key: tally.public() for key, tally in criteria.items()},
        "scorers": [
            {"scorer": name, "total": total.public(), "criteria": {k: t.public() for k, t in per.items()}}
            for name, (total, per) in sorted(scorers.items())
        ],
    }


async def report(engine: AsyncEngine, since: float, until: float) -> dict[str, Any]:
    """The calibration of the team leaders' scores given in ``[since, until)``."""
    in_period = {int(row.sampled_call_id) for row in await _leader_scored(engine, since, until)}
    picks = sorted(set(await _picked(engine)) & in_period)
    chains = in_force(await scores_of(engine, picks))
    pairs, pending = [], []
    for call_id in picks:
        leader, qc = chains.get((call_id, REVIEW)), chains.get((call_id, CALIBRATION))
        if leader is not None and qc is not None:
            pairs.append((leader[1], qc[1]))
        else:
            pending.append(call_id)
    result = deviations(pairs)
    result.update(since=since, until=until, picked=len(picks), rescored=len(pairs), pending=pending)
    return result
