"""The QC API: the day's sample, one call with its scores, scoring and amending, drawing a sample.

Every write (a score, an amendment, a draw) is on the audit log with who and from where, and so
is every refusal of a known user. Ids in URLs are integers matched by the router.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import QC, TEAM_LEADER, Principal
from hotline.web.errors import json_error, read_json
from recording.qc import access
from recording.qc.calls import get_call, list_sample
from recording.qc.form import ScoreError
from recording.qc.samples import draw_sample
from recording.qc.scores import ScoreConflict, get_score, scores_of, submit
from recording.qc.settings import QcSettings
from recording.qc.tables import CALIBRATION, REVIEW

MAX_ID: Final = 2**63 - 1
NO_STORE: Final = {"Cache-Control": "no-store"}


def parse_day(text: str | None, settings: QcSettings, name: str = "date") -> date:
    """``YYYY-MM-DD``, or today (local) when absent; 400 otherwise."""
    if not text:
        return datetime.now(settings.timezone).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a date YYYY-MM-DD, not {text[:20]!r}") from None


def _text(body: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = body.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"{key} must be text")
    if required and not value.strip():
        raise web.HTTPBadRequest(text=f"{key} is required")
    return value.strip()


class QcApi:
    """Handlers of ``/api/qc``; one per application."""

    def __init__(self, engine: AsyncEngine, settings: QcSettings) -> None:
        self.engine = engine
        self.settings = settings

    async def who(self, request: web.Request, roles: tuple[str, ...] = access.READ_ROLES) -> Principal:
        return await access.principal(self.engine, request, roles)

    async def call_for(
        self, request: web.Request, who: Principal, action: str, call_id: int | None = None
    ) -> dict[str, Any]:
        """The sampled call named by the URL (or ``call_id``) if it exists and ``who`` may see it."""
        if call_id is None:
            call_id = int(request.match_info["id"])
        call = await get_call(self.engine, call_id) if call_id <= MAX_ID else None
        if call is None:
            raise web.HTTPNotFound(text=f"no sampled call {call_id}")
        if not access.may_see(who, call):
            raise await access.refuse(
                self.engine, request, who, action, f"qc-call:{call_id}", "call of another team"
            )
        return call

    async def form(self, request: web.Request) -> web.Response:
        await self.who(request)
        return web.json_response(self.settings.form.public(), headers=NO_STORE)

    async def sample(self, request: web.Request) -> web.Response:
        who = await self.who(request)
        day = parse_day(request.query.get("date"), self.settings)
        team = access.team_scope(who, request.query.get("team") or None)
        items = await list_sample(self.engine, day, team=team, agent=request.query.get("agent") or None)
        body = {"date": day.isoformat(), "target": self.settings.form.target, "items": items}
        return web.json_response(body, headers=NO_STORE)

    async def draw(self, request: web.Request) -> web.Response:
        who = await self.who(request, access.MANAGE_ROLES)
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_error(400, 'the body must be a JSON object {"date": "YYYY-MM-DD"}')
        day = parse_day(_text(body, "date") or None, self.settings)
        await access.record(self.engine, request, who, "qc.sample", f"sample:{day.isoformat()}")
        summary = await draw_sample(self.engine, self.settings, day, drawn_by=who.username)
        return web.json_response(summary.public(), status=201 if summary.drawn else 200)

    async def detail(self, request: web.Request) -> web.Response:
        who = await self.who(request)
        call = await self.call_for(request, who, "qc.view")
        call["scores"] = [s.public() for s in await scores_of(self.engine, [int(call["id"])])]
        call["form"] = self.settings.form.public()
        return web.json_response(call, headers=NO_STORE)

    async def score(self, request: web.Request) -> web.Response:
        who = await self.who(request, access.SCORE_ROLES)
        call = await self.call_for(request, who, "qc.score")
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_error(400, 'the body must be a JSON object {"ratings": {...}, "comment": "..."}')
        kind = _text(body, "kind") or REVIEW
        if kind not in (REVIEW, CALIBRATION):
            return json_error(400, "kind must be review or calibration")
        target = f"qc-call:{call['id']}"
        if kind == CALIBRATION and who.role != QC:
            raise await access.refuse(self.engine, request, who, "qc.score", target, "calibration is QC's")
        if kind == CALIBRATION and not call["calibration_pick"]:
            return json_error(409, f"call {call['id']} is not picked for calibration")
        try:
            sheet = self.settings.form.sheet(body.get("ratings"))
        except ScoreError as exc:
            return json_error(400, str(exc))
        try:
            score = await submit(self.engine, call, who, sheet, kind=kind, comment=_text(body, "comment"))
        except ScoreConflict as exc:
            return json_error(409, str(exc))
        # Written once the score is: the audit says what was stored, not what was tried.
        detail = f"score {score.id} {kind} total={score.total}"
        await access.record(self.engine, request, who, "qc.score", target, detail=detail)
        return web.json_response(score.public(), status=201)

    async def amend(self, request: web.Request) -> web.Response:
        who = await self.who(request, access.SCORE_ROLES)
        score_id = int(request.match_info["id"])
        original = await get_score(self.engine, score_id) if score_id <= MAX_ID else None
        if original is None:
            raise web.HTTPNotFound(text=f"no score {score_id}")
        target = f"qc-score:{original.chain}"
        call = await self.call_for(request, who, "qc.amend", original.sampled_call_id)
        chain = await get_score(self.engine, original.chain)
        if who.role == TEAM_LEADER and (chain is None or chain.scorer != who.username):
            raise await access.refuse(self.engine, request, who, "qc.amend", target, "not this user's score")
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_error(400, 'the body must be a JSON object {"ratings": {...}, "reason": "..."}')
        reason = _text(body, "reason", required=True)
        try:
            sheet = self.settings.form.sheet(body.get("ratings"))
        except ScoreError as exc:
            return json_error(400, str(exc))
        score = await submit(
            self.engine, call, who, sheet, comment=_text(body, "comment"), amends=original, reason=reason
        )
        detail = f"score {score.id} total={score.total} reason={reason[:200]}"
        await access.record(self.engine, request, who, "qc.amend", target, detail=detail)
        return web.json_response(score.public(), status=201)
