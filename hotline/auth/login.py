"""The login decision: a username and password in, a signed token out (or a refusal).

Refusals are indistinguishable from outside: an unknown user, a wrong password, a disabled
account and a broken stored hash all cost one scrypt computation and give the same message, so
neither the answer nor its timing tells a guesser which usernames exist. The reason is kept for
the log line and the audit row. Hashing runs in a thread (it takes ~0.1 s of CPU) and at most
:data:`MAX_CONCURRENT_HASHES` at once, so a burst of logins at shift start cannot starve the loop
or the memory (32 MiB each).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth import passwords
from hotline.auth.auditlog import audit
from hotline.auth.model import User
from hotline.auth.ratelimit import LoginLimiter
from hotline.auth.users import get_user, set_password_hash
from hotline.logs import get_logger
from hotline.store.db import StoreError
from hotline.tokens import TokenSigner

log = get_logger(__name__)

MAX_CONCURRENT_HASHES: Final = 4
REFUSED_MESSAGE: Final = "wrong username or password"
_MAX_LOGGED_NAME: Final = 64


class LoginRefused(Exception):
    """Wrong credentials (whatever the exact reason, which is in ``reason`` for the log only)."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSED_MESSAGE)
        self.reason = reason


class LoginThrottled(Exception):
    """Too many recent failures for this username from this address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginResult:
    token: str
    expires_at: float
    user: User


def _check_password(password: str, stored: str | None) -> str | None:
    """None when the password matches; otherwise why not. Always one scrypt's worth of time."""
    if stored is None:
        passwords.dummy_verify(password)
        return "unknown user"
    try:
        passwords.parse_hash(stored)
    except passwords.InvalidHash:
        passwords.dummy_verify(password)
        return "stored password hash is unusable"
    return None if passwords.verify_password(password, stored) else "wrong password"


class Authenticator:
    """Checks credentials against the store, throttles failures, issues tokens, audits each try."""

    def __init__(self, engine: AsyncEngine, signer: TokenSigner, limiter: LoginLimiter | None = None) -> None:
        self.engine = engine
        self.signer = signer
        self.limiter = limiter or LoginLimiter()
        self._hashing = asyncio.Semaphore(MAX_CONCURRENT_HASHES)

    async def login(self, username: str, password: str, address: str) -> LoginResult:
        """A token for these credentials; :class:`LoginRefused`, :class:`LoginThrottled` or ``StoreError``."""
        # The limiter's key is the normalized name, so QC.Dewi and qc.dewi share one budget.
        name = username.strip().lower()[:_MAX_LOGGED_NAME]
        retry_after = self.limiter.retry_after(name, address)
        if retry_after:
            log.warning("login throttled", username=name, ip=address, retry_after=retry_after)
            raise LoginThrottled(retry_after)
        user = await get_user(self.engine, username)
        async with self._hashing:
            reason = await asyncio.to_thread(_check_password, password, user.password_hash if user else None)
        if reason is None and user is not None and not user.active:
            reason = "user disabled"
        if reason is not None or user is None:
            await self._refused(name, address, reason or "unknown user")
        assert user is not None
        self.limiter.succeeded(name, address)
        if passwords.needs_rehash(user.password_hash):
            await self._rehash(user, password)
        extra = {"team": user.team, "site": user.site, "pbx": user.pbx}
        token = self.signer.issue(user.username, user.role, extra=extra, iface=user.iface)
        expires_at = self.signer.verify(token).exp
        log.info("login", username=user.username, role=user.role, ip=address)
        await self._audit(user.username, address, ok=True, detail=user.role)
        return LoginResult(token=token, expires_at=expires_at, user=user)

    async def _refused(self, name: str, address: str, reason: str) -> None:
        self.limiter.failed(name, address)
        log.warning("login refused", username=name, ip=address, reason=reason)
        await self._audit(name, address, ok=False, detail=reason)
        raise LoginRefused(reason)

    async def _audit(self, name: str, address: str, *, ok: bool, detail: str) -> None:
        # A login is not blocked by a failing audit write (the floor must keep working); the log
        # line above already recorded the attempt and this error says the row is missing.
        try:
            await audit(self.engine, name, "login", name, source=address, ok=ok, detail=detail)
        except StoreError as exc:
            log.error("login not written to the audit log", username=name, ip=address, error=str(exc))

    async def _rehash(self, user: User, password: str) -> None:
        # The password was just proved, so this is the one moment it can be hashed with new parameters.
        try:
            async with self._hashing:
                fresh = await asyncio.to_thread(passwords.hash_password, password)
            await set_password_hash(self.engine, user.username, fresh)
        except (StoreError, ValueError) as exc:
            log.error("password rehash failed; the old hash stays", username=user.username, error=str(exc))
        else:
            log.info("password rehashed with current parameters", username=user.username)
