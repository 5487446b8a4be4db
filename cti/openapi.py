"""OpenAPI fragment of the CTI feature (merged into /openapi.json by the core)."""

from __future__ import annotations

from typing import Any, Final

from cti import protocol

FRAGMENT: Final[dict[str, Any]] = {
    "tags": [{"name": "cti", "description": "Agent screen-pop over websocket (docs/cti-protocol.md)"}],
    "paths": {
        "/agent": {
            "get": {
                "tags": ["cti"],
                "summary": "The agent console (HTML page; logs in with POST /api/login)",
                "responses": {"200": {"description": "The console", "content": {"text/html": {}}}},
            }
        },
        "/agent/static/{name}": {
            "get": {
                "tags": ["cti"],
                "summary": "A file of the agent console (app.js, app.css)",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "The file"},
                    "404": {"$ref": "#/components/responses/NotFound"},
                },
            }
        },
        "/cti/ws": {
            "get": {
                "tags": ["cti"],
                "summary": "CTI websocket: screen-pop, agent state and call control",
                "description": (
                    f"Protocol version {protocol.PROTOCOL_VERSION}; see docs/cti-protocol.md. Upgrade to a "
                    "websocket, then authenticate with ?token= or a first message "
                    '{"type":"auth","token":"...","last_id":n}. Server messages: hello, call.ringing, '
                    "call.answered, call.held, call.resumed, call.transferred, call.ended, call.cancelled, "
                    "wrapup.started, agent.state, replay.gap, result, pong, error. Client commands: "
                    "queue.login, queue.logout, state.ready, state.not_ready, wrapup.end, call.hangup, "
                    "call.hold, call.resume, call.transfer, call.dial, call.disposition, calls.recent, "
                    "subscribe, replay, ping. Close codes: "
                    f"{protocol.CLOSE_UNAUTHORIZED} unauthorized (missing, invalid or expired token), "
                    f"{protocol.CLOSE_FORBIDDEN} forbidden (unknown role, or agent token without iface), "
                    f"{protocol.CLOSE_ABUSE} too many bad messages, "
                    f"{protocol.CLOSE_SLOW_CONSUMER} client not reading, "
                    f"{protocol.CLOSE_GOING_AWAY} server shutdown."
                ),
                "parameters": [
                    {
                        "name": "token",
                        "in": "query",
                        "required": False,
                        "description": "Agent token (hotline cti-token). Prefer the auth message: "
                        "query strings end up in access logs.",
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "101": {"description": "Switching to the websocket protocol"},
                    "400": {"$ref": "#/components/responses/BadRequest"},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "CtiCallRinging": {
                "type": "object",
                "required": ["v", "type", "id", "ts", "call_id", "uniqueid", "pbx", "caller", "ivr"],
                "properties": {
                    "v": {"const": protocol.WIRE_VERSION},
                    "type": {"const": "call.ringing"},
                    "id": {"type": "integer", "description": "Per-agent, increasing"},
                    "ts": {"type": "string", "format": "date-time"},
                    "call_id": {"type": "string", "description": "Asterisk Linkedid"},
                    "uniqueid": {"type": "string", "description": "Caller channel Uniqueid"},
                    "pbx": {"type": "string"},
                    "queue": {"type": ["string", "null"]},
                    "caller": {
                        "type": "object",
                        "properties": {
                            "number": {"type": ["string", "null"]},
                            "name": {"type": ["string", "null"]},
                        },
                    },
                    "ivr": {
                        "type": "object",
                        "properties": {
                            "choice": {"type": ["string", "null"]},
                            "path": {"type": ["string", "null"]},
                        },
                    },
                    "waited_s": {"type": ["number", "null"]},
                },
            }
        }
    },
}
