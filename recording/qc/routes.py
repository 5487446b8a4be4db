"""QC routes: reports and calibration handlers, the ``/qc`` page, and the route table.

The page is three static files served from a fixed list (no path from a URL reaches the file
system); it logs in with ``POST /api/login`` and calls the API with the bearer token.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from hotline.logs import get_logger
from hotline.store.db import StoreError
from hotline.web.app import add_openapi
from hotline.web.errors import json_error, read_json
from recording.qc import access, calibration, reports
from recording.qc.http import NO_STORE, QcApi, parse_day
from recording.qc.openapi import FRAGMENT
from recording.qc.sampling import local_midnight

log = get_logger(__name__)

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
ASSETS: Final = {"app.js": "text/javascript", "app.css": "text/css"}
MAX_REPORT_DAYS: Final = 800


def _range(api: QcApi, request: web.Request, default_days: int) -> tuple[date, date]:
    last = parse_day(request.query.get("to"), api.settings, "to")
    first = (
        parse_day(request.query["from"], api.settings, "from")
        if request.query.get("from")
        else last - timedelta(days=default_days - 1)
    )
    if first > last or (last - first).days > MAX_REPORT_DAYS:
        raise web.HTTPBadRequest(text=f"from must be on or before to, at most {MAX_REPORT_DAYS} days apart")
    return first, last


async def report(api: QcApi, request: web.Request) -> web.Response:
    """``GET /api/qc/reports?grain=week|month&from=&to=&agent=&team=&format=json|csv|svg``."""
    who = await api.who(request)
    grain = request.query.get("grain", "week")
    fmt = request.query.get("format", "json")
    if grain not in reports.GRAINS or fmt not in ("json", "csv", "svg"):
        return json_error(400, "grain must be week or month; format json, csv or svg")
    first, last = _range(api, request, 56 if grain == "week" else 183)
    team = access.team_scope(who, request.query.get("team") or None)
    built = await reports.build(
        api.engine,
        first,
        last,
        api.settings.timezone,
        api.settings.form.target,
        grain="week" if grain == "week" else "month",
        agent=request.query.get("agent") or None,
        team=team,
    )
    if fmt == "csv":
        name = f"qm-{grain}-{first.isoformat()}-{last.isoformat()}.csv"
        return web.Response(
            text=built.csv(),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE},
        )
    if fmt == "svg":
        return web.Response(text=built.svg(), content_type="image/svg+xml", headers=NO_STORE)
    return web.json_response(built.public(), headers=NO_STORE)


def _window(api: QcApi, first: date, last: date) -> tuple[float, float]:
    tz = api.settings.timezone
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)


async def calibration_report(api: QcApi, request: web.Request) -> web.Response:
    await api.who(request, access.CALIBRATION_ROLES)
    first, last = _range(api, request, 31)
    body = await calibration.report(api.engine, *_window(api, first, last))
    return web.json_response(body, headers=NO_STORE)


async def calibration_pick(api: QcApi, request: web.Request) -> web.Response:
    """``POST /api/qc/calibration {"from": ..., "to": ...}``: pick the calls QC scores again."""
    who = await api.who(request, access.MANAGE_ROLES)
    body = await read_json(request)
    if not isinstance(body, dict) or not all(isinstance(body.get(k, ""), str) for k in ("from", "to")):
        return json_error(400, 'the body must be {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}')
    today = datetime.now(api.settings.timezone).date()
    last = parse_day(body.get("to") or today.isoformat(), api.settings, "to")
    first = parse_day(body.get("from") or (last - timedelta(days=30)).isoformat(), api.settings, "from")
    if first > last:
        return json_error(400, "from must be on or before to")
    target = f"calibration:{first.isoformat()}..{last.isoformat()}"
    await access.record(api.engine, request, who, "qc.calibration", target)
    picks = await calibration.select_calls(
        api.engine,
        *_window(api, first, last),
        share=api.settings.calibration_share,
        seed=api.settings.seed,
    )
    return web.json_response({"from": first.isoformat(), "to": last.isoformat(), "team_leaders": picks})


async def _page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound(text=f"no QC page file {name[:40]!r}")
    response = web.FileResponse(STATIC_DIR / name, headers={"Cache-Control": "no-cache"})
    response.content_type = ASSETS[name]
    return response


async def _store_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except StoreError as exc:
        log.error("QC API: store unavailable", path=request.path, error=str(exc))
        return json_error(503, "the QC database is unavailable right now; try again shortly")


def add_routes(app: web.Application, api: QcApi) -> None:
    """Add the QC API, the page and the OpenAPI fragment to ``app``."""

    def wrap(handler: Any) -> Any:
        async def route(request: web.Request) -> web.StreamResponse:
            return await _store_errors(request, handler)

        return route

    def bind(function: Any) -> Any:
        return wrap(lambda request: function(api, request))

    sid = r"{id:\d{1,18}}"
    router = app.router
    router.add_get("/qc", _page, name="qc-page", allow_head=False)
    router.add_get("/qc/static/{name}", _asset, name="qc-static", allow_head=False)
    router.add_get("/api/qc/form", wrap(api.form), name="qc-form", allow_head=False)
    router.add_get("/api/qc/samples", wrap(api.sample), name="qc-samples", allow_head=False)
    router.add_post("/api/qc/samples", wrap(api.draw), name="qc-draw")
    router.add_get(f"/api/qc/calls/{sid}", wrap(api.detail), name="qc-call", allow_head=False)
    router.add_post(f"/api/qc/calls/{sid}/scores", wrap(api.score), name="qc-score")
    router.add_post(f"/api/qc/scores/{sid}/amendments", wrap(api.amend), name="qc-amend")
    router.add_get("/api/qc/reports", bind(report), name="qc-reports", allow_head=False)
    router.add_get("/api/qc/calibration", bind(calibration_report), name="qc-calibration", allow_head=False)
    router.add_post("/api/qc/calibration", bind(calibration_pick), name="qc-calibration-pick")
    add_openapi(app, FRAGMENT)
