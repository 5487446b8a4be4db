"""The CTI websocket's edges: authentication, bad clients, slow clients, shutdown."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from typing import Any

import aiohttp
import pytest

from cti import protocol
from cti.websocket import WsSettings
from hotline.tokens import TokenSigner

from .conftest import SECRET, Harness, fixture_events, with_headers

Ws = aiohttp.ClientWebSocketResponse


async def closed_with(ws: Ws) -> tuple[int | None, str]:
    """Read until the server's close frame; its code and reason."""
    while True:
        msg = await ws.receive(timeout=3)
        if msg.type is aiohttp.WSMsgType.CLOSE:
            return msg.data, msg.extra or ""
        if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code, ""


async def hello(ws: Ws) -> dict[str, Any]:
    first: dict[str, Any] = await ws.receive_json(timeout=2)
    assert first["type"] == "hello", first
    return first


def tampered(token: str) -> str:
    """The same token with the last signature character changed."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def expired_token() -> str:
    """Genuine (right key), issued two hours ago for one minute."""
    signer = TokenSigner(SECRET.encode(), clock=lambda: time.time() - 7200)
    return signer.issue("1001", ttl=60, iface="PJSIP/1001")


@pytest.mark.parametrize(
    ("make_path", "reason"),
    [
        (lambda h: "/cti/ws", "no token"),
        (lambda h: "/cti/ws?token=", "no token"),
        (lambda h: "/cti/ws?token=garbage", "token invalid"),
        (lambda h: f"/cti/ws?token={tampered(h.token())}", "token invalid"),
        (
            lambda h: f"/cti/ws?token={TokenSigner(b'another key').issue('1001', iface='PJSIP/1001')}",
            "token invalid",
        ),
        (lambda h: f"/cti/ws?token={expired_token()}", "token expired"),
    ],
    ids=["missing", "empty", "garbage", "tampered", "wrong-key", "expired"],
)
async def test_bad_tokens_are_closed_4401(cti: Harness, make_path: Any, reason: str) -> None:
    ws = await cti.client.ws_connect(make_path(cti))
    code, text = await closed_with(ws)
    assert code == protocol.CLOSE_UNAUTHORIZED
    assert text == f"unauthorized: {reason}"
    assert "hotline_cti_auth_failures_total 1\n" in cti.metrics.render()


@pytest.mark.parametrize(
    "token_args", [{"role": "supervisor"}, {"iface": None}], ids=["not-an-agent", "no-iface"]
)
async def test_genuine_but_unfit_tokens_are_closed_4403(cti: Harness, token_args: dict[str, Any]) -> None:
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token(**token_args)}")
    code, _ = await closed_with(ws)
    assert code == protocol.CLOSE_FORBIDDEN


async def test_token_as_first_message(cti: Harness) -> None:
    ws = await cti.client.ws_connect("/cti/ws")
    await ws.send_json({"type": "auth", "token": cti.token("1001", "PJSIP/1001")})
    greeting = await hello(ws)
    assert (greeting["agent"], greeting["iface"], greeting["protocol"]) == ("1001", "PJSIP/1001", "1")
    await cti.publish("jakarta", [e for e in fixture_events("answered-hold") if e.name == "AgentCalled"])
    assert (await ws.receive_json(timeout=2))["type"] == "call.ringing"
    await ws.close()


@pytest.mark.parametrize("first", ['{"type": "ping"}', "not json", '{"type": "auth", "token": 5}'])
async def test_first_message_must_be_auth(cti: Harness, first: str) -> None:
    ws = await cti.client.ws_connect("/cti/ws")
    await ws.send_str(first)
    code, _ = await closed_with(ws)
    assert code == protocol.CLOSE_UNAUTHORIZED


async def test_silent_client_is_closed_after_auth_timeout(cti: Harness) -> None:
    ws = await cti.client.ws_connect("/cti/ws")
    started = time.monotonic()
    code, text = await closed_with(ws)
    assert code == protocol.CLOSE_UNAUTHORIZED and text == "unauthorized: no token"
    assert time.monotonic() - started < 2


async def test_connection_is_closed_when_its_token_expires(cti: Harness) -> None:
    # exp is whole seconds: this token expires within the next second.
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token(ttl=1)}")
    await hello(ws)
    code, text = await closed_with(ws)
    assert (code, text) == (protocol.CLOSE_UNAUTHORIZED, "unauthorized: token expired")


async def test_oversized_and_malformed_messages_get_errors_and_the_socket_stays(cti: Harness) -> None:
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token()}")
    await hello(ws)
    await ws.send_str(json.dumps({"type": "ping", "pad": "x" * (64 * 1024)}))
    assert (await ws.receive_json(timeout=2))["code"] == "too_big"
    await ws.send_str("{not json")
    assert (await ws.receive_json(timeout=2))["code"] == "bad_json"
    await ws.send_bytes(b"\x00\x01")
    assert (await ws.receive_json(timeout=2))["code"] == "bad_message"
    await ws.send_json({"type": "teleport"})
    error = await ws.receive_json(timeout=2)
    assert error == {
        "v": 1,
        "type": "error",
        "code": "unknown_type",
        "message": "unknown message type 'teleport'",
    }
    await ws.send_json({"type": "ping", "ref": 7})
    assert await ws.receive_json(timeout=2) == {"v": 1, "type": "pong", "ref": 7}
    await ws.close()


async def test_repeated_abuse_closes_4400_after_explaining(cti: Harness) -> None:
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token()}")
    await hello(ws)
    for _ in range(5):
        await ws.send_str("x" * (70 * 1024))
    codes = [(await ws.receive_json(timeout=2))["code"] for _ in range(5)]
    assert codes == ["too_big"] * 5
    code, text = await closed_with(ws)
    assert (code, text) == (protocol.CLOSE_ABUSE, "too many bad messages")
    assert "hotline_cti_abusive_closed_total 1\n" in cti.metrics.render()


async def test_frame_above_the_hard_limit_is_refused_by_the_websocket_layer(cti: Harness) -> None:
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token()}")
    await hello(ws)
    await ws.send_str("x" * (2 * 1024 * 1024))
    code, _ = await closed_with(ws)
    assert code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_plain_http_get_is_a_json_400(cti: Harness) -> None:
    response = await cti.client.get("/cti/ws")
    assert response.status == 400
    assert (await response.json())["error"] == "bad_request"


async def test_feature_stop_closes_agents_with_1001(cti: Harness) -> None:
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token()}")
    await hello(ws)
    await cti.feature.stop()
    code, _ = await closed_with(ws)
    assert code == protocol.CLOSE_GOING_AWAY


async def next_pop(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next call.ringing (the agent.state messages between pops are skipped)."""
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=3)
        if message["type"] == "call.ringing":
            return message


