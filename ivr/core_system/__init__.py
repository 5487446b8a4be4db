"""Pegadaian's core system: customer lookup, verification, bill inquiry and payment.

:class:`CoreSystemClient` speaks the contract of ``docs/core-system.openapi.json``;
:class:`CoreSystemSimulator` serves it for ``hotline demo``, tests and benchmarks.
"""

from ivr.core_system.client import CoreSystemClient
from ivr.core_system.errors import (
    CoreSystemError,
    CoreSystemTimeout,
    CoreSystemUnavailable,
    IdempotencyConflict,
    InvalidRequest,
    NotFound,
    PaymentDeclined,
)
from ivr.core_system.models import (
    Bill,
    CoreSystemSettings,
    Customer,
    Payment,
    PaymentOption,
    Product,
    idempotency_key_for,
)
from ivr.core_system.simulator import CoreSystemSimulator

__all__ = [
    "Bill",
    "CoreSystemClient",
    "CoreSystemError",
    "CoreSystemSettings",
    "CoreSystemSimulator",
    "CoreSystemTimeout",
    "CoreSystemUnavailable",
    "Customer",
    "IdempotencyConflict",
    "InvalidRequest",
    "NotFound",
    "Payment",
    "PaymentDeclined",
    "PaymentOption",
    "Product",
    "idempotency_key_for",
]
