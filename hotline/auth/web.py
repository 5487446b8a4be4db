"""HTTP routes of the auth core: ``POST /api/login`` and ``GET /api/me``.

The composition root calls :func:`setup` once the app exists; features then call
:func:`hotline.auth.guard.require` in their handlers (it finds the signer stored here).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.guard import ENGINE_KEY, SIGNER_KEY, client_address, require
from hotline.auth.login import Authenticator, LoginRefused, LoginThrottled
from hotline.auth.openapi import FRAGMENT
from hotline.auth.passwords import MAX_PASSWORD_LENGTH
from hotline.auth.ratelimit import LoginLimiter
from hotline.logs import get_logger
from hotline.store.db import StoreError
from hotline.tokens import TokenSigner
from hotline.web.app import add_openapi
from hotline.web.errors import json_error, read_json

log = get_logger(__name__)

AUTHENTICATOR_KEY: Final = web.AppKey("hotline.auth.authenticator", Authenticator)
_MAX_USERNAME: Final = 256


def iso_utc(epoch: float) -> str:
    """``2025-01-10T05:00:00Z``: how the API writes instants."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _credentials(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object {username, password}")
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password:
        raise web.HTTPBadRequest(text="username and password are required, as JSON strings")
    if len(username) > _MAX_USERNAME or len(password) > MAX_PASSWORD_LENGTH:
        raise web.HTTPBadRequest(text="username or password is too long")
    return username, password


async def _login(request: web.Request) -> web.Response:
    username, password = _credentials(await read_json(request))
    authenticator = request.app[AUTHENTICATOR_KEY]
    try:
        result = await authenticator.login(username, password, client_address(request))
    except LoginRefused as exc:
        challenge = {"WWW-Authenticate": 'Bearer realm="hotline"'}
        raise web.HTTPUnauthorized(text=str(exc), headers=challenge) from None
    except LoginThrottled as exc:
        raise web.HTTPTooManyRequests(text=str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    except StoreError as exc:
        log.error("login impossible: user store unavailable", error=str(exc))
        return json_error(503, "login is unavailable right now; try again shortly")
    body = {
        "token": result.token,
        "token_type": "Bearer",
        "expires_at": iso_utc(result.expires_at),
        "expires_in": max(0, int(result.expires_at - time.time())),
        "user": result.user.public(),
    }
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def _me(request: web.Request) -> web.Response:
    principal = require(request)
    return web.json_response(
        {
            "username": principal.username,
            "role": principal.role,
            "iface": principal.iface,
            "team": principal.team,
            "site": principal.site,
            "pbx": principal.pbx,
            "expires_at": iso_utc(principal.expires_at),
        },
        headers={"Cache-Control": "no-store"},
    )


def setup(
    app: web.Application, engine: AsyncEngine, signer: TokenSigner, *, limiter: LoginLimiter | None = None
) -> Authenticator:
    """Add the login routes and their OpenAPI fragment to ``app``; store the signer for :func:`require`.

    ``signer`` must be the process's one signer (``services.extras[hotline.tokens.EXTRAS_KEY]``) so
    tokens from the login verify in every feature. Returns the authenticator (tests tune its limiter).
    """
    authenticator = Authenticator(engine, signer, limiter)
    app[SIGNER_KEY] = signer
    app[ENGINE_KEY] = engine
    app[AUTHENTICATOR_KEY] = authenticator
    app.router.add_post("/api/login", _login, name="auth-login")
    app.router.add_get("/api/me", _me, name="auth-me", allow_head=False)
    add_openapi(app, FRAGMENT)
    return authenticator
