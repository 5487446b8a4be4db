"""Typed results of the core-system contract (docs/core-system.openapi.json) and client settings.

Amounts are Indonesian rupiah as integers (the rupiah has no minor unit in practice).
Each ``from_json`` checks the shape it is given and raises :class:`CoreSystemError` on a
document that breaks the contract, rather than letting a ``KeyError`` escape to a call flow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from hotline.config import Secret
from ivr.core_system.errors import CoreSystemError

PRODUCTS: Final = ("Gadai KCA", "Gadai Emas", "Amanah", "Arrum BPKB", "Arrum Haji", "Krasida", "Kreasi")
"""Product names the contract uses (others may appear; they are passed through)."""
CONTRACT_STATUSES: Final = ("active", "overdue", "paid_off", "blocked")


@dataclass(frozen=True)
class CoreSystemSettings:
    """Where the core system is and how patiently to talk to it (``[core_system]`` in the config)."""

    base_url: str
    timeout_s: float = 3.0
    """Seconds one attempt may take; a caller is waiting on the line."""
    retries: int = 2
    """Extra attempts for idempotent calls (GETs and keyed payments); never for verifications."""
    backoff_s: float = 0.2
    backoff_max_s: float = 1.0
    api_key: Secret = field(default_factory=lambda: Secret(""))
    """Sent as the X-API-Key header; empty sends none."""
    breaker_failures: int = 5
    """Consecutive failed attempts that open the circuit."""
    breaker_reset_s: float = 30.0
    """Seconds an open circuit waits before letting one probe through."""
    max_connections: int = 1000
    """HTTP connections to the core system at most; a request beyond them waits (within its timeout)."""


def _field(doc: Any, key: str, kind: type[Any], what: str) -> Any:
    value = doc.get(key) if isinstance(doc, dict) else None
    # bool is an int to Python; an amount of `true` is still a broken document.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise CoreSystemError(
            f"malformed {what} from the core system: {key!r} missing or not {kind.__name__}"
        )
    return value


@dataclass(frozen=True)
class Product:
    """One contract of a customer."""

    contract_no: str
    product: str
    status: str

    @classmethod
    def from_json(cls, doc: Any) -> Product:
        return cls(
            _field(doc, "contract_no", str, "product"),
            _field(doc, "product", str, "product"),
            _field(doc, "status", str, "product"),
        )


@dataclass(frozen=True)
class Customer:
    customer_no: str
    name: str
    products: tuple[Product, ...]

    @classmethod
    def from_json(cls, doc: Any) -> Customer:
        products = _field(doc, "products", list, "customer")
        return cls(
            _field(doc, "customer_no", str, "customer"),
            _field(doc, "name", str, "customer"),
            tuple(Product.from_json(p) for p in products),
        )


@dataclass(frozen=True)
class PaymentOption:
    """One way to pay a bill: full repayment, extension, this month's installment..."""

    code: str
    label: str
    """Indonesian label."""
    label_en: str
    amount: int

    @classmethod
    def from_json(cls, doc: Any) -> PaymentOption:
        return cls(
            _field(doc, "code", str, "payment option"),
            _field(doc, "label", str, "payment option"),
            _field(doc, "label_en", str, "payment option"),
            _field(doc, "amount", int, "payment option"),
        )


@dataclass(frozen=True)
class Bill:
    contract_no: str
    customer_name: str
    product: str
    amount_due: int
    minimum_due: int
    due_date: date
    options: tuple[PaymentOption, ...]

    def option(self, code: str) -> PaymentOption | None:
        return next((o for o in self.options if o.code == code), None)

    @classmethod
    def from_json(cls, doc: Any) -> Bill:
        try:
            due = date.fromisoformat(_field(doc, "due_date", str, "bill"))
        except ValueError:
            raise CoreSystemError("malformed bill from the core system: due_date is not YYYY-MM-DD") from None
        return cls(
            _field(doc, "contract_no", str, "bill"),
            _field(doc, "customer_name", str, "bill"),
            _field(doc, "product", str, "bill"),
            _field(doc, "amount_due", int, "bill"),
            _field(doc, "minimum_due", int, "bill"),
            due,
            tuple(PaymentOption.from_json(o) for o in _field(doc, "options", list, "bill")),
        )


@dataclass(frozen=True)
class Payment:
    """A payment the core system executed and accepted."""

    reference: str
    """Digits only, so the IVR can read it back with say_digits."""
    amount: int
    contract_no: str
    replayed: bool = False
    """True when the core system answered from its idempotency record (a retry of a done payment)."""

    @classmethod
    def from_json(cls, doc: Any, *, replayed: bool) -> Payment:
        return cls(
            _field(doc, "reference", str, "payment"),
            _field(doc, "amount", int, "payment"),
            _field(doc, "contract_no", str, "payment"),
            replayed,
        )


def idempotency_key_for(call_id: str, contract_no: str, option_code: str, amount: int) -> str:
    """The Idempotency-Key of one call's payment of one contract option and amount.

    Derived, not random, so that the same call paying the same thing again (a retried AGI
    request, a second confirm, a restart between confirm and reply) reuses the key and the
    core system executes it at most once.
    """
    material = f"hotline-payment\0{call_id}\0{contract_no}\0{option_code}\0{amount}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]
