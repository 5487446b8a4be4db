"""OpenAPI fragment of ``GET /api/kpi`` and ``GET /api/reports/{period}`` (merged into /openapi.json)."""

from __future__ import annotations

from typing import Any, Final

from hotline.kpi.report import SUMMARY_KEYS


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _query(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_ACCESS: Final = (
    "Bearer token from POST /api/login. qa, qc and admin see every call; team_leader only the ACD "
    "calls of their own team's agents, so by=agent (reports: by=agent or by=team), anything else is "
    "403 with the reason (offered, abandoned and SCR count callers before an agent answers: they "
    "belong to no team); agent: 403."
)
_REFUSALS: Final = {
    "400": _error("A parameter is not acceptable; the message says which"),
    "401": _error("No token, or an invalid or expired one"),
    "403": _error("The role may not see this (agents; team leaders asking for more than their team)"),
}
_FIGURES: Final[dict[str, Any]] = {
    "type": "object",
    "description": "One set of KPIs (docs/kpi.md): counts, percentages 0..100, seconds; null = no data.",
    "properties": {key: {"type": ["number", "null"]} for key in SUMMARY_KEYS},
}

FRAGMENT: Final[dict[str, Any]] = {
    "tags": [{"name": "kpi", "description": "ACD KPIs and the daily, weekly and monthly reports"}],
    "paths": {
        "/api/kpi": {
            "get": {
                "tags": ["kpi"],
                "summary": "KPIs of a window: the object 'hotline kpi --json' prints",
                "description": "From the KPI rollups when the window's ends are on 15-minute boundaries "
                "and the intervals are made of 15 minutes (milliseconds for a month), else from the "
                "queue attempts (then from and to are required, at most 32 days apart). " + _ACCESS,
                "security": [{"bearer": []}],
                "parameters": [
                    _query(
                        "from", "Window start, ISO 8601; a bare date/time is local time", {"type": "string"}
                    ),
                    _query("to", "Window end (exclusive), ISO 8601", {"type": "string"}),
                    _query(
                        "interval",
                        "Per-interval breakdown on the local clock",
                        {"type": "string", "examples": ["15", "30", "60", "day", "week", "month"]},
                    ),
                    _query(
                        "by",
                        "One set of KPIs per group; per agent also login_s, pause_s, pause_by_reason "
                        "(seconds per reason), available_s and occupancy (%), every agent logged in listed",
                        {"enum": ["queue", "agent", "site"]},
                    ),
                    _query("pbx", "Only this PBX ([[pbx]] name)", {"type": "string"}),
                ],
                "responses": {
                    "200": {
                        "description": "The overall KPIs, plus intervals and groups when asked; a team "
                        "leader's answer names the team and totals its agents' ACD calls",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "allOf": [{"$ref": "#/components/schemas/KpiFigures"}],
                                    "type": "object",
                                    "properties": {
                                        "intervals": {"type": "array", "items": {"type": "object"}},
                                        "groups": {"type": "object"},
                                        "source": {"type": "string"},
                                        "timezone": {"type": "string", "examples": ["Asia/Jakarta"]},
                                        "interval": {"type": "string", "examples": ["15m", "day"]},
                                        "team": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    **_REFUSALS,
                },
            }
        },
        "/api/reports/{period}": {
            "get": {
                "tags": ["kpi"],
                "summary": "The daily, weekly or monthly report (what 'hotline report' writes)",
                "description": "HTML with charts against the targets, or one of its CSV tables. " + _ACCESS,
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "period",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": ["day", "week", "month"]},
                    },
                    _query(
                        "date",
                        "A day in the period, YYYY-MM-DD (local)",
                        {"type": "string", "format": "date"},
                        required=True,
                    ),
                    _query("by", "Also per group", {"enum": ["site", "queue", "agent", "team"]}),
                    _query("format", "html (default) or csv", {"enum": ["html", "csv"]}),
                    _query(
                        "table",
                        "CSV only: buckets (default without by), groups (default with by), group_buckets",
                        {"enum": ["buckets", "groups", "group_buckets"]},
                    ),
                    _query(
                        "interval", "Minutes per interval of a day report (default 30)", {"type": "integer"}
                    ),
                    _query("pbx", "Only this PBX", {"type": "string"}),
                ],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {
                            "text/html": {"schema": {"type": "string"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "404": _error("No such period"),
                    **_REFUSALS,
                },
            }
        },
    },
    "components": {
        "schemas": {"KpiFigures": _FIGURES},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
