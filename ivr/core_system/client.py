"""Async client of Pegadaian's core system (contract: docs/core-system.openapi.json).

Safety rules, because a caller is on the line and money is involved:

- every attempt has a timeout (per call, ``timeout=``, or the settings' ``timeout_s``);
- only idempotent requests are retried: the GETs, and ``POST /payments`` because it carries
  an Idempotency-Key - every retry resends the same key, so the core system executes the
  payment at most once. ``POST /verifications`` is never retried;
- a circuit breaker (:mod:`ivr.breaker`) makes calls fail fast while the core system is down;
- the API key is only ever in a request header; customer and contract numbers are masked in
  log lines and exception messages;
- answers are logged at DEBUG: the IVR logs each outcome a caller gets once, at INFO
  (``payment attempt``, ``caller identification``), so a busy hotline writes one line, not two.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import aiohttp

from hotline.logs import get_logger, mask_number
from ivr.breaker import CircuitBreaker
from ivr.core_system.errors import (
    CoreSystemError,
    CoreSystemTimeout,
    CoreSystemUnavailable,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    PaymentDeclined,
)
from ivr.core_system.models import Bill, CoreSystemSettings, Customer, Payment
from ivr.upstream import Upstream, UpstreamDown, UpstreamResponse

_log = get_logger(__name__)
_NUMBER = re.compile(r"[0-9]{1,20}")
_ANSWER = re.compile(r"[0-9]{8}")
_KEY = re.compile(r"[A-Za-z0-9_-]{8,255}")


def _digits(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NUMBER.fullmatch(value):
        raise InvalidRequest(f"{what} must be 1 to 20 digits, got {mask_number(str(value))!r}")
    return value


class CoreSystemClient:
    """Customer lookup, verification, bill inquiry and payment against the core system."""

    def __init__(
        self,
        settings: CoreSystemSettings,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        headers = {"Accept": "application/json", "User-Agent": "hotline-ivr"}
        if settings.api_key.reveal():
            headers["X-API-Key"] = settings.api_key.reveal()
        self.breaker = CircuitBreaker(
            "core_system",
            failure_threshold=settings.breaker_failures,
            reset_timeout_s=settings.breaker_reset_s,
            clock=clock,
        )
        self._upstream = Upstream(
            "core_system",
            settings.base_url,
            timeout_s=settings.timeout_s,
            retries=settings.retries,
            backoff_s=settings.backoff_s,
            backoff_max_s=settings.backoff_max_s,
            breaker=self.breaker,
            headers=headers,
            session=session,
            max_connections=settings.max_connections,
        )

    async def close(self) -> None:
        await self._upstream.close()

    async def __aenter__(self) -> CoreSystemClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def lookup_customer(self, number: str, *, timeout: float | None = None) -> Customer:
        """The customer with this customer number, or owning this contract number; raises NotFound."""
        masked = f"/customers/{mask_number(_digits(number, 'customer or contract number'))}"
        resp = await self._call("GET", f"/customers/{number}", masked, retry=True, timeout=timeout)
        return Customer.from_json(self._expect(resp, {200}, masked))

    async def verify(self, customer_no: str, answer: str, *, timeout: float | None = None) -> bool:
        """Check the caller's answer: the customer's birth date as DDMMYYYY (8 digits). Not retried."""
        _digits(customer_no, "customer number")
        if not isinstance(answer, str) or not _ANSWER.fullmatch(answer):
            raise InvalidRequest("the verification answer must be a birth date as 8 digits, DDMMYYYY")
        body = {"customer_no": customer_no, "answer": answer}
        resp = await self._call(
            "POST", "/verifications", "/verifications", retry=False, json_body=body, timeout=timeout
        )
        doc = self._expect(resp, {200}, "/verifications")
        verified = doc.get("verified") if isinstance(doc, dict) else None
        if not isinstance(verified, bool):
            raise CoreSystemError("malformed verification from the core system: 'verified' missing")
        _log.debug("customer_verification", customer_no=mask_number(customer_no), verified=verified)
        return verified

    async def bill(self, contract_no: str, *, timeout: float | None = None) -> Bill:
        """What is due on a contract and the ways to pay it; raises NotFound."""
        masked = f"/contracts/{mask_number(_digits(contract_no, 'contract number'))}/bill"
        resp = await self._call("GET", f"/contracts/{contract_no}/bill", masked, retry=True, timeout=timeout)
        return Bill.from_json(self._expect(resp, {200}, masked))

    async def pay(
        self,
        *,
        contract_no: str,
        option_code: str,
        amount: int,
        idempotency_key: str,
        call_id: str | None = None,
        timeout: float | None = None,
    ) -> Payment:
        """Pay one option of a bill, at most once per ``idempotency_key`` (see idempotency_key_for).

        Raises PaymentDeclined (executed, not charged), IdempotencyConflict (key reused with
        another body), NotFound, InvalidRequest, or CoreSystemUnavailable - after which the
        outcome is unknown: the IVR must ask again with the same key before any new attempt.
        """
        _digits(contract_no, "contract number")
        if not _KEY.fullmatch(idempotency_key):
            raise InvalidRequest("the Idempotency-Key must be 8 to 255 letters, digits, '-' or '_'")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise InvalidRequest(f"the amount must be a positive whole number of rupiah, not {amount!r}")
        body: dict[str, Any] = {"contract_no": contract_no, "option_code": option_code, "amount": amount}
        body["channel"] = "ivr"
        if call_id:
            body["call_id"] = call_id
        resp = await self._call(
            "POST",
            "/payments",
            "/payments",
            retry=True,
            json_body=body,
            headers={"Idempotency-Key": idempotency_key},
            timeout=timeout,
        )
        doc = self._expect(resp, {200, 201}, "/payments")
        replayed = resp.headers.get("Idempotent-Replayed", "").lower() == "true"
        context = {
            "contract_no": mask_number(contract_no),
            "idempotency_key": idempotency_key,
            "amount": amount,
        }
        if isinstance(doc, dict) and doc.get("status") == "declined":
            reason = str(doc.get("decline_reason") or "declined")
            reference = str(doc.get("reference") or "")
            _log.debug("payment_declined", reason=reason, reference=reference, replayed=replayed, **context)
            raise PaymentDeclined(
                f"payment declined: {reason}", reference=reference, reason=reason, amount=amount
            )
        if not isinstance(doc, dict) or doc.get("status") != "paid":
            raise CoreSystemError(
                "malformed payment from the core system: status is neither paid nor declined"
            )
        payment = Payment.from_json(doc, replayed=replayed)
        _log.debug("payment_paid", reference=payment.reference, replayed=replayed, **context)
        return payment

    async def _call(
        self,
        method: str,
        path: str,
        log_path: str,
        *,
        retry: bool,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> UpstreamResponse:
        try:
            return await self._upstream.request(
                method,
                path,
                log_path=log_path,
                retry=retry,
                json_body=json_body,
                headers=headers,
                timeout=timeout,
            )
        except UpstreamDown as exc:
            message = f"core system unavailable ({method} {log_path}): {exc.reason}"
            if exc.timed_out:
                raise CoreSystemTimeout(message) from None
            raise CoreSystemUnavailable(message, circuit_open=exc.circuit_open) from None

    @staticmethod
    def _expect(resp: UpstreamResponse, ok: set[int], log_path: str) -> Any:
        """The body of an expected answer; anything else becomes the matching typed exception."""
        if resp.status in ok:
            return resp.body
        message = resp.body.get("message") if isinstance(resp.body, dict) else None
        detail = f"{log_path}: {resp.status}" + (f" {message}" if isinstance(message, str) else "")
        if resp.status == 404:
            raise NotFound(f"not found in the core system ({log_path})")
        if resp.status == 409:
            raise IdempotencyConflict(f"Idempotency-Key reused with a different payment ({detail})")
        if resp.status in (400, 422):
            raise InvalidRequest(f"the core system refused the request ({detail})")
        if resp.status in (401, 403):
            raise CoreSystemError(
                f"the core system refused hotline's credentials ({log_path}: {resp.status})"
            )
        raise CoreSystemError(f"unexpected answer from the core system ({detail})")
