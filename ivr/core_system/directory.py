"""The core-system simulator's seeded directory: Indonesian customers, contracts and their bills.

Three well-known customers are always present (documented in docs/core-system.openapi.json,
used by tests and ``hotline demo``); ``count`` more are generated from ``seed``, so a given
seed always gives the same directory. Bills are computed from the contract and ``today``:

- pawn products (Gadai KCA, Gadai Emas): a rental fee (sewa modal) per started 15-day period,
  at most 8 periods (the 120-day term); options: full repayment (pelunasan) or extension
  (perpanjangan, the rental fee only);
- installment products (Amanah, Arrum, Krasida, Kreasi): a flat monthly rate; options: this
  month's installment (angsuran, plus a 4 % late fee when overdue) or payoff (pelunasan).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

_PAWN_RATE: Final = {"Gadai KCA": 0.0115, "Gadai Emas": 0.0085}
"""Rental fee per 15-day period."""
_INSTALLMENT_RATE: Final = {
    "Amanah": 0.0095,
    "Arrum BPKB": 0.011,
    "Arrum Haji": 0.009,
    "Krasida": 0.01,
    "Kreasi": 0.01,
}
"""Flat monthly rate on the principal."""
_FIRST: Final = (
    "Siti", "Budi", "Dewi", "Agus", "Sri", "Made", "Putu", "Rina", "Joko", "Wahyu", "Nur", "Eko",
    "Ayu", "Bambang", "Fitri", "Hendra", "Indah", "Yusuf", "Ketut", "Lestari",
)  # fmt: skip
_LAST: Final = (
    "Rahayu", "Santoso", "Wirawan", "Lestari", "Hidayat", "Saputra", "Wulandari", "Nugroho", "Siregar",
    "Nasution", "Pratama", "Kusuma", "Setiawan", "Simanjuntak", "Susanti", "Hasibuan", "Purnomo",
)  # fmt: skip


@dataclass
class SimContract:
    contract_no: str
    customer_no: str
    product: str
    status: str
    """active, overdue, paid_off or blocked (a blocked contract's payments are declined)."""
    principal: int
    opened_on: date
    tenor_months: int = 0
    """Installment products only."""


@dataclass
class SimCustomer:
    customer_no: str
    name: str
    birth_date: date
    phone: str
    contracts: list[str] = field(default_factory=list)


def _round_up_100(amount: float) -> int:
    return math.ceil(amount / 100.0) * 100


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, min(start.day, 28))


class Directory:
    """Customers and contracts by number, and the bill of a contract on a given day."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.customers: dict[str, SimCustomer] = {}
        self.contracts: dict[str, SimContract] = {}

    def add(self, customer: SimCustomer, *contracts: SimContract) -> None:
        self.customers[customer.customer_no] = customer
        for contract in contracts:
            self.contracts[contract.contract_no] = contract
            customer.contracts.append(contract.contract_no)

    def customer_for(self, number: str) -> SimCustomer | None:
        """By customer number, or by the number of one of the customer's contracts."""
        if number in self.customers:
            return self.customers[number]
        contract = self.contracts.get(number)
        return self.customers[contract.customer_no] if contract else None

    def bill(self, contract: SimContract) -> dict[str, Any]:
        """The contract's bill as the JSON document of ``GET /contracts/{contract_no}/bill``."""
        name = self.customers[contract.customer_no].name
        if contract.status == "paid_off":
            options: list[dict[str, Any]] = []
            due, amount_due = contract.opened_on, 0
        elif contract.product in _PAWN_RATE:
            due = contract.opened_on + timedelta(days=120)
            periods = min(8, max(1, math.ceil((self.today - contract.opened_on).days / 15)))
            fee = _round_up_100(contract.principal * _PAWN_RATE[contract.product] * periods)
            options = [
                _option("PELUNASAN", "Pelunasan", "Full repayment", contract.principal + fee),
                _option("PERPANJANGAN", "Perpanjangan (sewa modal)", "Extension (rental fee)", fee),
            ]
            amount_due = contract.principal + fee
        else:
            rate = _INSTALLMENT_RATE.get(contract.product, 0.01)
            paid = max(0, _months_between(contract.opened_on, self.today))
            due = _add_months(contract.opened_on, paid + (0 if contract.status == "overdue" else 1))
            monthly = _round_up_100(contract.principal / contract.tenor_months + contract.principal * rate)
            late_fee = _round_up_100(monthly * 0.04) if contract.status == "overdue" else 0
            remaining = contract.principal * max(1, contract.tenor_months - paid) / contract.tenor_months
            options = [
                _option("ANGSURAN", "Angsuran bulan ini", "This month's installment", monthly + late_fee),
                _option(
                    "PELUNASAN",
                    "Pelunasan",
                    "Payoff",
                    _round_up_100(remaining + contract.principal * rate) + late_fee,
                ),
            ]
            amount_due = monthly + late_fee
        return {
            "contract_no": contract.contract_no,
            "customer_name": name,
            "product": contract.product,
            "status": contract.status,
            "amount_due": amount_due,
            "minimum_due": min((o["amount"] for o in options), default=0),
            "due_date": due.isoformat(),
            "currency": "IDR",
            "options": options,
        }


