"""OpenAPI fragment of the QC API (merged into ``/openapi.json``)."""

from __future__ import annotations

from typing import Any, Final


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _query(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


_ID: Final = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_SECURED: Final[list[dict[str, list[str]]]] = [{"bearer": []}]
_ACCESS: Final = {
    "401": _error("Missing, invalid or expired token, or a disabled user"),
    "403": _error("Agents never; team leaders only for their own team's agents"),
}
_JSON: Final = {"content": {"application/json": {"schema": {"type": "object"}}}}
_RATINGS: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["ratings"],
    "properties": {
        "ratings": {
            "type": "object",
            "description": "every criterion of the form: 0-100, or null when it does not apply",
            "additionalProperties": {"type": ["number", "null"], "minimum": 0, "maximum": 100},
        },
        "comment": {"type": "string"},
    },
}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tags": ["qc"],
        "summary": summary,
        "security": _SECURED,
        "responses": {**responses, **_ACCESS},
        **extra,
    }


FRAGMENT: Final[dict[str, Any]] = {
    "tags": [
        {"name": "qc", "description": "Quality control: daily samples, scores, calibration, QM reports"}
    ],
    "paths": {
        "/qc": {
            "get": {
                "tags": ["qc"],
                "summary": "The QC page: the day's sample, audio player, scoring form (POST /api/login)",
                "responses": {"200": {"description": "The page", "content": {"text/html": {}}}},
            }
        },
        "/qc/static/{name}": {
            "get": {
                "tags": ["qc"],
                "summary": "A file of the QC page (app.js, app.css)",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "The file"}, "404": {"description": "No such file"}},
            }
        },
        "/api/qc/form": {
            "get": _op(
                "The scoring form (criteria, weights, target)", {"200": {"description": "the form", **_JSON}}
            )
        },
        "/api/qc/samples": {
            "get": _op(
                "The sampled calls of a day (team leaders: their own team)",
                {"200": {"description": "the sample", **_JSON}, "400": _error("Bad date")},
                parameters=[
                    _query("date", "YYYY-MM-DD (default today, local)"),
                    _query("agent", "one agent"),
                    _query("team", "one team"),
                ],
            ),
            "post": _op(
                "Draw a day's sample now (QC, admin); drawing a day again adds only agents not sampled yet",
                {
                    "200": {"description": "nothing new to draw", **_JSON},
                    "201": {"description": "drawn", **_JSON},
                },
                requestBody={
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"date": {"type": "string"}}}
                        }
                    }
                },
            ),
        },
        "/api/qc/calls/{id}": {
            "get": _op(
                "One sampled call with every score (originals and amendments) and the form",
                {"200": {"description": "the call", **_JSON}, "404": _error("No such sampled call")},
                parameters=[_ID],
            )
        },
        "/api/qc/calls/{id}/scores": {
            "post": _op(
                "Score a sampled call (QC, or the agent's team leader); kind=calibration: QC, picked calls",
                {
                    "201": {"description": "the score", **_JSON},
                    "400": _error("Ratings that do not fit the form"),
                    "409": _error("Already scored (amend it), or not picked for calibration"),
                },
                parameters=[_ID],
                requestBody={"content": {"application/json": {"schema": _RATINGS}}},
            )
        },
        "/api/qc/scores/{id}/amendments": {
            "post": _op(
                "Amend a score: a new score referencing the original, with a reason (the original stays)",
                {
                    "201": {"description": "the amendment", **_JSON},
                    "400": _error("No reason, or bad ratings"),
                },
                parameters=[_ID],
                requestBody={
                    "content": {
                        "application/json": {"schema": {**_RATINGS, "required": ["ratings", "reason"]}}
                    }
                },
            )
        },
        "/api/qc/reports": {
            "get": _op(
                "QM per agent and week or month: average, criteria below target, trend",
                {"200": {"description": "JSON, CSV (format=csv) or an SVG chart (format=svg)", **_JSON}},
                parameters=[
                    _query("grain", "week (default) or month"),
                    _query("from", "first day YYYY-MM-DD"),
                    _query("to", "last day YYYY-MM-DD (default today)"),
                    _query("agent", "one agent"),
                    _query("team", "one team"),
                    _query("format", "json (default), csv or svg"),
                ],
            )
        },
        "/api/qc/calibration": {
            "get": _op(
                "Deviation of team leaders' scores from QC's, per criterion and per scorer (QC, QA, admin)",
                {"200": {"description": "the calibration report", **_JSON}},
                parameters=[_query("from", "YYYY-MM-DD"), _query("to", "YYYY-MM-DD")],
            ),
            "post": _op(
                "Pick the share of each team leader's scored calls that QC scores again (QC, admin)",
                {"200": {"description": "picks per team leader", **_JSON}},
            ),
        },
    },
}
