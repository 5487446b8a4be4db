"""CoreSystemSimulator: a stand-in for Pegadaian's core system, for ``hotline demo`` and tests.

It serves the contract of docs/core-system.openapi.json over aiohttp from a seeded
:mod:`directory <ivr.core_system.directory>` and can misbehave on demand (:mod:`ivr.simulation`:
slow, 5xx, hung requests, lost responses) or decline payments (``decline_payments``).
It never reduces a balance, so demos and benchmarks can pay the same bill again and again.

Inspection for tests and operators: :meth:`CoreSystemSimulator.executions` (how many times the
payment of an Idempotency-Key was executed - at most once by design), ``GET /_simulator/payments``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from hotline.logs import get_logger, mask_number
from ivr.core_system.directory import Directory, seeded_directory
from ivr.simulation import Faults, SimulatorServer, fault_routes

_log = get_logger(__name__)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class ExecutedPayment:
    """One payment the simulator executed (paid or declined), as stored for its Idempotency-Key."""

    idempotency_key: str
    fingerprint: str
    status: int
    document: dict[str, Any]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class CoreSystemSimulator:
    """The core-system contract on 127.0.0.1; ``async with CoreSystemSimulator() as sim: sim.base_url``."""

    def __init__(
        self,
        *,
        api_key: str = "",
        seed: int = 1500569,
        customers: int = 200,
        today: date | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.directory: Directory = seeded_directory(seed=seed, count=customers, today=today)
        self.faults = Faults()
        self.decline_payments = False
        """Decline every payment (as the core system does when its bank link is down)."""
        self.payments: dict[str, ExecutedPayment] = {}
        self._executions: Counter[str] = Counter()
        self._requests: Counter[str] = Counter()
        self._locks: dict[str, asyncio.Lock] = {}
        self._api_key = api_key
        self._sequence = 0
        app = web.Application(middlewares=[self.faults.middleware, self._auth])
        app.add_routes(
            [
                web.get("/customers/{number}", self._customer),
                web.post("/verifications", self._verification),
                web.get("/contracts/{contract_no}/bill", self._bill),
                web.post("/payments", self._payment),
                web.get("/_simulator/payments", self._inspect_payments),
                web.post("/_simulator/declines", self._switch_declines),
                *fault_routes(self.faults),
            ]
        )
        self.app = app
        self._server = SimulatorServer(app, self.faults, host=host, port=port)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def start(self) -> str:
        """Start serving; returns the base URL."""
        return await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()

    async def __aenter__(self) -> CoreSystemSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def executions(self, idempotency_key: str) -> int:
        """How many times the payment of this key was executed (paid or declined)."""
        return self._executions[idempotency_key]

    def payment_requests(self, idempotency_key: str) -> int:
        """How many POST /payments carried this key (retries included)."""
        return self._requests[idempotency_key]

    @web.middleware
    async def _auth(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if self._api_key and not request.path.startswith("/_simulator/"):
            given = request.headers.get("X-API-Key", "")
            if not hmac.compare_digest(given.encode(), self._api_key.encode()):
                return _error(401, "unauthorized", "missing or wrong X-API-Key")
        response: web.StreamResponse = await handler(request)
        return response

    async def _customer(self, request: web.Request) -> web.Response:
        customer = self.directory.customer_for(request.match_info["number"])
        if customer is None:
            return _error(404, "not_found", "no customer or contract with that number")
        products = [
            {"contract_no": c.contract_no, "product": c.product, "status": c.status}
            for c in (self.directory.contracts[n] for n in customer.contracts)
        ]
        return web.json_response(
            {"customer_no": customer.customer_no, "name": customer.name, "products": products}
        )

    async def _verification(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        if body is None:
            return _error(400, "bad_request", "the body must be a JSON object")
        customer_no, answer = body.get("customer_no"), body.get("answer")
        if not isinstance(customer_no, str) or not isinstance(answer, str) or len(answer) != 8:
            return _error(422, "invalid", "customer_no and an 8-digit answer (DDMMYYYY) are required")
        customer = self.directory.customers.get(customer_no)
        if customer is None:
            return _error(404, "not_found", "no customer with that number")
        verified = hmac.compare_digest(answer.encode(), customer.birth_date.strftime("%d%m%Y").encode())
        return web.json_response({"customer_no": customer_no, "verified": verified})

    async def _bill(self, request: web.Request) -> web.Response:
        contract = self.directory.contracts.get(request.match_info["contract_no"])
        if contract is None:
            return _error(404, "not_found", "no contract with that number")
        return web.json_response(self.directory.bill(contract))

    async def _payment(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key", "")
        if not 8 <= len(key) <= 255:
            return _error(
                400, "idempotency_key_required", "an Idempotency-Key header of 8-255 chars is required"
            )
        body = await _json_object(request)
        if body is None:
            return _error(400, "bad_request", "the body must be a JSON object")
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        # One lock per key: a retry arriving while the first request is still being handled
        # waits for it and then gets its stored answer, instead of racing it.
        async with self._locks.setdefault(key, asyncio.Lock()):
            self._requests[key] += 1
            stored = self.payments.get(key)
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    return _error(
                        409, "idempotency_key_reused", "this Idempotency-Key was used for another payment"
                    )
                return web.json_response(
                    stored.document, status=stored.status, headers={"Idempotent-Replayed": "true"}
                )
            refusal = self._validate(body)
            if refusal is not None:
                return refusal
            status, document = self._execute(body)
            self.payments[key] = ExecutedPayment(key, fingerprint, status, document)
            self._executions[key] += 1
        _log.info(
            "simulator_payment",
            contract_no=mask_number(str(body["contract_no"])),
            status=document["status"],
            amount=body["amount"],
        )
        return web.json_response(document, status=status)

    def _validate(self, body: dict[str, Any]) -> web.Response | None:
        contract = self.directory.contracts.get(str(body.get("contract_no")))
        if contract is None:
            return _error(404, "not_found", "no contract with that number")
        amount = body.get("amount")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return _error(422, "invalid_amount", "amount must be a positive integer (IDR)")
        options = {o["code"]: o["amount"] for o in self.directory.bill(contract)["options"]}
        if body.get("option_code") not in options:
            return _error(422, "unknown_option", f"option_code must be one of {sorted(options)}")
        if options[body["option_code"]] != amount:
            return _error(422, "amount_mismatch", "amount differs from the option's amount")
        return None

    def _execute(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        contract = self.directory.contracts[body["contract_no"]]
        self._sequence += 1
        reference = f"{self.directory.today:%y%m%d}{self._sequence:06d}"
        document: dict[str, Any] = {
            "reference": reference,
            "contract_no": contract.contract_no,
            "option_code": body["option_code"],
            "amount": body["amount"],
        }
        reason = "contract_blocked" if contract.status == "blocked" else None
        if self.decline_payments:
            reason = "declined_by_bank"
        if reason is not None:
            return 200, {**document, "status": "declined", "decline_reason": reason}
        return 201, {**document, "status": "paid", "paid_at": datetime.now(UTC).isoformat(timespec="seconds")}

    async def _inspect_payments(self, _request: web.Request) -> web.Response:
        by_key = {
            key: {
                "executions": self._executions[key],
                "requests": self._requests[key],
                "status": p.document["status"],
                "reference": p.document["reference"],
            }
            for key, p in self.payments.items()
        }
        return web.json_response({"payments": by_key, "decline_payments": self.decline_payments})

    async def _switch_declines(self, request: web.Request) -> web.Response:
        body = await _json_object(request)
        if body is None or not isinstance(body.get("decline_payments"), bool):
            return _error(400, "bad_request", 'send {"decline_payments": true|false}')
        self.decline_payments = body["decline_payments"]
        return web.json_response({"decline_payments": self.decline_payments})


async def _json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
