"""hotline.tokens: issue, verify, and every way a token must be refused."""

from __future__ import annotations

import base64
import json

import pytest

from hotline.config import Config, CtiConfig, Secret
from hotline.tokens import TokenError, TokenSigner, issue_agent_token

KEY = b"k" * 32


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_round_trip_keeps_every_claim() -> None:
    clock = Clock()
    signer = TokenSigner(KEY, clock=clock)
    token = signer.issue("1001", "agent", 60, {"pbx": "jakarta", "name": "Śantoso"}, iface="PJSIP/1001")
    claims = signer.verify(token)
    assert (claims.sub, claims.role, claims.iface) == ("1001", "agent", "PJSIP/1001")
    assert claims.exp == clock.now + 60
    assert claims.extra == {"pbx": "jakarta", "name": "Śantoso"}
    assert token.startswith("v1.") and "=" not in token and "+" not in token and "/" not in token


def test_expired_token_says_expired() -> None:
    clock = Clock()
    signer = TokenSigner(KEY, clock=clock)
    token = signer.issue("1001", ttl=10, iface="PJSIP/1001")
    clock.now += 9
    assert signer.verify(token).sub == "1001"
    clock.now += 1
    with pytest.raises(TokenError) as info:
        signer.verify(token)
    assert info.value.reason == "expired"


def _tamper_payload(token: str, **changes: object) -> str:
    version, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    new_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{version}.{new_body}.{sig}"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: _tamper_payload(t, iface="PJSIP/1002"),
        lambda t: _tamper_payload(t, exp=9_999_999_999),
        lambda t: _tamper_payload(t, role="admin"),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.replace("v1.", "v2.", 1),
        lambda t: t + ".extra",
        lambda t: t.rsplit(".", 1)[0],
        lambda t: "",
        lambda t: "v1..",
        lambda t: "not a token at all",
        lambda t: "v1." + "A" * 5000,
        lambda t: t.replace("-", "+").replace("_", "/"),
    ],
)
def test_tampered_or_malformed_tokens_are_invalid(mutate: object) -> None:
    signer = TokenSigner(KEY)
    token = signer.issue("1001", iface="PJSIP/1001", extra={"pad": "?>?>?>~~~"})
    bad = mutate(token)  # type: ignore[operator]
    assert bad != token
    with pytest.raises(TokenError) as info:
        signer.verify(bad)
    assert info.value.reason == "invalid"


def test_wrong_key_is_invalid_even_when_expired() -> None:
    clock = Clock()
    token = TokenSigner(b"other key material", clock=clock).issue("1001", ttl=1, iface="PJSIP/1001")
    with pytest.raises(TokenError) as info:
        TokenSigner(KEY, clock=clock).verify(token)
    assert info.value.reason == "invalid"
    clock.now += 100
    with pytest.raises(TokenError) as info:
        TokenSigner(KEY, clock=clock).verify(token)
    assert info.value.reason == "invalid"


def test_signed_garbage_payloads_are_invalid_not_crashes() -> None:
    signer = TokenSigner(KEY)
    for payload in (
        b"[1,2]",
        b"not json",
        b'{"sub": 5, "role": "agent", "exp": 1e12}',
        b'{"sub": "a", "role": "agent", "exp": "soon"}',
        b'{"sub": "a", "role": "agent", "exp": true}',
        b'{"sub": "a", "role": "agent", "iface": 7, "exp": 1e12}',
        b"\xff\xfe",
    ):
        body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        token = f"v1.{body}.{base64.urlsafe_b64encode(signer._sign(f'v1.{body}')).rstrip(b'=').decode()}"
        with pytest.raises(TokenError) as info:
            signer.verify(token)
        assert info.value.reason == "invalid", payload


def test_config_key_and_per_process_key() -> None:
    configured = Config(cti=CtiConfig(token_secret=Secret("a shared secret of some length"), token_ttl=120))
    first, second = TokenSigner.from_config(configured), TokenSigner.from_config(configured)
    assert not first.ephemeral
    assert second.verify(first.issue("1001", iface="PJSIP/1001")).sub == "1001"
    random_a, random_b = TokenSigner.from_config(Config()), TokenSigner.from_config(Config())
    assert random_a.ephemeral
    with pytest.raises(TokenError):
        random_b.verify(random_a.issue("1001", iface="PJSIP/1001"))
    assert first.verify(first.issue("x")).exp - first._clock() <= 120


def test_issue_refuses_bad_arguments() -> None:
    signer = TokenSigner(KEY)
    with pytest.raises(ValueError, match="cannot override"):
        signer.issue("1001", extra={"exp": 1})
    with pytest.raises(ValueError, match="positive"):
        signer.issue("1001", ttl=0)
    with pytest.raises(ValueError, match="subject"):
        signer.issue("")
    with pytest.raises(ValueError, match="phone interface"):
        issue_agent_token(signer, "1001", "1001")
    with pytest.raises(ValueError, match="empty"):
        TokenSigner(b"")
    claims = signer.verify(issue_agent_token(signer, "1001", "PJSIP/1001", pbx="jakarta"))
    assert claims.extra == {"pbx": "jakarta"} and claims.role == "agent"
