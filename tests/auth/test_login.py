"""POST /api/login: tokens for good credentials, one indistinguishable refusal for the rest, throttling."""

from __future__ import annotations

import statistics
import time
from datetime import datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from hotline.auth import audit_entries, passwords, principal_from_token
from hotline.auth.users import get_user, set_active
from hotline.auth.web import setup
from hotline.config import Config
from hotline.metrics import Registry
from hotline.store import create_engine
from hotline.tokens import TokenSigner
from hotline.web import create_app

from .conftest import PASSWORD, AddUser

Client = TestClient[web.Request, web.Application]
REFUSED = {"error": "unauthorized", "message": "wrong username or password", "status": 401}


async def _login(client: Client, username: str, password: str) -> tuple[int, dict[str, object]]:
    response = await client.post("/api/login", json={"username": username, "password": password})
    return response.status, await response.json()


async def test_good_credentials_give_a_token_with_the_users_claims(
    client: Client, add_user: AddUser, signer: TokenSigner
) -> None:
    await add_user("1001", team="A", site="jakarta", iface="PJSIP/1001", pbx="jkt")
    response = await client.post("/api/login", json={"username": "1001", "password": PASSWORD})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["token_type"] == "Bearer" and 3590 <= body["expires_in"] <= 3600
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "1001",
        "display_name": "User 1001",
        "role": "agent",
        "team": "A",
        "site": "jakarta",
        "iface": "PJSIP/1001",
        "pbx": "jkt",
        "active": True,
    }
    claims = signer.verify(body["token"])
    assert (claims.sub, claims.role, claims.iface) == ("1001", "agent", "PJSIP/1001")
    assert dict(claims.extra) == {"team": "A", "site": "jakarta", "pbx": "jkt"}
    assert datetime.fromisoformat(body["expires_at"]).timestamp() == claims.exp
    principal = principal_from_token(signer, body["token"])
    assert (principal.username, principal.team, principal.pbx) == ("1001", "A", "jkt")


async def test_the_token_opens_api_me(client: Client, add_user: AddUser) -> None:
    await add_user("qc.dewi", role="qc")
    _status, body = await _login(client, "QC.Dewi", PASSWORD)  # usernames are case-blind
    token = body["token"]
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    me = await response.json()
    assert (me["username"], me["role"], me["iface"], me["team"]) == ("qc.dewi", "qc", None, None)
    assert (await client.get("/api/me")).status == 401


async def test_wrong_password_unknown_and_disabled_users_look_the_same(
    client: Client, add_user: AddUser, sqlite_engine: AsyncEngine
) -> None:
    await add_user("1001")
    await add_user("1002")
    await set_active(sqlite_engine, "1002", False)
    answers = [
        await _login(client, "1001", "wrong password"),
        await _login(client, "9999", PASSWORD),
        await _login(client, "1002", PASSWORD),  # the right password of a disabled account
        await _login(client, "no such user at all", PASSWORD),
    ]
    assert answers == [(401, REFUSED)] * 4


async def test_unknown_users_take_as_long_as_wrong_passwords(client: Client, add_user: AddUser) -> None:
    await add_user("1001")
    await _login(client, "warm.up", "x")  # the dummy hash is made on first use

    async def timed(username: str) -> float:
        started = time.perf_counter()
        status, _body = await _login(client, username, "wrong password")
        assert status == 401
        return time.perf_counter() - started

    wrong = statistics.median([await timed("1001") for _ in range(3)])
    unknown = statistics.median([await timed(f"nobody{i}") for i in range(3)])
    # Without the dummy verification an unknown user answers in ~1 ms against ~100 ms.
    assert 0.5 < unknown / wrong < 2.0


async def test_every_attempt_is_logged_and_audited_without_the_password(
    client: Client, add_user: AddUser, sqlite_engine: AsyncEngine
) -> None:
    await add_user("1001")
    with capture_logs() as logs:
        await _login(client, "1001", "Wrong-Password-123")
        await _login(client, "1001", PASSWORD)
    lines = [line for line in logs if line["event"] in ("login", "login refused")]
    assert [(line["event"], line["username"], line.get("reason")) for line in lines] == [
        ("login refused", "1001", "wrong password"),
        ("login", "1001", None),
    ]
    assert all(line["ip"] == "127.0.0.1" for line in lines)
    assert "Wrong-Password-123" not in repr(logs) and PASSWORD not in repr(logs)
    rows = await audit_entries(sqlite_engine, action="login")
    assert [(r.actor, r.target, r.outcome, r.source, r.detail) for r in rows] == [
        ("1001", "1001", "refused", "127.0.0.1", "wrong password"),
        ("1001", "1001", "ok", "127.0.0.1", "agent"),
    ]


