"""Outlet PINs are stored only as salted PBKDF2 hashes, and checked off the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from typing import Final

ITERATIONS: Final = 60_000
"""Enough to make a stolen table slow to brute-force, cheap enough (~10 ms) per SAPA call."""
_SCHEME: Final = "pbkdf2_sha256"


def hash_pin(pin: str, *, iterations: int = ITERATIONS) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` of ``pin``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def _matches(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != _SCHEME:
            return False
        digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except ValueError:
        return False  # a malformed hash never matches
    return hmac.compare_digest(digest.hex(), expected)


async def check_pin(pin: str, stored: str) -> bool:
    """True if ``pin`` is the PIN ``stored`` was made from (constant-time compare)."""
    return await asyncio.to_thread(_matches, pin, stored)
