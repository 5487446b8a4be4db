"""OpenAPI fragment of the recordings API (merged into ``/openapi.json``)."""

from __future__ import annotations

from typing import Any, Final

from recording.search import KNOWN_PARAMETERS


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ID: Final = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_SECURED: Final[list[dict[str, list[str]]]] = [{"bearer": []}]
_ACCESS: Final = {
    "401": _error("Missing, invalid or expired token, or a disabled user"),
    "403": _error("Agents never; team leaders only for their own team's agents"),
}
_FILTER_PARAMS: Final = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    for name in sorted(KNOWN_PARAMETERS)
]
_RECORDING: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "call_id": {"type": "string", "description": "the call's Linkedid (one recording per call)"},
        "pbx": {"type": "string"},
        "site": {"type": "string"},
        "queue": {"type": ["string", "null"]},
        "agent": {"type": ["string", "null"]},
        "team": {"type": ["string", "null"]},
        "caller_number": {"type": ["string", "null"], "description": "masked: ********7890"},
        "started_at": {"type": "string", "format": "date-time"},
        "duration_s": {"type": ["number", "null"]},
        "talk_s": {"type": ["number", "null"]},
        "hold_s": {"type": ["number", "null"]},
        "disposition": {"type": ["string", "null"]},
        "direction": {"enum": ["inbound", "internal"]},
        "status": {"enum": ["recording", "ended", "archived", "empty", "missing", "unanswered", "purged"]},
        "sha256": {"type": ["string", "null"]},
        "qc_score": {"type": ["number", "null"]},
    },
}
_JOB: Final = {
    "type": "object",
    "properties": {
        "state": {"enum": ["none", "queued", "running", "done", "failed"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "error": {"type": ["string", "null"]},
    },
}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tags": ["recordings"],
        "summary": summary,
        "security": _SECURED,
        "responses": {**responses, **_ACCESS},
        **extra,
    }


FRAGMENT: Final[dict[str, Any]] = {
    "tags": [{"name": "recordings", "description": "Call recordings: search, listen, download, export"}],
    "paths": {
        "/api/recordings": {
            "get": _op(
                "Search recordings (newest first by default; paging with limit/offset)",
                {"200": {"description": "a page of recordings"}, "400": _error("A filter is wrong")},
                parameters=_FILTER_PARAMS,
            )
        },
        "/api/recordings/{id}": {
            "get": _op(
                "One recording with its mute intervals",
                {"200": {"description": "the recording"}, "404": _error("No such recording")},
                parameters=[_ID],
            )
        },
        "/api/recordings/{id}/audio": {
            "get": _op(
                "Listen: the original audio, seekable with Range (audited)",
                {
                    "200": {"description": "whole file", "content": {"audio/wav": {}}},
                    "206": {"description": "one byte range"},
                    "400": _error("Malformed Range"),
                    "404": _error("No such recording, or its file is missing"),
                    "409": _error("Not archived yet"),
                    "410": _error("Removed by the retention policy"),
                    "416": _error("Range beyond the end of the file"),
                },
                parameters=[_ID],
            )
        },
        "/api/recordings/{id}/listen-url": {
            "post": _op(
                "A five-minute URL of /audio whose access_token opens listening to this one recording"
                " (for an <audio> element, which cannot send a header; each request is audited)",
                {
                    "200": {"description": "`url` and `expires_at` (epoch seconds)"},
                    "403": _error("Recording of another team, or a role that may not listen"),
                    "404": _error("No such recording, or its file is missing"),
                    "409": _error("Not archived yet"),
                    "410": _error("Removed by the retention policy"),
                },
                parameters=[_ID],
            )
        },
        "/api/recordings/{id}/download": {
            "get": _op(
                "Download the original (format=original) or a transcoded copy (mp3, opus; audited)",
                {
                    "200": {"description": "the file"},
                    "202": {"description": "transcoding started; poll the transcode status"},
                    "503": _error("ffmpeg is not installed"),
                },
                parameters=[
                    _ID,
                    {"name": "format", "in": "query", "schema": {"enum": ["original", "mp3", "opus"]}},
                ],
            )
        },
        "/api/recordings/{id}/transcode": {
            "get": _op(
                "Progress of a transcoding",
                {"200": {"description": "status", "content": {"application/json": {"schema": _JOB}}}},
                parameters=[_ID],
            ),
            "post": _op(
                "Start a transcoding (or join the running one)",
                {"202": {"description": "status"}, "503": _error("ffmpeg is not installed")},
                parameters=[_ID],
            ),
        },
        "/api/recordings/{id}/mute": {
            "post": _op(
                "Mute or unmute a running recording (MixMonitorMute)",
                {"200": {"description": "done"}, "409": _error("Not recording")},
                parameters=[_ID],
            )
        },
        "/api/recordings/exports": {
            "post": _op(
                "ZIP export of a search result (audited); progress at the Location",
                {"202": {"description": "export started"}, "413": _error("Too many recordings")},
            )
        },
        "/api/recordings/exports/{export_id}": {
            "get": _op(
                "Progress of an export", {"200": {"description": "status"}, "404": _error("No such export")}
            )
        },
        "/api/recordings/exports/{export_id}/file": {
            "get": _op(
                "The finished ZIP (audited)",
                {"200": {"description": "application/zip"}, "409": _error("Not finished")},
            )
        },
    },
    "components": {"schemas": {"Recording": _RECORDING}},
}
