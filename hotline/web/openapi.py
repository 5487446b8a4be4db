"""``GET /openapi.json``: the OpenAPI 3.1 document of every route hotline serves.

The core documents its own paths here; each feature hands in a fragment
(``{"paths": ..., "components": {"schemas": ...}, "tags": [...]}``) in the manner
of Wazo's per-plugin ``api.yml``. Fragments are merged when the document is
served, so a feature set up after :func:`hotline.web.create_app` is included.
Two fragments claiming the same path or schema is a wiring mistake and fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any, Final

OPENAPI_VERSION: Final = "3.1.0"
_FRAGMENT_KEYS: Final = frozenset({"paths", "components", "tags"})


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _check_result_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": ["ok", "degraded", "down"]}, "detail": {"type": "string"}},
        "additionalProperties": True,
    }


CORE_FRAGMENT: Final[dict[str, Any]] = {
    "tags": [{"name": "operations", "description": "Health, metrics and this document"}],
    "paths": {
        "/health": {
            "get": {
                "tags": ["operations"],
                "summary": "Overall health, PBX links and database",
                "description": "503 when the database is down or no configured PBX is connected; "
                "200 with status 'degraded' when anything else is wrong.",
                "responses": {
                    "200": {
                        "description": "ok or degraded",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                    },
                    "503": {
                        "description": "down",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                    },
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["operations"],
                "summary": "Prometheus metrics (text exposition format 0.0.4)",
                "responses": {
                    "200": {
                        "description": "metrics",
                        "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["operations"],
                "summary": "This OpenAPI document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message", "status"],
                "properties": {
                    "error": {"type": "string", "examples": ["not_found", "bad_request", "internal_error"]},
                    "message": {"type": "string"},
                    "status": {"type": "integer"},
                    "error_id": {"type": "string", "description": "Present on 500; also in the server log"},
                },
            },
            "CheckResult": _check_result_schema(),
            "Health": {
                "type": "object",
                "required": ["status", "pbx", "database", "components", "checked_at"],
                "properties": {
                    "status": {"enum": ["ok", "degraded", "down"]},
                    "checked_at": {"type": "string", "format": "date-time"},
                    "pbx": {
                        "type": "object",
                        "additionalProperties": {"$ref": "#/components/schemas/CheckResult"},
                    },
                    "database": {"oneOf": [{"$ref": "#/components/schemas/CheckResult"}, {"type": "null"}]},
                    "components": {
                        "type": "object",
                        "additionalProperties": {"$ref": "#/components/schemas/CheckResult"},
                    },
                },
            },
        },
        "responses": {
            "NotFound": _error_response("No such path"),
            "BadRequest": _error_response("The request (or its JSON body) is not acceptable"),
            "InternalError": _error_response("Unexpected error; the error_id is in the server log"),
        },
    },
}


def check_fragment(fragment: Mapping[str, Any]) -> None:
    """Refuse a fragment that is not shaped like a piece of an OpenAPI document."""
    if not isinstance(fragment, Mapping):
        raise ValueError("an OpenAPI fragment must be a mapping")
    unknown = set(fragment) - _FRAGMENT_KEYS
    if unknown:
        raise ValueError(
            f"OpenAPI fragment has unknown keys {sorted(unknown)} (allowed: {sorted(_FRAGMENT_KEYS)})"
        )
    for path in fragment.get("paths", {}):
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"OpenAPI path {path!r} must start with '/'")


def _version() -> str:
    try:
        return metadata.version("hotline")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def build_document(fragments: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The core fragment plus every feature fragment, merged into one OpenAPI 3.1 document."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    tags: dict[str, Any] = {}
    for fragment in (CORE_FRAGMENT, *fragments):
        check_fragment(fragment)
        for path, item in fragment.get("paths", {}).items():
            if path in paths:
                raise ValueError(f"two OpenAPI fragments document {path}")
            paths[path] = item
        for section, entries in fragment.get("components", {}).items():
            target = components.setdefault(section, {})
            for name, value in entries.items():
                if name in target and target[name] != value:
                    raise ValueError(f"two OpenAPI fragments define components.{section}.{name} differently")
                target[name] = value
        for tag in fragment.get("tags", []):
            tags.setdefault(tag["name"], tag)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "hotline",
            "version": _version(),
            "description": "Telephony backend of the Pegadaian contact center (IVR, AMI, CTI, recordings).",
        },
        "tags": list(tags.values()),
        "paths": dict(sorted(paths.items())),
        "components": components,
    }
