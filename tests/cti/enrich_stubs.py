"""Stand-ins for the core system and the ticketing system, and a store seeded with one caller's past."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from cti.history import CONTEXT
from cti.tables import disposition
from hotline.store.repo import upsert_attempts

CALLER = "081234567890"
"""The caller of the captured ``answered-hold`` call (uniqueid 1795514646.0, AgentCalled at NOW)."""
NOW = 1795514648.479414
API_KEY = "core key for tests"
TICKET_TOKEN = "ticketing token for tests"
CUSTOMER = {
    "customer_no": "1000000001",
    "name": "Siti Rahayu",
    "products": [
        {"contract_no": "1012311240000001", "product": "Gadai KCA", "status": "active"},
        {"contract_no": "1012321240000002", "product": "Amanah", "status": "overdue"},
    ],
}
TICKETS = {
    "ARN-12": ("Open", "new", "Pengaduan: emas belum kembali"),
    "ARN-7": ("In Progress", "indeterminate", "Pengaduan: angsuran"),
    "ARN-3": ("Resolved", "done", "Pengaduan: lama"),
}


@dataclass
class Stub:
    """An upstream on 127.0.0.1: answers when ``gate`` is set; ``hang`` never answers (up to 5 s)."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    hang: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the test ends: a hanging handler then returns (the server can stop at once)."""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    status: int = 200
    base_url: str = ""

    async def wait(self, request: web.Request) -> None:
        self.requests.append((request.path_qs, dict(request.headers)))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hang:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(5):
                        await self.released.wait()
            await self.gate.wait()
        finally:
            self.in_flight -= 1


def core_app(stub: Stub) -> web.Application:
    async def customer(request: web.Request) -> web.Response:
        await stub.wait(request)
        if stub.status != 200:
            return web.json_response({"error": "down", "message": "down"}, status=stub.status)
        if request.headers.get("X-API-Key") != API_KEY:
            return web.json_response({"error": "unauthorized", "message": "no"}, status=401)
        if request.match_info["number"] != CUSTOMER["customer_no"]:
            return web.json_response({"error": "not_found", "message": "no such customer"}, status=404)
        return web.json_response(CUSTOMER)

    app = web.Application()
    app.router.add_get("/customers/{number}", customer)
    return app


def ticketing_app(stub: Stub) -> web.Application:
    async def issue(request: web.Request) -> web.Response:
        await stub.wait(request)
        if request.headers.get("Authorization") != f"Bearer {TICKET_TOKEN}":
            return web.json_response({"errorMessages": ["no"]}, status=401)
        key = request.match_info["key"]
        if key not in TICKETS or request.query.get("fields") != "status,summary":
            return web.json_response({"errorMessages": ["Issue Does Not Exist"]}, status=404)
        name, category, summary = TICKETS[key]
        status = {"name": name, "statusCategory": {"key": category, "name": name}}
        return web.json_response({"key": key, "fields": {"status": status, "summary": summary}})

    app = web.Application()
    app.router.add_get("/rest/api/2/issue/{key}", issue)
    return app


@asynccontextmanager
async def serve(app: web.Application, stub: Stub) -> AsyncIterator[Stub]:
    """Run ``app`` on an ephemeral port; its waiting handlers are released before it stops."""
    server = TestServer(app)
    await server.start_server()
    stub.base_url = str(server.make_url("")).rstrip("/")
    try:
        yield stub
    finally:
        stub.released.set()
        stub.gate.set()
        await server.close()


def attempt(call_id: str, at: float, *, caller: str | None = CALLER, **values: Any) -> dict[str, Any]:
    """One queue_attempt row (answered by Siti Rahma unless told otherwise)."""
    row: dict[str, Any] = {
        "pbx": "jakarta",
        "call_id": call_id,
        "attempt": 1,
        "source": "ami",
        "queue": "cc-informasi",
        "linkedid": call_id,
        "caller_number": caller,
        "entered_at": at,
        "position": 1,
        "outcome": "answered",
        "ended_at": at + 100,
        "wait_s": 12.0,
        "agent": "Siti Rahma",
        "agent_interface": "PJSIP/1001",
        "connected_at": at + 12,
        "handle_s": 88.04,
        "hold_s": 0.0,
        "completed_by": "caller",
        "transfer_target": None,
        "ring_no_answer": 0,
    }
    row.update(values)
    return row


async def seed_past(engine: AsyncEngine) -> None:
    """Seven earlier calls of CALLER (h1 newest), other callers' calls (newer), and the current call."""
    rows = [attempt(f"h{k}.0", NOW - k * 3600, queue=f"cc-q{k}") for k in range(1, 8)]
    rows.append(attempt("h1.0", NOW - 3600 + 1, source="queue_log", linkedid=None, agent="queue_log copy"))
    # The same call's second queue, a minute later (a transfer): a contact of its own.
    rows.append(attempt("h4.0", NOW - 4 * 3600 + 60, queue="cc-pengaduan", agent=None, handle_s=None))
    rows[-1].update(attempt=2, outcome="abandoned")
    rows += [attempt(f"o{k}.0", NOW - k * 60, caller="081299998888") for k in range(1, 4)]
    rows.append(attempt("u1.0", NOW - 30, caller=None))
    rows.append(attempt("1795514646.0", NOW - 2, outcome="answered"))  # the call ringing now
    await upsert_attempts(engine, rows)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(disposition),
            [
                {
                    "pbx": "jakarta",
                    "linkedid": "h1.0",
                    "agent": "1001",
                    "iface": "PJSIP/1001",
                    "category": "informasi",
                    "notes": "tanya harga emas",
                    "created_at": NOW - 3000,
                },
                {
                    "pbx": "jakarta",
                    "linkedid": "o1.0",
                    "agent": "1002",
                    "iface": "PJSIP/1002",
                    "category": "pengaduan",
                    "notes": "another caller's notes",
                    "created_at": NOW - 30,
                },
            ],
        )
        context = [("h2.0", "ARN-7"), ("h3.0", "ARN-3"), ("o1.0", "ARN-99")]
        await connection.execute(
            sa.insert(CONTEXT),
            [
                {
                    "pbx": "jakarta",
                    "uniqueid": u,
                    "key": "ticket",
                    "value": v,
                    "linkedid": u,
                    "updated_at": NOW,
                }
                for u, v in context
            ],
        )
