"""Signed, expiring tokens for the CTI websocket (and any other hotline client).

Format: ``v1.<payload>.<signature>``, both parts base64url without padding.
The payload is compact JSON ``{"sub", "role", "iface", "exp", ...extra}``; the
signature is HMAC-SHA256 over ``v1.<payload>`` with the configured key. The
version prefix is signed too, so a future format cannot be confused with this one.

The signature is checked (in constant time) before the payload is even parsed:
nothing an attacker wrote is interpreted until the key vouches for it. An
expired token with a bad signature is reported as ``invalid``, not ``expired``.

Key: ``[cti] token_secret``. When it is empty a random key is made for this
process only; tokens then die with a restart and a token printed by another
process (``hotline cti-token``) is never accepted: :attr:`TokenSigner.ephemeral`
lets the CLI refuse to issue such a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from hotline.config import Config

VERSION: Final = "v1"
MAX_TOKEN_LENGTH: Final = 4096
"""Longer strings are rejected before any work is done on them."""
RESERVED_CLAIMS: Final = frozenset({"sub", "role", "iface", "exp"})
SCOPE_CLAIM: Final = "scope"
"""A token with this claim is good for that one purpose only (e.g. ``recording:12:listen``): such
tokens travel in URLs (an ``<audio>`` element cannot send a header), so :meth:`TokenSigner.verify`
refuses them unless the caller asks for exactly that scope, and a full login token is never
accepted where a scoped one is expected."""
EXTRAS_KEY: Final = "token_signer"
"""Key of the process's one :class:`TokenSigner` in ``Services.extras`` (so every part verifies alike)."""


class TokenError(Exception):
    """A token is not acceptable. ``reason`` is 'expired' or 'invalid' (never more detail to a client)."""

    def __init__(self, reason: Literal["expired", "invalid"], detail: str = "") -> None:
        super().__init__(reason if not detail else f"{reason}: {detail}")
        self.reason: Literal["expired", "invalid"] = reason
        self.detail = detail
        """For the server's log only."""


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    """The subject: an agent id for CTI tokens."""
    role: str
    iface: str | None
    """The agent's phone interface as Asterisk names it (``PJSIP/1001``)."""
    exp: float
    """Expiry, epoch seconds."""
    extra: Mapping[str, Any] = field(default_factory=dict)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)


class TokenSigner:
    """Issues and verifies tokens with one HMAC key."""

    def __init__(
        self,
        key: bytes,
        *,
        ephemeral: bool = False,
        clock: Callable[[], float] = time.time,
        default_ttl: float = 12 * 3600,
    ) -> None:
        if not key:
            raise ValueError("a token key cannot be empty")
        self._key = key
        self._clock = clock
        self.ephemeral = ephemeral
        """True when the key is random for this process (tokens from elsewhere never verify)."""
        self.default_ttl = default_ttl

    @classmethod
    def from_config(cls, config: Config, *, clock: Callable[[], float] = time.time) -> TokenSigner:
        secret = config.cti.token_secret.reveal()
        if secret:
            return cls(secret.encode("utf-8"), clock=clock, default_ttl=config.cti.token_ttl)
        return cls(secrets.token_bytes(32), ephemeral=True, clock=clock, default_ttl=config.cti.token_ttl)

    def _sign(self, signed_part: str) -> bytes:
        return hmac.new(self._key, signed_part.encode("ascii"), hashlib.sha256).digest()

    def issue(
        self,
        subject: str,
        role: str = "agent",
        ttl: float | None = None,
        extra: Mapping[str, Any] | None = None,
        *,
        iface: str | None = None,
    ) -> str:
        """A token for ``subject`` valid ``ttl`` seconds (default: ``[cti] token_ttl``).

        ``extra`` claims (JSON values, e.g. ``{"pbx": "jakarta"}``) travel signed beside the
        reserved ones and cannot override them.
        """
        if not subject:
            raise ValueError("a token needs a subject")
        ttl = self.default_ttl if ttl is None else ttl
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        extra = dict(extra or {})
        clash = RESERVED_CLAIMS & extra.keys()
        if clash:
            raise ValueError(f"extra claims cannot override {sorted(clash)}")
        payload = {"sub": subject, "role": role, "iface": iface, "exp": int(self._clock() + ttl), **extra}
        body = _b64encode(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        signed_part = f"{VERSION}.{body}"
        token = f"{signed_part}.{_b64encode(self._sign(signed_part))}"
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError(f"token longer than {MAX_TOKEN_LENGTH} characters: fewer extra claims")
        return token

    def verify(self, token: str, *, scope: str | None = None) -> TokenClaims:
        """The claims of a genuine, unexpired token; :class:`TokenError` otherwise.

        The token's :data:`SCOPE_CLAIM` must equal ``scope``: without ``scope`` only unscoped tokens
        pass, with it only tokens issued for exactly that scope.
        """
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise TokenError("invalid", "empty, not text or too long")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            raise TokenError("invalid", "not a v1 token")
        try:
            expected = _b64encode(self._sign(f"{parts[0]}.{parts[1]}"))
        except UnicodeEncodeError:
            raise TokenError("invalid", "not base64url") from None
        # Comparing the canonical text (not decoded bytes) also refuses re-encoded variants of a signature.
        if not hmac.compare_digest(parts[2].encode("ascii", "replace"), expected.encode("ascii")):
            raise TokenError("invalid", "bad signature")
        try:
            payload = json.loads(_b64decode(parts[1]).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise TokenError("invalid", "payload is not JSON") from None
        claims = _claims(payload)
        if claims.exp <= self._clock():
            raise TokenError("expired")
        if claims.extra.get(SCOPE_CLAIM) != scope:
            raise TokenError("invalid", "token scope does not fit this use")
        return claims


def _claims(payload: Any) -> TokenClaims:
    if not isinstance(payload, dict):
        raise TokenError("invalid", "payload is not an object")
    sub, role, iface, exp = (payload.get(k) for k in ("sub", "role", "iface", "exp"))
    if not isinstance(sub, str) or not sub or not isinstance(role, str):
        raise TokenError("invalid", "sub/role missing")
    if iface is not None and not isinstance(iface, str):
        raise TokenError("invalid", "iface is not text")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        raise TokenError("invalid", "exp is not a number")
    extra = {k: v for k, v in payload.items() if k not in RESERVED_CLAIMS}
    return TokenClaims(sub=sub, role=role, iface=iface, exp=float(exp), extra=extra)


def issue_agent_token(
    signer: TokenSigner, agent: str, iface: str, *, ttl: float | None = None, pbx: str | None = None
) -> str:
    """A CTI token for one agent's phone (``hotline cti-token --agent 1001 --iface PJSIP/1001``).

    ``pbx`` limits the screen-pop to that PBX's calls (both sites may have an extension 1001).
    """
    if not iface or "/" not in iface:
        raise ValueError(f"iface must name a phone interface like PJSIP/1001, not {iface!r}")
    return signer.issue(agent, "agent", ttl, {"pbx": pbx} if pbx else None, iface=iface)
