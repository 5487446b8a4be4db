"""OpenAPI fragment of the login routes (merged into ``/openapi.json`` by :func:`hotline.auth.web.setup`)."""

from __future__ import annotations

from typing import Any, Final

from hotline.auth.model import ROLES


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_USER: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["id", "username", "display_name", "role", "active"],
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string", "examples": ["1001"]},
        "display_name": {"type": "string", "examples": ["Siti Rahma"]},
        "role": {"enum": list(ROLES)},
        "team": {"type": ["string", "null"]},
        "site": {"type": ["string", "null"], "examples": ["jakarta"]},
        "iface": {"type": ["string", "null"], "examples": ["PJSIP/1001"]},
        "pbx": {"type": ["string", "null"]},
        "active": {"type": "boolean"},
    },
}

FRAGMENT: Final[dict[str, Any]] = {
    "tags": [{"name": "auth", "description": "Login and the caller's identity"}],
    "paths": {
        "/api/login": {
            "post": {
                "tags": ["auth"],
                "summary": "Exchange a username and password for a bearer token",
                "description": "The token is sent as 'Authorization: Bearer <token>' (and given to the "
                "CTI websocket). Wrong password, unknown and disabled users get the same 401. After 5 "
                "failures in a minute for one username from one address: 429 with Retry-After.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["username", "password"],
                                "properties": {
                                    "username": {"type": "string", "examples": ["1001"]},
                                    "password": {"type": "string", "format": "password"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "logged in",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Login"}}},
                    },
                    "400": _error("The body is not {username, password} as JSON strings"),
                    "401": _error("Wrong username or password"),
                    "429": _error("Too many failed logins; retry after the Retry-After seconds"),
                    "503": _error("The user store cannot be reached"),
                },
            }
        },
        "/api/me": {
            "get": {
                "tags": ["auth"],
                "summary": "Who the bearer token belongs to",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": "the token's principal",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Principal"}}
                        },
                    },
                    "401": _error("Missing, invalid or expired token"),
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "User": _USER,
            "Login": {
                "type": "object",
                "required": ["token", "token_type", "expires_at", "expires_in", "user"],
                "properties": {
                    "token": {"type": "string"},
                    "token_type": {"const": "Bearer"},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "expires_in": {"type": "integer", "description": "seconds"},
                    "user": {"$ref": "#/components/schemas/User"},
                },
            },
            "Principal": {
                "type": "object",
                "required": ["username", "role", "expires_at"],
                "properties": {
                    "username": {"type": "string"},
                    "role": {"enum": list(ROLES)},
                    "iface": {"type": ["string", "null"]},
                    "team": {"type": ["string", "null"]},
                    "site": {"type": ["string", "null"]},
                    "pbx": {"type": ["string", "null"]},
                    "expires_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}
