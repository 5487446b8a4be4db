"""What can go wrong when hotline asks the core system something.

Every exception is a :class:`CoreSystemError`, so an IVR flow can end any failure in one
``except`` with a polite message and an offer of an agent. Messages never carry a full
customer or contract number (they are masked like log lines).
"""

from __future__ import annotations


class CoreSystemError(Exception):
    """The core system could not give the answer asked for."""


class CoreSystemUnavailable(CoreSystemError):
    """No answer: timeouts, connection errors or 5xx on every allowed attempt, or the circuit open."""

    def __init__(self, message: str, *, circuit_open: bool = False) -> None:
        super().__init__(message)
        self.circuit_open = circuit_open


class CoreSystemTimeout(CoreSystemUnavailable):
    """The last attempt got no answer within its timeout."""


class NotFound(CoreSystemError):
    """No customer or contract with that number."""


class InvalidRequest(CoreSystemError, ValueError):
    """The request was malformed (checked locally, or refused by the core system with 400/422)."""


class IdempotencyConflict(CoreSystemError):
    """The Idempotency-Key was already used for a payment with a different body (409)."""


class PaymentDeclined(CoreSystemError):
    """The core system executed the payment request and declined it; nothing was charged."""

    def __init__(self, message: str, *, reference: str, reason: str, amount: int) -> None:
        super().__init__(message)
        self.reference = reference
        self.reason = reason
        self.amount = amount