async def test_five_failures_in_a_minute_then_429(client: Client, add_user: AddUser) -> None:
    await add_user("1001")
    await add_user("1002")
    for _ in range(5):
        assert (await _login(client, "1001", "wrong password"))[0] == 401
    response = await client.post("/api/login", json={"username": "1001", "password": PASSWORD})
    assert response.status == 429  # even the right password waits: the guesser cannot tell
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert (await response.json())["error"] == "too_many_requests"
    assert (await _login(client, "1001", PASSWORD))[0] == 429
    assert (await _login(client, "1002", PASSWORD))[0] == 200  # a colleague behind the same address


async def test_the_limit_is_on_the_normalized_username(client: Client, add_user: AddUser) -> None:
    await add_user("qc.dewi", role="qc")
    for name in ("qc.dewi", "QC.DEWI", " Qc.Dewi", "qc.dewI", "QC.dewi"):
        assert (await _login(client, name, "wrong password"))[0] == 401
    assert (await _login(client, "qc.dewi", PASSWORD))[0] == 429


async def test_a_success_clears_earlier_failures(client: Client, add_user: AddUser) -> None:
    await add_user("1001")
    for _ in range(4):
        await _login(client, "1001", "wrong password")
    assert (await _login(client, "1001", PASSWORD))[0] == 200
    for _ in range(4):
        assert (await _login(client, "1001", "wrong password"))[0] == 401


async def test_an_old_hash_is_replaced_at_the_next_login(
    client: Client, add_user: AddUser, sqlite_engine: AsyncEngine
) -> None:
    old = passwords.hash_password(PASSWORD, passwords.ScryptParams(ln=4, r=8, p=1))
    await add_user("1001", stored_hash=old)
    assert (await _login(client, "1001", PASSWORD))[0] == 200
    user = await get_user(sqlite_engine, "1001")
    assert user is not None and user.password_hash != old
    assert passwords.parse_hash(user.password_hash)[0] == passwords.CURRENT
    assert (await _login(client, "1001", PASSWORD))[0] == 200


async def test_a_broken_stored_hash_is_refused_like_a_wrong_password(
    client: Client, add_user: AddUser, sqlite_engine: AsyncEngine
) -> None:
    from sqlalchemy import update

    from hotline.auth.tables import auth_user

    await add_user("1001")
    async with sqlite_engine.begin() as connection:
        await connection.execute(update(auth_user).values(password_hash="$scrypt$ln=99,r=8,p=1$AAAA$AAAA"))
    with capture_logs() as logs:
        assert await _login(client, "1001", PASSWORD) == (401, REFUSED)
    assert any(line.get("reason") == "stored password hash is unusable" for line in logs)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        '{"username": "1001"}',
        '{"password": "x"}',
        '{"username": 1001, "password": "x"}',
        '{"username": "1001", "password": null}',
        '{"username": "  ", "password": "x"}',
        '{"username": "1001", "password": ""}',
        '{"username": "1001", "password": "' + "x" * 1025 + '"}',
        '{"username": "' + "u" * 300 + '", "password": "x"}',
    ],
)
async def test_malformed_bodies_are_400(client: Client, body: str) -> None:
    response = await client.post("/api/login", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["error"] == "bad_request"


async def test_a_database_that_is_down_is_503_not_a_crash(signer: TokenSigner, closed_port: int) -> None:
    engine = create_engine(f"postgresql+asyncpg://hotline:pw@127.0.0.1:{closed_port}/none")
    app = create_app(config=Config(), health_checks={}, metrics=Registry(), openapi_fragments=[])
    setup(app, engine, signer)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            status, body = await _login(client, "1001", PASSWORD)
    finally:
        await engine.dispose()
    assert status == 503 and "unavailable" in str(body["message"])


async def test_the_routes_are_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    assert "post" in document["paths"]["/api/login"]
    assert "get" in document["paths"]["/api/me"]
    assert "Login" in document["components"]["schemas"]
