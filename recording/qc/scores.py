"""Scores in the store: submit, amend, read back; the score in force of each sampled call.

A score is written once with its criteria (``qc_score`` + ``qc_score_item``) and never changed;
the database refuses UPDATE and DELETE. An amendment is a new score referencing the original
(``amends_id``, always the first score of the chain) with a reason; the newest score of a chain
is the one in force, and the whole chain is shown. Each sampled call has at most one original
review and one original calibration score (a unique index, so two scorers racing get one 409).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.auth.model import Principal
from hotline.auth.users import transaction
from hotline.store.db import StoreError, describe_error, mask_url
from recording.qc.form import Sheet
from recording.qc.tables import REVIEW, qc_score, qc_score_item
from recording.tables import recording

MAX_COMMENT: Final = 2000
_CHUNK: Final = 500


class ScoreConflict(Exception):
    """The call already has an original score of this kind (amend it instead)."""


@dataclass(frozen=True)
class Score:
    id: int
    sampled_call_id: int
    kind: str
    amends_id: int | None
    scorer: str
    scorer_role: str
    form: str
    total: float
    comment: str
    reason: str | None
    created_at: float
    items: tuple[tuple[str, float, float | None], ...]
    """``(criterion, weight, rating)`` in the form's order; a rating of None: not applicable."""

    @property
    def chain(self) -> int:
        """The id of the original score this one belongs to."""
        return self.amends_id if self.amends_id is not None else self.id

    def ratings(self) -> dict[str, float | None]:
        return {criterion: rating for criterion, _, rating in self.items}

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sampled_call_id": self.sampled_call_id,
            "kind": self.kind,
            "amends_id": self.amends_id,
            "scorer": self.scorer,
            "scorer_role": self.scorer_role,
            "form": self.form,
            "total": self.total,
            "comment": self.comment,
            "reason": self.reason,
            "created_at": self.created_at,
            "ratings": self.ratings(),
            "weights": {criterion: weight for criterion, weight, _ in self.items},
        }


async def _write(connection: AsyncConnection, values: dict[str, Any], sheet: Sheet) -> int:
    result = await connection.execute(sa.insert(qc_score).values(values).returning(qc_score.c.id))
    score_id = int(result.scalar_one())
    items = [
        {
            "score_id": score_id,
            "criterion": c.key,
            "position": i,
            "weight": c.weight,
            "rating": rating,
        }
        for i, (c, rating) in enumerate(sheet.ratings)
    ]
    await connection.execute(sa.insert(qc_score_item), items)
    return score_id


async def _mirror_on_recording(connection: AsyncConnection, pbx: str, call_key: str, total: float) -> None:
    # The recordings search filters on "scored or not" and lists the QC score: keep it in step.
    statement = (
        sa.update(recording)
        .where(recording.c.pbx == pbx, recording.c.call_id == call_key)
        .values(qc_score=total, updated_at=time.time())
    )
    await connection.execute(statement)


async def submit(
    engine: AsyncEngine,
    call: dict[str, Any],
    who: Principal,
    sheet: Sheet,
    *,
    kind: str = REVIEW,
    comment: str = "",
    amends: Score | None = None,
    reason: str | None = None,
) -> Score:
    """Write a score (or, with ``amends`` and ``reason``, an amendment); :class:`ScoreConflict`."""
    values: dict[str, Any] = {
        "sampled_call_id": int(call["id"]),
        "kind": amends.kind if amends is not None else kind,
        "amends_id": amends.chain if amends is not None else None,
        "scorer": who.username,
        "scorer_role": who.role,
        "form": sheet.form,
        "total": sheet.total,
        "comment": comment[:MAX_COMMENT],
        "reason": reason[:MAX_COMMENT] if amends is not None and reason is not None else None,
        "created_at": time.time(),
    }
    try:
        async with engine.begin() as connection:
            score_id = await _write(connection, values, sheet)
            if values["kind"] == REVIEW:
                await _mirror_on_recording(connection, call["pbx"], call["call_key"], sheet.total)
    except IntegrityError:
        raise ScoreConflict(
            f"call {call['id']} already has a {values['kind']} score; amend it instead"
        ) from None
    except (SQLAlchemyError, OSError) as exc:
        reason = describe_error(engine, exc)
        raise StoreError(f"database {mask_url(engine.url)}: cannot write a QC score: {reason}") from exc
    items = tuple((c.key, c.weight, rating) for c, rating in sheet.ratings)
    return Score(id=score_id, items=items, **values)


async def scores_of(engine: AsyncEngine, sampled_call_ids: Iterable[int]) -> list[Score]:
    """Every score (originals and amendments) of these sampled calls, oldest first."""
    ids = sorted(set(sampled_call_ids))
    rows: list[Any] = []
    items: dict[int, list[tuple[str, float, float | None]]] = {}
    async with transaction(engine, "read QC scores") as connection:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            query = sa.select(qc_score).where(qc_score.c.sampled_call_id.in_(chunk)).order_by(qc_score.c.id)
            rows.extend((await connection.execute(query)).all())
            item_query = (
                sa.select(qc_score_item)
                .join(qc_score, qc_score.c.id == qc_score_item.c.score_id)
                .where(qc_score.c.sampled_call_id.in_(chunk))
                .order_by(qc_score_item.c.score_id, qc_score_item.c.position)
            )
            for item in await connection.execute(item_query):
                items.setdefault(int(item.score_id), []).append(
                    (item.criterion, float(item.weight), None if item.rating is None else float(item.rating))
                )
    return [_score(row, items.get(int(row.id), [])) for row in rows]


def _score(row: Any, items: Sequence[tuple[str, float, float | None]]) -> Score:
    return Score(
        id=int(row.id),
        sampled_call_id=int(row.sampled_call_id),
        kind=row.kind,
        amends_id=None if row.amends_id is None else int(row.amends_id),
        scorer=row.scorer,
        scorer_role=row.scorer_role,
        form=row.form,
        total=float(row.total),
        comment=row.comment,
        reason=row.reason,
        created_at=float(row.created_at),
        items=tuple(items),
    )


async def get_score(engine: AsyncEngine, score_id: int) -> Score | None:
    async with transaction(engine, "read a QC score") as connection:
        row = (await connection.execute(sa.select(qc_score).where(qc_score.c.id == score_id))).first()
    if row is None:
        return None
    return next(s for s in await scores_of(engine, [int(row.sampled_call_id)]) if s.id == score_id)


def in_force(scores: Iterable[Score]) -> dict[tuple[int, str], tuple[Score, Score]]:
    """``(sampled call, kind) -> (original, newest)``: the score in force is the newest of its chain."""
    chains: dict[tuple[int, str], tuple[Score, Score]] = {}
    for score in sorted(scores, key=lambda s: s.id):
        key = (score.sampled_call_id, score.kind)
        original = chains[key][0] if key in chains else score
        chains[key] = (original, score)
    return chains
