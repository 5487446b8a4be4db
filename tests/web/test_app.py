"""hotline.web.create_app: /health, /metrics, /openapi.json, JSON errors and the lifecycle helpers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.config import Config
from hotline.metrics import Registry
from hotline.web import (
    HealthResult,
    add_background,
    add_health_check,
    add_openapi,
    create_app,
    read_json,
    track_websocket,
)
from hotline.web.app import WEBSOCKETS_KEY

Check = Callable[[], Awaitable[HealthResult]]


def fixed(status: str, detail: str = "", **info: Any) -> Check:
    async def check() -> HealthResult:
        return HealthResult(status, detail, info)  # type: ignore[arg-type]

    return check


def build(
    checks: Mapping[str, Check] | None = None, fragments: list[dict[str, Any]] | None = None, **kwargs: Any
) -> web.Application:
    return create_app(
        config=Config(),
        health_checks=checks or {},
        metrics=Registry(),
        openapi_fragments=fragments if fragments is not None else [],
        **kwargs,
    )


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.mark.parametrize(
    ("checks", "http", "overall"),
    [
        ({"pbx:jakarta": fixed("ok"), "pbx:yogyakarta": fixed("ok"), "database": fixed("ok")}, 200, "ok"),
        (
            {"pbx:jakarta": fixed("ok"), "pbx:yogyakarta": fixed("down"), "database": fixed("ok")},
            200,
            "degraded",
        ),
        ({"pbx:jakarta": fixed("ok"), "database": fixed("degraded", "slow writes")}, 200, "degraded"),
        ({"pbx:jakarta": fixed("ok"), "database": fixed("ok"), "agi": fixed("down")}, 200, "degraded"),
        ({"pbx:jakarta": fixed("ok"), "database": fixed("down", "connection refused")}, 503, "down"),
        (
            {"pbx:jakarta": fixed("down"), "pbx:yogyakarta": fixed("down"), "database": fixed("ok")},
            503,
            "down",
        ),
        ({"database": fixed("ok")}, 200, "ok"),
        ({}, 200, "ok"),
    ],
    ids=[
        "all-ok",
        "one-pbx-down",
        "db-degraded",
        "component-down",
        "db-down",
        "no-pbx-connected",
        "no-pbx",
        "no-checks",
    ],
)
async def test_health_status_and_http_code(checks: Mapping[str, Check], http: int, overall: str) -> None:
    async with serve(build(checks)) as client:
        response = await client.get("/health")
        body = await response.json()
    assert response.status == http
    assert body["status"] == overall
    assert set(body["pbx"]) == {n[4:] for n in checks if n.startswith("pbx:")}
    assert (body["database"] is None) == ("database" not in checks)


async def test_health_report_details_and_broken_checks() -> None:
    async def raises() -> HealthResult:
        raise RuntimeError("boom")

    async def hangs() -> HealthResult:
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    checks = {
        "pbx:jakarta": fixed("ok", connected_since="2026-11-24T10:00:00Z"),
        "pbx:yogyakarta": raises,
        "database": fixed("ok"),
        "recording": hangs,
    }
    async with serve(build(checks, health_timeout=0.05)) as client:
        response = await client.get("/health")
        body = await response.json()
    assert response.status == 200 and body["status"] == "degraded"
    assert body["pbx"]["jakarta"] == {"status": "ok", "connected_since": "2026-11-24T10:00:00Z"}
    assert body["pbx"]["yogyakarta"] == {"status": "down", "detail": "check failed: RuntimeError"}
    assert body["components"]["recording"]["status"] == "down"
    assert "0.05" in body["components"]["recording"]["detail"]
    assert response.headers["Cache-Control"] == "no-store"


async def test_health_check_added_after_create_app() -> None:
    app = build({"database": fixed("ok")})
    add_health_check(app, "pbx:jakarta", fixed("down"))
    with pytest.raises(ValueError, match="already registered"):
        add_health_check(app, "database", fixed("ok"))
    async with serve(app) as client:
        response = await client.get("/health")
    assert response.status == 503


async def test_metrics_endpoint_format_and_request_counter() -> None:
    registry = Registry()
    registry.gauge("hotline_test_value", "A value").set(3)
    app = create_app(config=Config(), health_checks={}, metrics=registry, openapi_fragments=[])
    async with serve(app) as client:
        await client.get("/health")
        await client.get("/nowhere")
        response = await client.get("/metrics")
        text = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE hotline_test_value gauge\nhotline_test_value 3\n" in text
    assert 'hotline_http_requests_total{method="GET",route="/health",status="200"} 1\n' in text
    assert 'hotline_http_requests_total{method="GET",route="unmatched",status="404"} 1\n' in text
    assert "hotline_websockets_open 0\n" in text


async def test_openapi_documents_every_route_including_fragments() -> None:
    fragments: list[dict[str, Any]] = []
    app = build(fragments=fragments)

    async def items(request: web.Request) -> web.Response:
        return web.json_response(await read_json(request))

    app.router.add_post("/items", items)
    add_openapi(
        app,
        {
            "paths": {"/items": {"post": {"responses": {"200": {"description": "echo"}}}}},
            "tags": [{"name": "items"}],
        },
    )
    async with serve(app) as client:
        response = await client.get("/openapi.json")
        document = json.loads(await response.text())
    assert response.status == 200
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "hotline" and document["info"]["version"]
    served = {(r.method.lower(), r.resource.canonical) for r in app.router.routes() if r.resource is not None}
    documented = {(m, p) for p, item in document["paths"].items() for m in item}
    assert served == documented
    for ref in _refs(document):
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in document["components"][section], ref


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_bad_fragments_fail_at_setup() -> None:
    app = build()
    with pytest.raises(ValueError, match="unknown keys"):
        add_openapi(app, {"paths": {}, "servers": []})
    with pytest.raises(ValueError, match="must start with"):
        add_openapi(app, {"paths": {"health": {}}})
    with pytest.raises(ValueError, match="unknown keys"):
        build(fragments=[{"info": {}}])


async def test_duplicate_path_in_fragments_is_an_error() -> None:
    from hotline.web.openapi import build_document

    with pytest.raises(ValueError, match="two OpenAPI fragments document /health"):
        build_document([{"paths": {"/health": {}}}])


async def test_errors_are_json() -> None:
    app = build()

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"got": await read_json(request)})

    async def raw_json(request: web.Request) -> web.Response:
        return web.json_response(await request.json())

    async def crash(request: web.Request) -> web.Response:
        raise KeyError("secret internals")

    app.router.add_post("/echo", echo)
    app.router.add_post("/raw", raw_json)
    app.router.add_get("/crash", crash)
    async with serve(app) as client:
        not_found = await client.get("/no/such/path")
        assert not_found.status == 404
        assert await not_found.json() == {"error": "not_found", "message": "Not Found", "status": 404}

        wrong_method = await client.delete("/health")
        assert wrong_method.status == 405
        assert (await wrong_method.json())["error"] == "method_not_allowed"
        assert wrong_method.headers["Allow"] == "GET"

        bad = await client.post("/echo", data=b'{"a": 1,,}', headers={"Content-Type": "application/json"})
        assert bad.status == 400
        body = await bad.json()
        assert body["error"] == "bad_request"
        assert (
            body["message"].startswith("request body is not valid JSON: ") and "column 9" in body["message"]
        )

        empty = await client.post("/echo", data=b"")
        assert empty.status == 400 and "empty" in (await empty.json())["message"]

        raw = await client.post("/raw", data=b"{nope")
        assert raw.status == 400 and "not valid JSON" in (await raw.json())["message"]

        good = await client.post("/echo", json={"name": "Śantoso"})
        assert await good.json() == {"got": {"name": "Śantoso"}}

        crashed = await client.get("/crash")
        assert crashed.status == 500
        body = await crashed.json()
        assert body["error"] == "internal_error" and len(body["error_id"]) == 16
        assert "secret internals" not in json.dumps(body) and "Traceback" not in json.dumps(body)


async def test_internal_error_is_logged_with_its_error_id(capsys: pytest.CaptureFixture[str]) -> None:
    app = build()

    async def crash(request: web.Request) -> web.Response:
        raise ValueError("kaboom")

    app.router.add_get("/crash", crash)
    async with serve(app) as client:
        body = await (await client.get("/crash")).json()
    logged = capsys.readouterr()
    assert body["error_id"] in logged.out + logged.err
    assert "kaboom" in logged.out + logged.err


async def test_background_components_start_and_stop_in_order() -> None:
    app = build()
    seen: list[str] = []

    def component(name: str) -> tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]]]:
        async def start() -> None:
            seen.append(f"start {name}")

        async def stop() -> None:
            seen.append(f"stop {name}")
            if name == "ami":
                raise RuntimeError("stop failed")

        return start, stop

    add_background(app, "ami", *component("ami"))
    add_background(app, "agi", *component("agi"))

    async def stuck() -> None:
        await asyncio.sleep(10)

    async def nothing() -> None:
        return None

    add_background(app, "stuck", nothing, stuck, stop_timeout=0.05)
    async with serve(app) as client:
        assert (await client.get("/health")).status == 200
        assert seen == ["start ami", "start agi"]
    # Reverse order; a failing or stuck stop does not keep the others running.
    assert seen == ["start ami", "start agi", "stop agi", "stop ami"]


async def test_shutdown_closes_tracked_websockets() -> None:
    app = build()

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        with track_websocket(request.app, ws):
            async for _ in ws:
                pass
        return ws

    app.router.add_get("/ws", ws_handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        ws = await client.ws_connect("/ws")
        await ws.send_str("hello")
        for _ in range(100):
            if app[WEBSOCKETS_KEY]:
                break
            await asyncio.sleep(0.01)
        assert len(app[WEBSOCKETS_KEY]) == 1
        metrics = await (await client.get("/metrics")).text()
        assert "hotline_websockets_open 1\n" in metrics
        closing = asyncio.create_task(client.server.close())
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == aiohttp.WSCloseCode.GOING_AWAY
        await closing
    finally:
        await client.close()
    assert not app[WEBSOCKETS_KEY]
