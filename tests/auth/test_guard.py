"""require(): 401 for a missing, malformed, invalid or expired token, 403 for a role not allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.auth import Principal, principal_from_token, require
from hotline.auth.guard import SIGNER_KEY, URL_TOKEN_TTL_S, issue_url_token
from hotline.config import Config
from hotline.metrics import Registry
from hotline.tokens import TokenError, TokenSigner, issue_agent_token
from hotline.web import create_app

Client = TestClient[web.Request, web.Application]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A settable clock shared by the signer, so tokens can be made to expire."""
    return Clock()


@pytest.fixture
def guard_signer(clock: Clock) -> TokenSigner:
    """A signer on the test clock."""
    return TokenSigner(b"guard test key, long enough", clock=clock, default_ttl=600)


async def _recordings(request: web.Request) -> web.Response:
    principal = require(request, roles=("qc", "qa", "admin", "team_leader"))
    return web.json_response({"username": principal.username, "role": principal.role})


@pytest.fixture
async def guarded(guard_signer: TokenSigner) -> AsyncIterator[Client]:
    """An app with one handler that needs a supervising role."""
    app = create_app(config=Config(), health_checks={}, metrics=Registry(), openapi_fragments=[])
    app[SIGNER_KEY] = guard_signer
    app.router.add_get("/recordings", _recordings)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_good_token_with_an_allowed_role_passes(guarded: Client, guard_signer: TokenSigner) -> None:
    token = guard_signer.issue("qc.dewi", "qc")
    response = await guarded.get("/recordings", headers=_bearer(token))
    assert response.status == 200
    assert await response.json() == {"username": "qc.dewi", "role": "qc"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer   "},
        {"Authorization": "Basic cWM6cGFzcw=="},
    ],
)
async def test_missing_token_is_401_with_a_challenge(guarded: Client, headers: dict[str, str]) -> None:
    response = await guarded.get("/recordings", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = await response.json()
    assert body["error"] == "unauthorized" and "bearer token is required" in body["message"]


async def test_invalid_tokens_are_401(guarded: Client, guard_signer: TokenSigner) -> None:
    good = guard_signer.issue("qc.dewi", "qc")
    other_key = TokenSigner(b"another key entirely, long").issue("qc.dewi", "qc")
    for token in ("garbage", good[:-2] + "AA", other_key, "v1." + "A" * 5000):
        response = await guarded.get("/recordings", headers=_bearer(token))
        assert response.status == 401, token[:20]
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert (await response.json())["message"] == "invalid token"


async def test_an_expired_token_is_401_and_says_so(
    guarded: Client, guard_signer: TokenSigner, clock: Clock
) -> None:
    token = guard_signer.issue("qc.dewi", "qc", ttl=60)
    clock.now += 61
    response = await guarded.get("/recordings", headers=_bearer(token))
    assert response.status == 401
    assert "expired" in (await response.json())["message"]


async def test_a_role_not_allowed_is_403(guarded: Client, guard_signer: TokenSigner) -> None:
    token = guard_signer.issue("1001", "agent", iface="PJSIP/1001")
    response = await guarded.get("/recordings", headers=_bearer(token))
    assert response.status == 403
    body = await response.json()
    assert body["error"] == "forbidden" and "agent" in body["message"]


async def test_an_unknown_role_is_an_invalid_token(guarded: Client, guard_signer: TokenSigner) -> None:
    response = await guarded.get("/recordings", headers=_bearer(guard_signer.issue("x", "superuser")))
    assert response.status == 401


def test_principal_from_token_reads_every_claim(guard_signer: TokenSigner) -> None:
    token = guard_signer.issue(
        "1001", "agent", extra={"team": "A", "site": "jakarta", "pbx": "jkt"}, iface="PJSIP/1001"
    )
    assert principal_from_token(guard_signer, token) == Principal(
        "1001", "agent", "PJSIP/1001", "A", "jakarta", "jkt", expires_at=1_700_000_600.0
    )


def test_cti_token_command_tokens_are_principals_too(guard_signer: TokenSigner) -> None:
    token = issue_agent_token(guard_signer, "1001", "PJSIP/1001", pbx="jkt")
    principal = principal_from_token(guard_signer, token)
    assert (principal.username, principal.role, principal.iface, principal.pbx, principal.team) == (
        "1001",
        "agent",
        "PJSIP/1001",
        "jkt",
        None,
    )


@pytest.mark.parametrize(
    ("role", "extra", "reason"),
    [("root", {}, "invalid"), ("agent", {"team": 7}, "invalid"), ("qc", {"pbx": ["a"]}, "invalid")],
)
def test_principal_from_token_refuses_odd_claims(
    guard_signer: TokenSigner, role: str, extra: dict[str, object], reason: str
) -> None:
    with pytest.raises(TokenError) as caught:
        principal_from_token(guard_signer, guard_signer.issue("x", role, extra=extra))
    assert caught.value.reason == reason


def test_principal_from_token_reports_expiry(guard_signer: TokenSigner, clock: Clock) -> None:
    token = guard_signer.issue("qc.dewi", "qc", ttl=5)
    clock.now += 10
    with pytest.raises(TokenError) as caught:
        principal_from_token(guard_signer, token)
    assert caught.value.reason == "expired"


def test_url_tokens_are_good_only_for_their_one_scope(guard_signer: TokenSigner, clock: Clock) -> None:
    tl = Principal("tl.alpha", "team_leader", None, "alpha", "jakarta", None, expires_at=0)
    token = issue_url_token(guard_signer, tl, "recording:7:listen")
    principal = principal_from_token(guard_signer, token, scope="recording:7:listen")
    assert (principal.username, principal.role, principal.team, principal.site) == (
        "tl.alpha",
        "team_leader",
        "alpha",
        "jakarta",
    )
    assert principal.expires_at == clock.now + URL_TOKEN_TTL_S
    for scope in (None, "recording:8:listen", "recording:7:download"):
        with pytest.raises(TokenError) as caught:
            principal_from_token(guard_signer, token, scope=scope)
        assert caught.value.reason == "invalid"
    # ... and a login token is not a URL token.
    with pytest.raises(TokenError):
        principal_from_token(guard_signer, guard_signer.issue("qc.dewi", "qc"), scope="recording:7:listen")
    clock.now += URL_TOKEN_TTL_S + 1
    with pytest.raises(TokenError) as caught:
        principal_from_token(guard_signer, token, scope="recording:7:listen")
    assert caught.value.reason == "expired"


async def test_require_without_a_signer_is_a_wiring_error() -> None:
    app = web.Application()

    async def handler(request: web.Request) -> web.Response:
        with pytest.raises(RuntimeError, match="setup"):
            require(request)
        return web.Response(text="checked")

    app.router.add_get("/", handler)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        response = await client.get("/")
        assert await response.text() == "checked"
