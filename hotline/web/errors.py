"""Every error the HTTP API returns is JSON: ``{"error": <code>, "message": <text>, "status": <n>}``.

- an unknown path or method: aiohttp's own 404/405, rewritten as JSON;
- a body that is not JSON: 400 with the parser's position (handlers call
  :func:`read_json`; a ``json.JSONDecodeError`` escaping ``request.json()`` is
  treated the same way);
- an unexpected exception: 500 with an ``error_id`` that is also in the log line
  with the traceback, so support can find it; the client never sees internals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from hotline.logs import get_logger
from hotline.metrics import Counter

log = get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_code(status: int) -> str:
    """``404`` -> ``not_found``: the HTTP reason phrase as a stable, machine-readable code."""
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def json_error(status: int, message: str, *, code: str | None = None, **extra: Any) -> web.Response:
    body = {"error": code or error_code(status), "message": message, "status": status, **extra}
    return web.json_response(body, status=status)


class BadJson(web.HTTPBadRequest):
    """The request body is not the JSON the endpoint expects; the text says where it broke."""


async def read_json(request: web.Request) -> Any:
    """The request body parsed as JSON, or a 400 that says what is wrong with it."""
    text = await request.text()
    if not text.strip():
        raise BadJson(text="request body is empty; a JSON document is required")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJson(
            text=f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _http_exception_message(exc: web.HTTPException) -> str:
    text = exc.text or ""
    # aiohttp's default body is "404: Not Found"; a handler's own text is kept as it is.
    if text.startswith(f"{exc.status}: "):
        return text[len(f"{exc.status}: ") :]
    return text or exc.reason


def error_middleware(requests_total: Counter | None = None) -> Any:
    """The middleware; it also counts requests by method, route and status when given a counter."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            if exc.status < 400 or exc.empty_body:
                raise
            response = json_error(exc.status, _http_exception_message(exc))
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in exc.headers:
                    response.headers[header] = exc.headers[header]
            return response
        except json.JSONDecodeError as exc:
            status = 400
            return json_error(
                400, f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            )
        except Exception:
            # CancelledError (client gone, shutdown) is a BaseException and passes through untouched.
            error_id = uuid.uuid4().hex[:16]
            log.exception(
                "unhandled error in HTTP handler", error_id=error_id, method=request.method, path=request.path
            )
            return json_error(
                500,
                "internal error; quote the error_id when reporting it",
                code="internal_error",
                error_id=error_id,
            )
        finally:
            if requests_total is not None:
                requests_total.labels(request.method, _route_label(request), str(status)).inc()

    return middleware
