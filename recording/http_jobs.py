"""The recordings API, continued: ZIP exports, mute/unmute, and the route table.

Mute: ``POST /api/recordings/{id}/mute`` ``{"muted": true, "direction": "both"}`` sends
MixMonitorMute to the call's PBX while the call is recorded (the agent taking a card number by
phone, a team leader, an admin). The interval is stored at once and again from the AMI event
that follows; the state rule in :func:`recording.repo.note_mute` keeps one interval.
"""

from __future__ import annotations

import time
from typing import Any, Final

from aiohttp import web

from hotline.auth import can_listen, forbidden
from hotline.auth.model import ADMIN, AGENT, TEAM_LEADER, Principal, same_name
from hotline.web.app import add_openapi
from hotline.web.errors import json_error, read_json
from recording import repo
from recording.archive import archived_path
from recording.capture import Muted
from recording.http import RecordingApi, store_errors
from recording.openapi import FRAGMENT
from recording.search import FilterError, parse_filters, search
from recording.tables import HAS_FILE, RECORDING

MUTE_ROLES: Final = (AGENT, TEAM_LEADER, ADMIN)
MUTE_TIMEOUT_S: Final = 5.0


async def start_export(api: RecordingApi, request: web.Request) -> web.Response:
    """``POST /api/recordings/exports`` with the search's filters as a JSON object of strings."""
    who = await api.principal(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not all(isinstance(v, str | int | float | bool) for v in body.values()):
        return json_error(400, 'the body must be a JSON object of search filters, e.g. {"agent": "1001"}')
    params = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in body.items()}
    params.pop("limit", None)
    params.pop("offset", None)
    try:
        filters = parse_filters(params, api.settings.timezone)
    except FilterError as exc:
        return json_error(400, str(exc))
    filters = api.scoped(who, filters)
    limit = api.settings.export_max
    page = await search(api.engine, filters.__class__(**{**filters.__dict__, "limit": limit, "offset": 0}))
    if page.has_more:
        return json_error(
            413, f"the search holds more than {limit} recordings; narrow it (e.g. a shorter time range)"
        )
    rows = [
        r
        for r in page.items
        if r["status"] in HAS_FILE and r["file_path"] and can_listen(who, r["agent"], r["team"])
    ]
    ids = ",".join(str(r["id"]) for r in rows)
    # Audited before the export starts, with every recording it will hold.
    await api.audit(request, who, "recording.export", f"export:{len(rows)} recordings", detail=f"ids={ids}")
    job = api.exports.start(who.username, rows, lambda rel: archived_path(api.settings.archive_dir, rel))
    status = job.status()
    return web.json_response(status, status=202, headers={"Location": f"/api/recordings/exports/{job.id}"})


async def export_status(api: RecordingApi, request: web.Request) -> web.StreamResponse:
    who = await api.principal(request)
    job = api.exports.get(request.match_info["export_id"], who.username)
    if job is None:
        raise web.HTTPNotFound(text="no such export (exports are visible to who started them, for an hour)")
    if not request.path.endswith("/file"):
        return web.json_response(job.status(), headers={"Cache-Control": "no-store"})
    if job.state != "done":
        return json_error(409, f"the export is {job.state} ({job.done}/{job.total}); fetch it when done")
    await api.audit(
        request, who, "recording.export.download", f"export:{job.id}", detail=f"{job.total} recordings"
    )
    response = web.FileResponse(
        job.path, headers={"Content-Disposition": f'attachment; filename="recordings-{job.id}.zip"'}
    )
    response.content_type = "application/zip"
    return response


def _may_mute(who: Principal, row: dict[str, Any]) -> bool:
    if who.role == ADMIN:
        return True
    if who.role == TEAM_LEADER:
        return can_listen(who, row["agent"], row["team"])
    # An agent mutes only the call at their own phone.
    return (
        who.role == AGENT
        and row["agent"] is not None
        and (same_name(who.username, row["agent"]) or (who.iface or "").rpartition("/")[2] == row["agent"])
    )


async def mute(api: RecordingApi, request: web.Request) -> web.Response:
    who = await api.principal(request, MUTE_ROLES)
    body = await read_json(request)
    muted = body.get("muted") if isinstance(body, dict) else None
    direction = str(body.get("direction", "both")).lower() if isinstance(body, dict) else ""
    if not isinstance(muted, bool) or direction not in ("read", "write", "both"):
        return json_error(400, 'the body must be {"muted": true|false, "direction": "read"|"write"|"both"}')
    rec_id = int(request.match_info["id"])
    row = await repo.get(api.engine, rec_id)
    if row is None:
        raise web.HTTPNotFound(text=f"no recording {rec_id}")
    target = f"recording:{rec_id}"
    if not _may_mute(who, row):
        await api.audit(request, who, "recording.mute", target, ok=False, detail="not this user's call")
        raise forbidden(request, who, "not this user's call")
    if row["status"] != RECORDING:
        return json_error(409, f"recording {rec_id} is not running (it is {row['status']})")
    client = api.ami.get(row["pbx"])
    if client is None:
        return json_error(503, f"no AMI link to PBX {row['pbx']}")
    await api.audit(request, who, "recording.mute", target, detail=f"muted={muted} direction={direction}")
    fields = {"Channel": row["channel"], "Direction": direction, "State": 1 if muted else 0}
    try:
        result = await client.send_action("MixMonitorMute", fields, timeout=MUTE_TIMEOUT_S)
    except Exception as exc:  # the link being down is the PBX's state, reported as such
        return json_error(503, f"PBX {row['pbx']} did not take the mute: {exc or type(exc).__name__}")
    if not getattr(result, "ok", False):
        return json_error(409, f"PBX refused the mute: {getattr(result, 'message', '')}")
    fact = Muted(row["pbx"], row["call_id"], time.time(), direction, muted)
    await api.record_mute(fact, "api")
    return web.json_response({"id": rec_id, "muted": muted, "direction": direction})


def add_routes(app: web.Application, api: RecordingApi) -> None:
    def wrap(handler: Any) -> Any:
        async def route(request: web.Request) -> web.StreamResponse:
            return await store_errors(request, handler)

        return route

    def bind(function: Any) -> Any:
        return wrap(lambda request: function(api, request))

    rid = r"{id:\d{1,18}}"
    app.router.add_get("/api/recordings", wrap(api.search), name="recordings-search", allow_head=False)
    app.router.add_post("/api/recordings/exports", bind(start_export), name="recordings-export")
    app.router.add_get(
        "/api/recordings/exports/{export_id:[0-9a-f]{24}}", bind(export_status), allow_head=False
    )
    app.router.add_get(
        "/api/recordings/exports/{export_id:[0-9a-f]{24}}/file", bind(export_status), allow_head=False
    )
    app.router.add_get(f"/api/recordings/{rid}", wrap(api.detail), name="recordings-detail", allow_head=False)
    app.router.add_get(f"/api/recordings/{rid}/audio", wrap(api.audio), name="recordings-audio")
    app.router.add_post(
        f"/api/recordings/{rid}/listen-url", wrap(api.listen_url), name="recordings-listen-url"
    )
    app.router.add_get(f"/api/recordings/{rid}/download", wrap(api.download), name="recordings-download")
    app.router.add_get(f"/api/recordings/{rid}/transcode", wrap(api.transcode), allow_head=False)
    app.router.add_post(f"/api/recordings/{rid}/transcode", wrap(api.transcode))
    app.router.add_post(f"/api/recordings/{rid}/mute", bind(mute), name="recordings-mute")
    add_openapi(app, FRAGMENT)
