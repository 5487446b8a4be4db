"""hotline's HTTP side: one app factory, health, metrics, OpenAPI and JSON errors.

Features receive the application as ``services.web``; they add routes to its
router, document them with :func:`add_openapi`, and register their websockets
with :func:`track_websocket` so shutdown closes them.
"""

from hotline.web.app import (
    CONFIG_KEY,
    HEALTH_CHECKS_KEY,
    METRICS_KEY,
    OPENAPI_FRAGMENTS_KEY,
    WEBSOCKETS_KEY,
    add_background,
    add_health_check,
    add_openapi,
    create_app,
    track_websocket,
)
from hotline.web.errors import json_error, read_json
from hotline.web.health import DATABASE, PBX_PREFIX, HealthCheck, HealthResult, HealthStatus

__all__ = [
    "CONFIG_KEY",
    "DATABASE",
    "HEALTH_CHECKS_KEY",
    "METRICS_KEY",
    "OPENAPI_FRAGMENTS_KEY",
    "PBX_PREFIX",
    "WEBSOCKETS_KEY",
    "HealthCheck",
    "HealthResult",
    "HealthStatus",
    "add_background",
    "add_health_check",
    "add_openapi",
    "create_app",
    "json_error",
    "read_json",
    "track_websocket",
]
