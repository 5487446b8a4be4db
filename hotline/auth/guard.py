"""Authorization for aiohttp handlers: who is asking (``Authorization: Bearer``) and may they.

In a handler::

    principal = require(request, roles=("qc", "qa", "admin", "team_leader"))
    if not can_listen(principal, row.agent, row.team):
        raise forbidden(request, principal, "recording of another team")

401 (with ``WWW-Authenticate``) for a missing, malformed, invalid or expired token; 403 for a
valid token whose role is not allowed. Every refusal is one log line (path, address, reason;
never the token). Websockets read their token their own way and call :func:`principal_from_token`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import ROLES, Principal, Role
from hotline.auth.users import get_user
from hotline.logs import get_logger
from hotline.tokens import SCOPE_CLAIM, TokenError, TokenSigner

log = get_logger(__name__)

SIGNER_KEY: Final = web.AppKey("hotline.auth.signer", TokenSigner)
ENGINE_KEY: Final = web.AppKey("hotline.auth.engine", AsyncEngine)
_CHALLENGE: Final = 'Bearer realm="hotline"'
URL_TOKEN_PARAM: Final = "access_token"  # noqa: S105 (a parameter name, not a secret)
"""Query parameter of a scoped URL token (RFC 6750 §2.3 names it so)."""
URL_TOKEN_TTL_S: Final = 300.0
"""Long enough to start listening and seek; short enough that a copied URL soon stops working."""


def _text_claim(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TokenError("invalid", "team/site/pbx claim is not text")


def principal_from_token(signer: TokenSigner, token: str, *, scope: str | None = None) -> Principal:
    """The principal of a genuine, unexpired token; :class:`hotline.tokens.TokenError` otherwise.

    Tokens from ``hotline cti-token`` (agent, iface, optional pbx, no team) are accepted too.
    ``scope``: accept only a token issued by :func:`issue_url_token` for exactly that scope.
    """
    claims = signer.verify(token, scope=scope)
    if claims.role not in ROLES:
        raise TokenError("invalid", f"unknown role {claims.role[:32]!r}")
    role: Role = claims.role
    return Principal(
        username=claims.sub.strip().lower(),
        role=role,
        iface=claims.iface,
        team=_text_claim(claims.extra.get("team")),
        site=_text_claim(claims.extra.get("site")),
        pbx=_text_claim(claims.extra.get("pbx")),
        expires_at=claims.exp,
    )


def issue_url_token(
    signer: TokenSigner, principal: Principal, scope: str, ttl: float = URL_TOKEN_TTL_S
) -> str:
    """A short-lived token of ``principal`` good only for ``scope`` (see :data:`hotline.tokens.SCOPE_CLAIM`).

    For URLs that a browser fetches by itself (an ``<audio src>``), which cannot carry a header.
    It names the same user and role, so access is checked exactly as for the login token.
    """
    extra: dict[str, str] = {SCOPE_CLAIM: scope}
    for name in ("team", "site", "pbx"):
        value = getattr(principal, name)
        if value:
            extra[name] = value
    return signer.issue(principal.username, principal.role, ttl, extra, iface=principal.iface)


def client_address(request: web.Request) -> str:
    """The peer address (a reverse proxy's ``X-Forwarded-For`` is not trusted: anyone can send it)."""
    return request.remote or "unknown"


def _unauthorized(request: web.Request, reason: str, message: str, error: str | None) -> web.HTTPUnauthorized:
    log.warning("request refused", status=401, reason=reason, path=request.path, ip=client_address(request))
    challenge = _CHALLENGE if error is None else f'{_CHALLENGE}, error="{error}"'
    return web.HTTPUnauthorized(text=message, headers={"WWW-Authenticate": challenge})


def forbidden(request: web.Request, principal: Principal, reason: str) -> web.HTTPForbidden:
    """A 403 for a principal who may not do this (logged with who and why); raise it."""
    log.warning(
        "request refused",
        status=403,
        reason=reason,
        username=principal.username,
        role=principal.role,
        path=request.path,
        ip=client_address(request),
    )
    return web.HTTPForbidden(text=f"not allowed: {reason}")


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def require(
    request: web.Request,
    roles: Iterable[str] | None = None,
    *,
    signer: TokenSigner | None = None,
    url_scope: str | None = None,
) -> Principal:
    """The request's principal, if its token is good and its role is one of ``roles`` (None: any).

    The signer is the one :func:`hotline.auth.web.setup` stored on the app, unless given.
    Raises ``HTTPUnauthorized`` (401) or ``HTTPForbidden`` (403); the app's error middleware
    turns them into the usual JSON error body.
    """
    if signer is None:
        signer = request.app.get(SIGNER_KEY)
        if signer is None:
            raise RuntimeError("require() needs hotline.auth.web.setup(app, ...) or a signer")
    token, scope = bearer_token(request), None
    if token is None and url_scope is not None and URL_TOKEN_PARAM in request.query:
        # Only where the handler opted in, and only a token scoped to exactly this resource.
        token, scope = request.query[URL_TOKEN_PARAM], url_scope
    if token is None:
        raise _unauthorized(request, "no bearer token", "a bearer token is required (POST /api/login)", None)
    try:
        principal = principal_from_token(signer, token, scope=scope)
    except TokenError as exc:
        message = "the token has expired; log in again" if exc.reason == "expired" else "invalid token"
        raise _unauthorized(request, str(exc), message, "invalid_token") from None
    if roles is not None:
        allowed = tuple(roles)
        if principal.role not in allowed:
            raise forbidden(request, principal, f"role {principal.role} (needs {' or '.join(allowed)})")
    return principal


async def require_active(
    request: web.Request,
    roles: Iterable[str] | None = None,
    *,
    signer: TokenSigner | None = None,
    url_scope: str | None = None,
) -> Principal:
    """:func:`require`, then check the store: the user still exists, is active and has that role.

    Tokens are stateless, so a user disabled after logging in keeps a valid token until it
    expires; handlers that expose sensitive data (recordings) use this to cut them off at once.
    Costs one indexed query.
    """
    principal = require(request, roles, signer=signer, url_scope=url_scope)
    engine = request.app.get(ENGINE_KEY)
    if engine is None:
        raise RuntimeError("require_active() needs hotline.auth.web.setup(app, engine, ...)")
    user = await get_user(engine, principal.username)
    if user is None or not user.active or user.role != principal.role:
        raise _unauthorized(request, "user disabled or changed", "this account is no longer active", None)
    return principal
