"""scrypt password hashes: verify, refuse, survive tampering, and know when to be redone."""

from __future__ import annotations

import base64
import time

import pytest

from hotline.auth import passwords
from hotline.auth.passwords import (
    CURRENT,
    InvalidHash,
    ScryptParams,
    check_new_password,
    dummy_verify,
    hash_password,
    needs_rehash,
    parse_hash,
    verify_password,
)

CHEAP = ScryptParams(ln=4, r=8, p=1)
"""Fast parameters for the tests that do not measure cost."""


def test_a_hash_verifies_its_password_and_no_other() -> None:
    stored = hash_password("s3cret-pass", CHEAP)
    assert verify_password("s3cret-pass", stored)
    assert not verify_password("s3cret-pasS", stored)
    assert not verify_password("", stored)
    assert not verify_password("s3cret-pass ", stored)


def test_the_hash_carries_scheme_parameters_and_a_fresh_salt() -> None:
    first, second = hash_password("same password", CHEAP), hash_password("same password", CHEAP)
    assert first.startswith("$scrypt$ln=4,r=8,p=1$")
    assert first != second  # per-user salt: equal passwords do not give equal hashes
    params, salt, key = parse_hash(first)
    assert params == CHEAP and len(salt) == passwords.SALT_BYTES and len(key) == passwords.KEY_BYTES


def test_default_parameters_are_the_current_ones() -> None:
    stored = hash_password("kata sandi panjang")
    assert parse_hash(stored)[0] == CURRENT
    assert verify_password("kata sandi panjang", stored)
    assert not needs_rehash(stored)


def test_non_ascii_passwords_work() -> None:
    stored = hash_password("sandí-Ünïcode-密码", CHEAP)
    assert verify_password("sandí-Ünïcode-密码", stored)


def _replace_part(stored: str, index: int, value: str) -> str:
    parts = stored.split("$")
    parts[index] = value
    return "$".join(parts)


def _flip_key_bit(stored: str) -> str:
    key = bytearray(base64.b64decode(stored.split("$")[4] + "="))
    key[0] ^= 1
    return _replace_part(stored, 4, base64.b64encode(bytes(key)).rstrip(b"=").decode())


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_flip_key_bit, id="key-bit-flipped"),
        pytest.param(lambda h: _replace_part(h, 3, "AAAAAAAAAAAAAAAAAAAAAA"), id="salt-replaced"),
        pytest.param(lambda h: _replace_part(h, 2, "ln=5,r=8,p=1"), id="cost-changed"),
        pytest.param(lambda h: _replace_part(h, 2, "ln=40,r=8,p=1"), id="cost-absurd"),
        pytest.param(lambda h: _replace_part(h, 2, "ln=4,r=8,p=1,x=1"), id="unknown-parameter"),
        pytest.param(lambda h: _replace_part(h, 1, "bcrypt"), id="other-scheme"),
        pytest.param(lambda h: _replace_part(h, 4, "not base64!"), id="key-not-base64"),
        pytest.param(lambda h: _replace_part(h, 4, "AAAA"), id="key-too-short"),
        pytest.param(lambda h: h.rsplit("$", 1)[0], id="truncated"),
        pytest.param(lambda h: "plain-text-password", id="plain-text"),
        pytest.param(lambda h: "", id="empty"),
    ],
)
def test_a_tampered_hash_never_verifies_and_never_raises(tamper: object) -> None:
    stored = hash_password("s3cret-pass", CHEAP)
    assert callable(tamper)
    altered = tamper(stored)
    assert not verify_password("s3cret-pass", altered)
    assert needs_rehash(altered)


def test_absurd_parameters_are_refused_before_any_work() -> None:
    altered = _replace_part(hash_password("x" * 8, CHEAP), 2, "ln=30,r=32,p=16")
    started = time.perf_counter()
    with pytest.raises(InvalidHash, match="outside the accepted limits"):
        parse_hash(altered)
    assert not verify_password("x" * 8, altered)
    assert time.perf_counter() - started < 0.5


def test_rehash_is_needed_when_the_parameters_change() -> None:
    old = hash_password("s3cret-pass", CHEAP)
    assert needs_rehash(old)  # CHEAP is not CURRENT
    assert not needs_rehash(old, CHEAP)
    stronger = ScryptParams(ln=5, r=8, p=1)
    assert needs_rehash(old, stronger)
    # The old hash keeps verifying until it is replaced.
    assert verify_password("s3cret-pass", old)


def test_dummy_verify_costs_about_one_verification() -> None:
    stored = hash_password("s3cret-pass")
    dummy_verify("warm-up")  # the dummy hash is made once
    started = time.perf_counter()
    verify_password("wrong", stored)
    real = time.perf_counter() - started
    started = time.perf_counter()
    assert dummy_verify("wrong") is False
    dummy = time.perf_counter() - started
    assert dummy > real / 3


@pytest.mark.parametrize("bad", ["", "x" * 1025])
def test_hash_refuses_empty_and_oversized_passwords(bad: str) -> None:
    with pytest.raises(ValueError):
        hash_password(bad, CHEAP)
    assert not verify_password(bad, hash_password("fine password", CHEAP))


def test_new_passwords_need_eight_characters() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        check_new_password("short")
    check_new_password("long enough")
