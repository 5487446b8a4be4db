"""Password hashing with scrypt (``hashlib.scrypt``), parameters kept inside the hash string.

Format: ``$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>``, salt and key in base64 without padding
(the layout passlib uses, so an operator recognises it). Because the parameters travel with each
hash, :data:`CURRENT` can be raised later: old hashes still verify, and :func:`needs_rehash` tells
the login to store a fresh one once the user has proved the password.

A stored hash is data from the database, not trusted code: parameters beyond :data:`LIMITS` are
refused instead of computed, so a tampered row cannot make one login allocate gigabytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

SCHEME: Final = "scrypt"
SALT_BYTES: Final = 16
KEY_BYTES: Final = 32
MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 1024
"""Longer input is refused before hashing (a login body should never cost more than a password)."""


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost: N = 2**ln (CPU and memory), r (block size), p (parallelism)."""

    ln: int
    r: int
    p: int

    @property
    def maxmem(self) -> int:
        # scrypt needs 128 * r * N bytes (plus a little); OpenSSL refuses above its 32 MiB default.
        return 2 * 128 * self.r * (1 << self.ln) + (1 << 20)

    def encode(self) -> str:
        return f"ln={self.ln},r={self.r},p={self.p}"


CURRENT: Final = ScryptParams(ln=15, r=8, p=1)
"""32 MiB and about 0.1 s per hash on a contact center server: slow for a guesser, fine for a login."""
LIMITS: Final = ScryptParams(ln=20, r=32, p=16)
"""The largest parameters a stored hash may ask for."""


class InvalidHash(ValueError):
    """A stored hash string is not one this module wrote (or was altered)."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidHash("salt or key is not base64") from None


def _derive(password: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=1 << params.ln,
        r=params.r,
        p=params.p,
        maxmem=params.maxmem,
        dklen=KEY_BYTES,
    )


def hash_password(password: str, params: ScryptParams = CURRENT) -> str:
    """A new hash of ``password`` with a fresh random salt."""
    if not isinstance(password, str) or not password:
        raise ValueError("a password cannot be empty")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password is at most {MAX_PASSWORD_LENGTH} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, params)
    return f"${SCHEME}${params.encode()}${_b64(salt)}${_b64(key)}"


def parse_hash(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    """``(params, salt, key)`` of a stored hash; :class:`InvalidHash` if it is malformed or too costly."""
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 5 or parts[0] != "" or parts[1] != SCHEME:
        raise InvalidHash("not a $scrypt$ hash")
    try:
        fields = dict(item.split("=", 1) for item in parts[2].split(","))
        params = ScryptParams(ln=int(fields["ln"]), r=int(fields["r"]), p=int(fields["p"]))
    except (ValueError, KeyError):
        raise InvalidHash("parameters are not ln=..,r=..,p=..") from None
    if set(fields) != {"ln", "r", "p"}:
        raise InvalidHash("unknown scrypt parameter")
    if not (1 <= params.ln <= LIMITS.ln and 1 <= params.r <= LIMITS.r and 1 <= params.p <= LIMITS.p):
        raise InvalidHash(f"scrypt parameters {params.encode()} outside the accepted limits")
    salt, key = _unb64(parts[3]), _unb64(parts[4])
    if len(salt) < 8 or len(key) != KEY_BYTES:
        raise InvalidHash("salt or key has the wrong length")
    return params, salt, key


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False for a wrong password or an unusable hash.

    The keys are compared in constant time. A malformed hash is a False, never an exception:
    the caller answers "wrong username or password" either way (and logs the row as broken).
    """
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        params, salt, key = parse_hash(stored)
    except InvalidHash:
        return False
    return hmac.compare_digest(_derive(password, salt, params), key)


def needs_rehash(stored: str, params: ScryptParams = CURRENT) -> bool:
    """True when ``stored`` was made with other parameters (or is unusable) and should be replaced."""
    try:
        found, _salt, _key = parse_hash(stored)
    except InvalidHash:
        return True
    return found != params


_DUMMY_HASHES: dict[ScryptParams, str] = {}


def dummy_verify(password: str, params: ScryptParams = CURRENT) -> bool:
    """Spend the time of one real verification and return False.

    Used for unknown (or unusable) accounts so that "no such user" answers as slowly as "wrong
    password": timing must not tell an attacker which usernames exist.
    """
    dummy = _DUMMY_HASHES.get(params)
    if dummy is None:
        dummy = _DUMMY_HASHES[params] = hash_password(secrets.token_urlsafe(16), params)
    verify_password(password or "-", dummy)
    return False


def check_new_password(password: str) -> None:
    """Refuse a password a user may not set (too short or too long), with a clear message."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"a password is at most {MAX_PASSWORD_LENGTH} characters")
