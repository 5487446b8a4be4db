"""The enriched screen-pop over the websocket: history and IVR at once, identity and tickets after."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.enrich_call import EnrichSettings
from cti.websocket import WsSettings
from hotline.config import Config, CoreSystemConfig, CtiConfig, PbxConfig, Secret, TicketingConfig
from hotline.store import create_engine, migrate

from .conftest import SECRET, Harness, fixture_events, harness
from .enrich_stubs import (
    API_KEY,
    TICKET_TOKEN,
    Stub,
    core_app,
    seed_past,
    serve,
    ticketing_app,
)
from .test_screen_pop import assert_nothing_queued, connect, next_json

CONTEXT = {
    "script": "main",
    "choice": "pengaduan",
    "path": "lang=id/menu=pengaduan/customer=1000000001/dob=17081985/pin=246810",
    "queue": "cc-pengaduan",
    "lang": "id",
    "verified": "yes",
    "customer_no": "1000000001",
    "customer_name": "Siti Rahayu",
    "ticket": "ARN-12",
}
UNIQUEID = "1795514646.0"


def config(core: Stub | None, tickets: Stub | None, *, core_timeout: float = 2.0) -> Config:
    return Config(
        pbx=(PbxConfig(name="jakarta", site="Jakarta Pusat"),),
        cti=CtiConfig(token_secret=Secret(SECRET)),
        core_system=CoreSystemConfig(
            base_url=core.base_url if core else "",
            api_key=Secret(API_KEY),
            timeout_s=core_timeout,
            breaker_failures=2,
        ),
        ticketing=TicketingConfig(base_url=tickets.base_url if tickets else "", token=Secret(TICKET_TOKEN)),
    )


@asynccontextmanager
async def enriched(
    ws_settings: WsSettings, engine: AsyncEngine | None, cfg: Config
) -> AsyncIterator[Harness]:
    async with harness(ws_settings, engine=engine, config=cfg, enrich=EnrichSettings()) as cti:
        await cti.context.set("jakarta", UNIQUEID, CONTEXT, UNIQUEID)
        yield cti


def ringing() -> list[Any]:
    return [e for e in fixture_events("answered-hold") if e.name == "AgentCalled"]


async def updates_until(ws: aiohttp.ClientWebSocketResponse, *parts: str) -> dict[str, dict[str, Any]]:
    """``call.updated`` messages until each of ``parts`` came in one; by part."""
    found: dict[str, dict[str, Any]] = {}
    while not all(p in found for p in parts):
        message = await next_json(ws)
        assert message["type"] == "call.updated", message
        for part in parts:
            if part in message:
                found[part] = message
    return found


async def test_pop_has_history_and_ivr_then_identity_and_tickets_follow(
    ws_settings: WsSettings, engine: AsyncEngine
) -> None:
    await seed_past(engine)
    core_stub, ticket_stub = Stub(), Stub()
    ticket_stub.gate.set()
    async with (
        serve(core_app(core_stub), core_stub),
        serve(ticketing_app(ticket_stub), ticket_stub),
        enriched(ws_settings, engine, config(core_stub, ticket_stub)) as cti,
    ):
        agent = await connect(cti, cti.token())
        await cti.publish("jakarta", ringing())
        pop = await next_json(agent)  # the core system has not answered yet: the gate is shut
        assert pop["type"] == "call.ringing" and pop["site"] == "Jakarta Pusat"
        assert pop["ivr"]["path"] == "lang=id/menu=pengaduan/customer=******0001/dob=***/pin=***"
        assert (pop["ivr"]["choice"], pop["ivr"]["verified"], pop["ivr"]["lang"]) == ("pengaduan", True, "id")
        assert pop["customer"] == {
            "number": "1000000001",
            "name": "Siti Rahayu",
            "verified": True,
            "products": None,
            "source": "ivr",
        }
        assert [c["call_id"] for c in pop["history"]] == ["h1.0", "h2.0", "h3.0", "h4.0", "h4.0"]
        first = pop["history"][0]
        assert first == {
            "at": "2026-11-24T09:04:08.479Z",
            "call_id": "h1.0",
            "pbx": "jakarta",
            "queue": "cc-q1",
            "agent": "Siti Rahma",
            "outcome": "answered",
            "wait_s": 12.0,
            "handle_s": 88.0,
            "dispositions": [{"category": "informasi", "notes": "tanya harga emas", "agent": "1001"}],
        }
        assert [t["key"] for t in pop["tickets"]] == ["ARN-12", "ARN-7", "ARN-3"]
        assert all(t["status"] is None for t in pop["tickets"])
        assert pop["enrichment"] == {"history": "done", "customer": "pending", "tickets": "pending"}

        core_stub.gate.set()
        updates = await updates_until(agent, "customer", "tickets")
        identity = updates["customer"]
        assert (identity["call_id"], identity["ts"]) == (UNIQUEID, pop["ts"])
        assert identity["id"] > pop["id"]
        assert identity["customer"] == {
            "number": "1000000001",
            "name": "Siti Rahayu",
            "verified": True,
            "products": [
                {"contract": "************0001", "product": "Gadai KCA", "status": "active"},
                {"contract": "************0002", "product": "Amanah", "status": "overdue"},
            ],
            "source": "core_system",
        }
        assert identity["enrichment"]["customer"] == "done"
        tickets = updates["tickets"]["tickets"]
        assert [(t["key"], t["status"]) for t in tickets] == [("ARN-12", "Open"), ("ARN-7", "In Progress")]
        assert updates["tickets"]["enrichment"]["tickets"] == "done"
        assert core_stub.requests[0][0] == "/customers/1000000001"
        assert core_stub.requests[0][1]["X-API-Key"] == API_KEY
        assert sorted(p for p, _ in ticket_stub.requests) == [
            f"/rest/api/2/issue/{k}?fields=status,summary" for k in ("ARN-12", "ARN-3", "ARN-7")
        ]
        await agent.close()


async def test_a_hanging_core_system_does_not_delay_the_pop(ws_settings: WsSettings, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/pop.db")
    await migrate(engine)
    await seed_past(engine)
    stub = Stub(hang=True)
    try:
        async with (
            serve(core_app(stub), stub),
            enriched(ws_settings, engine, config(stub, None, core_timeout=0.3)) as cti,
        ):
            agent = await connect(cti, cti.token())
            started = time.monotonic()
            await cti.publish("jakarta", ringing())
            pop = await next_json(agent)
            took = time.monotonic() - started
            assert pop["type"] == "call.ringing" and took < 0.1, took  # the stub sleeps 5 s
            assert len(pop["history"]) == 5 and pop["enrichment"]["customer"] == "pending"
            update = await next_json(agent)
            assert update["type"] == "call.updated"
            assert update["enrichment"]["customer"] == "unavailable"
            assert update["customer"]["source"] == "ivr" and update["customer"]["products"] is None
            assert time.monotonic() - started < 1.0  # the lookup's 0.3 s timeout, not the stub's 5 s
            assert len(stub.requests) == 1
    finally:
        await engine.dispose()


async def test_pop_never_shows_a_secret_or_an_unverified_customer_number(ws_settings: WsSettings) -> None:
    async with enriched(ws_settings, None, config(None, None)) as cti:
        await cti.context.set(
            "jakarta",
            UNIQUEID,
            {"verified": "no", "path": "customer=1000000001/otp=556677/tanggal-lahir=17081985"},
        )
        agent = await connect(cti, cti.token())
        await cti.publish("jakarta", ringing())
        pop = await next_json(agent)
        text = json.dumps(pop)
        for secret in ("1000000001", "556677", "17081985", "1985"):
            assert secret not in text
        assert pop["customer"]["number"] == "******0001" and pop["customer"]["verified"] is False
        assert pop["ivr"]["path"] == "customer=******0001/otp=***/tanggal-lahir=***"
        assert pop["enrichment"] == {"history": "none", "customer": "none", "tickets": "none"}
        await agent.close()


async def test_phones_that_stopped_ringing_get_no_update(ws_settings: WsSettings) -> None:
    stub = Stub()
    async with serve(core_app(stub), stub), enriched(ws_settings, None, config(stub, None)) as cti:
        await cti.context.set("jakarta", "1795514684.0", {"verified": "yes", "customer_no": "1000000001"})
        first = await connect(cti, cti.token("1001", "PJSIP/1001"))
        second = await connect(cti, cti.token("1002", "PJSIP/1002"))
        # 1001 rings unanswered, then 1002, then the caller hangs up: both pops are cleared.
        await cti.publish("jakarta", fixture_events("abandon"))
        for ws in (first, second):
            assert (await next_json(ws))["enrichment"]["customer"] == "pending"
            assert (await next_json(ws))["type"] == "call.cancelled"
        stub.gate.set()
        enricher = cti.feature.enricher
        assert enricher is not None
        async with asyncio.timeout(2):
            while enricher.pending:
                await asyncio.sleep(0.01)
        assert len(stub.requests) == 1  # one lookup for the call, not one per phone
        assert enricher.updates == 0
        for ws in (first, second):
            await assert_nothing_queued(ws)
            await ws.close()
