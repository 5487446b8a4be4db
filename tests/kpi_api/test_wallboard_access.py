"""``/wallboard/ws`` needs a login token of a floor role; the page itself is public (it shows a login).

Close codes as the CTI's: 4401 no, invalid or expired token (or a user disabled since), 4403 a role
that may not see the board (agents). The token comes in ``?token=`` or the first message.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from hotline.auth.users import set_active
from hotline.wallboard import access

from .conftest import Api


async def _closed_with(ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:
    """The close code and reason the server sent (first message read must be the close)."""
    async with asyncio.timeout(5):
        message = await ws.receive()
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
    return ws.close_code, str(message.extra or "")


async def _snapshot(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    async with asyncio.timeout(5):
        message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    return data


async def test_the_page_is_public_and_carries_the_login_form(api: Api) -> None:
    status, page, _ = await api.get("/wallboard")
    assert status == 200 and 'id="login-form"' in page
    status, script, _ = await api.get("/wallboard/wallboard.js")
    assert status == 200 and "/api/login" in script and "sessionStorage" in script


async def test_no_token_or_a_bad_one_is_closed_4401(api: Api) -> None:
    async with api.client.ws_connect("/wallboard/ws") as ws:
        await ws.send_json({"type": "auth"})  # no token in it
        assert (await _closed_with(ws))[0] == access.CLOSE_UNAUTHORIZED
    async with api.client.ws_connect("/wallboard/ws?token=v1.forged.token") as ws:
        code, reason = await _closed_with(ws)
        assert code == access.CLOSE_UNAUTHORIZED and "invalid" in reason
    expired = api.signer.issue("qa1", "qa", ttl=1, extra={"team": None})
    await asyncio.sleep(1.1)
    async with api.client.ws_connect("/wallboard/ws") as ws:
        await ws.send_json({"type": "auth", "token": expired})
        code, reason = await _closed_with(ws)
        assert code == access.CLOSE_UNAUTHORIZED and "expired" in reason


async def test_agents_are_closed_4403(api: Api) -> None:
    async with api.client.ws_connect("/wallboard/ws") as ws:
        await ws.send_json({"type": "auth", "token": api.token("agent-jkt-1")})
        code, reason = await _closed_with(ws)
        assert code == access.CLOSE_FORBIDDEN and "role agent" in reason


async def test_floor_roles_get_the_board_by_first_message_or_query(api: Api) -> None:
    for user in ("tl-a", "qa1", "qc1", "admin1"):
        async with api.client.ws_connect("/wallboard/ws") as ws:
            await ws.send_json({"type": "auth", "token": api.token(user)})
            snapshot = await _snapshot(ws)
            assert snapshot["type"] == "wallboard" and "total" in snapshot, user
    async with api.client.ws_connect(f"/wallboard/ws?token={api.token('tl-b')}") as ws:
        assert (await _snapshot(ws))["type"] == "wallboard"


async def test_a_disabled_user_is_closed_4401(api: Api) -> None:
    token = api.token("tl-a")
    await set_active(api.engine, "tl-a", False)
    async with api.client.ws_connect("/wallboard/ws") as ws:
        await ws.send_json({"type": "auth", "token": token})
        code, reason = await _closed_with(ws)
        assert code == access.CLOSE_UNAUTHORIZED and "no longer active" in reason


async def test_the_board_closes_4401_when_the_token_expires(api: Api) -> None:
    token = api.signer.issue("qa1", "qa", ttl=2, extra={"team": None})
    async with api.client.ws_connect("/wallboard/ws") as ws:
        await ws.send_json({"type": "auth", "token": token})
        assert (await _snapshot(ws))["type"] == "wallboard"
        async with asyncio.timeout(5):
            message = await ws.receive()
            while message.type == aiohttp.WSMsgType.TEXT:  # snapshots go on until the token expires
                message = await ws.receive()
        assert ws.close_code == access.CLOSE_UNAUTHORIZED and "expired" in str(message.extra)