def _option(code: str, label: str, label_en: str, amount: int) -> dict[str, Any]:
    return {"code": code, "label": label, "label_en": label_en, "amount": amount}


def _well_known(directory: Directory) -> None:
    today = directory.today
    directory.add(
        SimCustomer("1000000001", "Siti Rahayu", date(1985, 8, 17), "081234567890"),
        SimContract(
            "1012311240000001", "1000000001", "Gadai KCA", "active", 5_000_000, today - timedelta(days=40)
        ),
        SimContract(
            "1012321240000002", "1000000001", "Amanah", "active", 18_000_000, _add_months(today, -5), 24
        ),
    )
    directory.add(
        SimCustomer("1000000002", "Budi Santoso", date(1979, 2, 1), "081298765432"),
        SimContract(
            "1012312240000003", "1000000002", "Gadai Emas", "overdue", 2_500_000, today - timedelta(days=130)
        ),
        SimContract(
            "1012311230000004", "1000000002", "Gadai KCA", "paid_off", 1_500_000, today - timedelta(days=400)
        ),
    )
    directory.add(
        SimCustomer("1000000003", "Made Wirawan", date(1990, 11, 23), "085712345678"),
        SimContract(
            "1012322240000005", "1000000003", "Arrum BPKB", "blocked", 12_000_000, _add_months(today, -8), 36
        ),
    )


def seeded_directory(*, seed: int = 1500569, count: int = 200, today: date | None = None) -> Directory:
    """The well-known customers plus ``count`` generated ones (same seed, same directory)."""
    directory = Directory(today or date.today())
    _well_known(directory)
    rng = random.Random(seed)
    products = list(_PAWN_RATE) * 3 + list(_INSTALLMENT_RATE)  # pawning is most of the book
    for n in range(count):
        customer_no = f"{1000001000 + n:010d}"
        born = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 365 * 47))
        customer = SimCustomer(
            customer_no,
            f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            born,
            f"08{rng.randrange(10**9, 10**10)}",
        )
        contracts = []
        for k in range(rng.randint(1, 3)):
            product = rng.choice(products)
            status = rng.choices(["active", "overdue", "paid_off", "blocked"], [80, 12, 6, 2])[0]
            outlet = rng.randrange(10000, 19999)
            contract_no = f"{outlet:05d}{1 if product in _PAWN_RATE else 2}{k + 1}24{n + 10:07d}"
            if product in _PAWN_RATE:
                principal = rng.randrange(5, 500) * 100_000
                age = rng.randrange(121, 150) if status == "overdue" else rng.randrange(1, 119)
                opened = directory.today - timedelta(days=age)
                contracts.append(SimContract(contract_no, customer_no, product, status, principal, opened))
            else:
                principal = rng.randrange(20, 800) * 500_000
                tenor = rng.choice([12, 24, 36])
                opened = _add_months(directory.today, -rng.randrange(1, tenor))
                contracts.append(
                    SimContract(contract_no, customer_no, product, status, principal, opened, tenor)
                )
        directory.add(customer, *contracts)
    return directory
