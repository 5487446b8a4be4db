"""The recordings API: search, one recording, listen (Range), download (original or transcoded).

Access (docs/recordings.md): QC, QA and admins see every recording; team leaders the recordings
of their own team's agents; agents none. Every listen and download is written to the audit log
*before* a byte is sent, and refusals are audited too (who tried what, from where). Recording ids
are integers matched by the router (``\\d+``): nothing a client sends becomes part of a path.

An ``<audio>`` element cannot send a bearer header, so ``POST /api/recordings/{id}/listen-url``
gives a URL of ``/audio`` with a five-minute token scoped to listening to that one recording
(:func:`hotline.auth.guard.issue_url_token`): the browser then streams it with Range requests,
each checked and audited like any other listen, and the token opens nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import audit, can_listen, forbidden, require_active
from hotline.auth.guard import (
    SIGNER_KEY,
    URL_TOKEN_PARAM,
    bearer_token,
    client_address,
    issue_url_token,
    principal_from_token,
)
from hotline.auth.model import TEAM_LEADER, Principal
from hotline.logs import get_logger
from hotline.store.db import StoreError
from hotline.web.errors import json_error
from recording import repo
from recording.archive import UnsafeName, archived_path
from recording.capture import Muted
from recording.export import Exports
from recording.search import FilterError, Filters, parse_filters, public, search
from recording.settings import RecordingSettings
from recording.stream import RangeError, send_file
from recording.tables import ENDED, HAS_FILE, PURGED, RECORDING
from recording.transcode import CODECS, Transcoder, TranscodeUnavailable

log = get_logger(__name__)


def listen_scope(recording_id: str) -> str:
    """The scope of a URL token that opens listening to one recording, and nothing else."""
    return f"recording:{int(recording_id)}:listen"


READ_ROLES: Final = ("qc", "qa", "admin", "team_leader")
CONTENT_TYPES: Final = {"wav": "audio/wav", "wav49": "audio/wav"}
MAX_ID: Final = 2**63 - 1


class RecordingApi:
    """Handlers of ``/api/recordings``; one per application."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: RecordingSettings,
        transcoder: Transcoder,
        exports: Exports,
        ami: Any,
        record_mute: Callable[[Muted, str], Awaitable[None]],
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.transcoder = transcoder
        self.exports = exports
        self.ami = ami
        self.record_mute = record_mute

    # -- access -------------------------------------------------------------------------------

    async def principal(
        self, request: web.Request, roles: tuple[str, ...] = READ_ROLES, *, url_scope: str | None = None
    ) -> Principal:
        try:
            return await require_active(request, roles, url_scope=url_scope)
        except web.HTTPForbidden:
            # A valid user of the wrong role (an agent): the refusal is on the audit record too.
            token = bearer_token(request)
            signer = request.app.get(SIGNER_KEY)
            if token and signer is not None:
                who = principal_from_token(signer, token)
                await self.audit(
                    request, who, "recording.access", request.path, ok=False, detail="role not allowed"
                )
            raise

    async def audit(
        self,
        request: web.Request,
        who: Principal,
        action: str,
        target: str,
        *,
        ok: bool = True,
        detail: str = "",
    ) -> None:
        await audit(self.engine, who, action, target, source=client_address(request), ok=ok, detail=detail)

    async def recording_for(self, request: web.Request, who: Principal, action: str) -> dict[str, Any]:
        """The row named by the URL, if it exists and ``who`` may have it (404/403 otherwise)."""
        rec_id = int(request.match_info["id"])
        row = await repo.get(self.engine, rec_id) if rec_id <= MAX_ID else None
        if row is None:
            raise web.HTTPNotFound(text=f"no recording {rec_id}")
        if not can_listen(who, row["agent"], row["team"]):
            await self.audit(
                request, who, action, f"recording:{rec_id}", ok=False, detail="recording of another team"
            )
            raise forbidden(request, who, "recording of another team")
        return row

    def file_of(self, row: dict[str, Any]) -> Path:
        """The archived file of a row, or a clear HTTP error saying why there is none."""
        status = row["status"]
        if status == PURGED:
            raise web.HTTPGone(text=f"recording {row['id']} was removed by the retention policy")
        if status in (RECORDING, ENDED):
            raise web.HTTPConflict(
                text=f"recording {row['id']} is not archived yet (the call is {status}); try again shortly"
            )
        if status not in HAS_FILE or not row["file_path"]:
            raise web.HTTPNotFound(
                text=f"recording {row['id']} has no audio ({status}: {row['problem'] or 'no file'})"
            )
        try:
            path = archived_path(self.settings.archive_dir, row["file_path"])
        except UnsafeName:
            raise web.HTTPNotFound(text=f"recording {row['id']} has no usable file path") from None
        if not path.is_file():
            log.error("recording file missing from the archive", recording=row["id"])
            raise web.HTTPNotFound(
                text=f"recording {row['id']}: its file is missing from the archive "
                "(run `hotline recordings verify`)"
            )
        return path

    # -- handlers -----------------------------------------------------------------------------

    async def search(self, request: web.Request) -> web.Response:
        who = await self.principal(request)
        try:
            filters = parse_filters(dict(request.query), self.settings.timezone)
        except FilterError as exc:
            return json_error(400, str(exc))
        filters = self.scoped(who, filters)
        page = await search(self.engine, filters)
        body = {
            "items": [public(row) for row in page.items],
            "limit": page.limit,
            "offset": page.offset,
            "has_more": page.has_more,
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    @staticmethod
    def scoped(who: Principal, filters: Filters) -> Filters:
        if who.role == TEAM_LEADER:
            if filters.team is not None and (who.team or "").casefold() != filters.team.casefold():
                raise forbidden_search(who)
            return filters.limited_to_team(who.team)
        return filters

    async def detail(self, request: web.Request) -> web.Response:
        who = await self.principal(request)
        row = await self.recording_for(request, who, "recording.view")
        body = public(row)
        body["mutes"] = [
            {
                "muted_at": m["muted_at"],
                "unmuted_at": m["unmuted_at"],
                "direction": m["direction"],
                "source": m["source"],
            }
            for m in await repo.mutes(self.engine, int(row["id"]))
        ]
        body["audio_url"] = f"/api/recordings/{row['id']}/audio"
        body["listen_url"] = f"/api/recordings/{row['id']}/listen-url"
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def audio(self, request: web.Request) -> web.StreamResponse:
        """Listen: the original file, inline, seekable (bearer header, or a URL from :meth:`listen_url`)."""
        return await self._serve(
            request, "recording.listen", download=False, url_scope=listen_scope(request.match_info["id"])
        )

    async def listen_url(self, request: web.Request) -> web.Response:
        """A short-lived URL to listen to one recording from an ``<audio src>`` (see the module doc)."""
        who = await self.principal(request)
        row = await self.recording_for(request, who, "recording.listen")
        self.file_of(row)  # the same clear 409/410 now, rather than from the audio element later
        signer, scope = request.app[SIGNER_KEY], listen_scope(str(row["id"]))
        token = issue_url_token(signer, who, scope)
        body = {
            "url": f"/api/recordings/{row['id']}/audio?{URL_TOKEN_PARAM}={token}",
            "expires_at": signer.verify(token, scope=scope).exp,
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def download(self, request: web.Request) -> web.StreamResponse:
        fmt = request.query.get("format", "original").lower()
        if fmt in ("original", "wav"):
            return await self._serve(request, "recording.download", download=True)
        if fmt not in CODECS or fmt not in self.settings.formats:
            return json_error(400, f"format must be original or one of {', '.join(self.settings.formats)}")
        who = await self.principal(request)
        row = await self.recording_for(request, who, "recording.download")
        path = self.file_of(row)
        cached = self.transcoder.cached(row["sha256"], fmt)
        if cached is None:
            status = self._start_transcode(row, fmt, path)
            location = f"/api/recordings/{row['id']}/transcode?format={fmt}"
            return web.json_response(status, status=202, headers={"Location": location, "Retry-After": "2"})
        await self.audit(request, who, "recording.download", f"recording:{row['id']}", detail=f"format={fmt}")
        name = f"recording-{row['id']}.{fmt}"
        return await send_file(request, cached, content_type=CODECS[fmt][3], etag=None, download_name=name)

    def _start_transcode(self, row: dict[str, Any], fmt: str, path: Path) -> dict[str, object]:
        try:
            return self.transcoder.start(row["sha256"], fmt, path, float(row["duration_s"] or 0.0))
        except TranscodeUnavailable as exc:
            raise web.HTTPServiceUnavailable(text=f"transcoding unavailable: {exc}") from None

    async def transcode(self, request: web.Request) -> web.Response:
        """GET: the job's status; POST: start it (or join the one running)."""
        fmt = request.query.get("format", "").lower()
        if fmt not in CODECS or fmt not in self.settings.formats:
            return json_error(400, f"format must be one of {', '.join(self.settings.formats)}")
        who = await self.principal(request)
        row = await self.recording_for(request, who, "recording.transcode")
        if request.method == "POST":
            status = self._start_transcode(row, fmt, self.file_of(row))
            return web.json_response(status, status=202)
        return web.json_response(self.transcoder.status(row["sha256"] or "", fmt))

    async def _serve(
        self, request: web.Request, action: str, *, download: bool, url_scope: str | None = None
    ) -> web.StreamResponse:
        who = await self.principal(request, url_scope=url_scope)
        row = await self.recording_for(request, who, action)
        path = self.file_of(row)
        detail = f"range={request.headers['Range'][:60]}" if "Range" in request.headers else ""
        # Written before anything is sent: if the audit cannot be written, nothing is served.
        await self.audit(request, who, action, f"recording:{row['id']}", detail=detail)
        name = f"recording-{row['id']}{path.suffix}" if download else None
        try:
            return await send_file(
                request,
                path,
                content_type=CONTENT_TYPES.get(row["format"] or "", "application/octet-stream"),
                etag=row["sha256"],
                download_name=name,
            )
        except RangeError as exc:
            size = (await asyncio.to_thread(path.stat)).st_size
            headers = {"Content-Range": f"bytes */{size}"} if exc.status == 416 else {}
            response = json_error(exc.status, str(exc))
            response.headers.update(headers)
            return response


def forbidden_search(who: Principal) -> web.HTTPForbidden:
    return web.HTTPForbidden(text=f"not allowed: team leaders search only their own team ({who.team})")


async def store_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """The store being down is a 503 with a clear message, not a 500."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except StoreError as exc:
        log.error("recordings API: store unavailable", path=request.path, error=str(exc))
        return json_error(503, "the recordings database is unavailable right now; try again shortly")