async def _raw_ws_that_never_reads(
    host: str, port: int, token: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket client with a tiny receive buffer that stops reading after the handshake."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /cti/ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status
    return reader, writer


@pytest.mark.parametrize("ws_settings", [WsSettings(queue_size=4, close_timeout=0.2)], ids=["queue-4"])
async def test_slow_client_is_dropped_and_others_keep_receiving(cti: Harness) -> None:
    called = next(e for e in fixture_events("answered-hold") if e.name == "AgentCalled")
    big = with_headers(called, CallerIDName="Śantoso Wibowo " * 2000)  # ~30 KB per pop fills buffers fast
    server = cti.client.server
    assert server.host and server.port
    slow_reader, slow_writer = await _raw_ws_that_never_reads(
        server.host, server.port, cti.token("slow", "PJSIP/1001")
    )
    try:
        good = await cti.client.ws_connect(f"/cti/ws?token={cti.token('good', 'PJSIP/1001')}")
        await hello(good)
        received, last_id = 0, 0
        for _ in range(2000):
            await cti.publish("jakarta", [big])
            pop = await next_pop(good)
            assert pop["id"] > last_id
            received, last_id = received + 1, pop["id"]
            if cti.feature.hub.stats.dropped_slow:
                break
        assert cti.feature.hub.stats.dropped_slow == 1, "the slow client was never dropped"
        assert received < 2000
        async with asyncio.timeout(3):  # close_timeout bounds how long a stuck socket is waited for
            while cti.feature.hub.count() != 1:
                await asyncio.sleep(0.01)
        # The good client still gets what comes next.
        await cti.publish("jakarta", [big])
        assert (await next_pop(good))["id"] > last_id
        assert "hotline_cti_slow_clients_dropped_total 1\n" in cti.metrics.render()
        # The slow client's socket was closed (close frame or abort): reading it to the end terminates.
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            while True:
                if not await asyncio.wait_for(slow_reader.read(1 << 20), 3):
                    raise asyncio.IncompleteReadError(b"", None)
        await good.close()
    finally:
        slow_writer.close()


async def test_an_unexpected_error_closes_1011_and_the_server_carries_on(
    cti: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cti.websocket as websocket_module

    async def broken(*args: Any) -> None:
        raise RuntimeError("bug in the read loop")

    monkeypatch.setattr(websocket_module.ClientSession, "read_loop", broken)
    ws = await cti.client.ws_connect(f"/cti/ws?token={cti.token()}")
    code, _ = await closed_with(ws)  # the hello may or may not have gone out before the failure
    assert code == aiohttp.WSCloseCode.INTERNAL_ERROR
    assert cti.feature.hub.count() == 0
    assert (await cti.client.get("/health")).status == 200
