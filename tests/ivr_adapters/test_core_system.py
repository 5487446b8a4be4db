"""CoreSystemClient against CoreSystemSimulator: lookup, verification, bill and the happy payment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from hotline.config import Secret
from ivr.core_system import (
    CoreSystemClient,
    CoreSystemError,
    CoreSystemSimulator,
    InvalidRequest,
    NotFound,
    idempotency_key_for,
)

Make = Callable[..., CoreSystemClient]


async def test_lookup_by_customer_or_contract_number(core_client: Make) -> None:
    client = core_client()
    by_cif = await client.lookup_customer("1000000001")
    by_contract = await client.lookup_customer("1012321240000002")
    assert by_cif == by_contract
    assert by_cif.name == "Siti Rahayu"
    assert [(p.contract_no, p.product, p.status) for p in by_cif.products] == [
        ("1012311240000001", "Gadai KCA", "active"),
        ("1012321240000002", "Amanah", "active"),
    ]


async def test_unknown_number_is_not_found(core_client: Make) -> None:
    with pytest.raises(NotFound) as raised:
        await core_client().lookup_customer("9999999999")
    assert "9999999999" not in str(raised.value)  # masked, like a log line
    with pytest.raises(NotFound):
        await core_client().bill("1012399990000000")


@pytest.mark.parametrize("number", ["", "12a4", "1" * 21, "../payments"])
async def test_malformed_numbers_never_reach_the_wire(
    core_client: Make, core_sim: CoreSystemSimulator, number: str
) -> None:
    with pytest.raises(InvalidRequest):
        await core_client().lookup_customer(number)
    assert core_sim.faults.requests_seen == 0


async def test_verification_by_birth_date(core_client: Make) -> None:
    client = core_client()
    assert await client.verify("1000000001", "17081985") is True
    assert await client.verify("1000000001", "18081985") is False
    with pytest.raises(InvalidRequest, match="DDMMYYYY"):
        await client.verify("1000000001", "1708")
    with pytest.raises(NotFound):
        await client.verify("1000000999", "17081985")


async def test_bill_of_a_pawn_contract(core_client: Make) -> None:
    bill = await core_client().bill("1012311240000001")
    # Opened 40 days before TODAY: 3 started 15-day periods at 1.15 % of Rp 5,000,000.
    assert (bill.customer_name, bill.product) == ("Siti Rahayu", "Gadai KCA")
    assert bill.due_date == date(2025, 6, 2)  # opened 2 February, a 120-day term
    assert [(o.code, o.amount) for o in bill.options] == [("PELUNASAN", 5_172_500), ("PERPANJANGAN", 172_500)]
    assert (bill.amount_due, bill.minimum_due) == (5_172_500, 172_500)


async def test_bill_of_an_overdue_installment_and_a_paid_off_contract(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    client = core_client()
    overdue = await client.bill("1012312240000003")
    assert overdue.due_date < date(2025, 3, 14)
    paid_off = await client.bill("1012311230000004")
    assert (paid_off.amount_due, paid_off.minimum_due, paid_off.options) == (0, 0, ())
    amanah = await client.bill("1012321240000002")
    option = amanah.option("ANGSURAN")
    assert option is not None and option.amount == amanah.amount_due > 0


async def test_payment_happy_path(core_client: Make, core_sim: CoreSystemSimulator) -> None:
    client = core_client()
    bill = await client.bill("1012311240000001")
    option = bill.options[1]
    key = idempotency_key_for("1741939200.42", bill.contract_no, option.code, option.amount)
    payment = await client.pay(
        contract_no=bill.contract_no,
        option_code=option.code,
        amount=option.amount,
        idempotency_key=key,
        call_id="1741939200.42",
    )
    assert payment.amount == 172_500 and payment.contract_no == bill.contract_no
    assert payment.reference.isdigit() and len(payment.reference) == 12
    assert payment.replayed is False
    assert core_sim.executions(key) == 1


async def test_a_wrong_amount_is_refused_and_not_stored(
    core_client: Make, core_sim: CoreSystemSimulator
) -> None:
    client = core_client()
    with pytest.raises(InvalidRequest, match="amount"):
        await client.pay(
            contract_no="1012311240000001",
            option_code="PERPANJANGAN",
            amount=1000,
            idempotency_key="k-wrong-amount",
        )
    assert core_sim.executions("k-wrong-amount") == 0
    # Refusals are not stored, so the corrected request may reuse the key.
    payment = await client.pay(
        contract_no="1012311240000001",
        option_code="PERPANJANGAN",
        amount=172_500,
        idempotency_key="k-wrong-amount",
    )
    assert payment.amount == 172_500


@pytest.mark.parametrize(
    ("key", "amount"), [("short", 1000), ("k with spaces", 1000), ("k-valid-key", 0), ("k-valid-key", -5)]
)
async def test_bad_payment_arguments_are_refused_locally(
    core_client: Make, core_sim: CoreSystemSimulator, key: str, amount: int
) -> None:
    with pytest.raises(InvalidRequest):
        await core_client().pay(
            contract_no="1012311240000001", option_code="PELUNASAN", amount=amount, idempotency_key=key
        )
    assert core_sim.faults.requests_seen == 0


async def test_a_wrong_api_key_is_a_clear_error(core_client: Make) -> None:
    with pytest.raises(CoreSystemError, match="credentials"):
        await core_client(api_key=Secret("wrong")).lookup_customer("1000000001")


def test_the_idempotency_key_is_stable_per_call_contract_option_and_amount() -> None:
    key = idempotency_key_for("1741939200.42", "1012311240000001", "PELUNASAN", 5_172_500)
    assert key == idempotency_key_for("1741939200.42", "1012311240000001", "PELUNASAN", 5_172_500)
    assert key != idempotency_key_for("1741939200.43", "1012311240000001", "PELUNASAN", 5_172_500)
    assert key != idempotency_key_for("1741939200.42", "1012311240000001", "PELUNASAN", 5_172_400)
    assert len(key) == 32


def test_the_directory_is_the_same_for_the_same_seed() -> None:
    one = CoreSystemSimulator(seed=7, customers=30, today=date(2025, 3, 14)).directory
    two = CoreSystemSimulator(seed=7, customers=30, today=date(2025, 3, 14)).directory
    other = CoreSystemSimulator(seed=8, customers=30, today=date(2025, 3, 14)).directory
    assert [c.name for c in one.customers.values()] == [c.name for c in two.customers.values()]
    assert one.contracts.keys() == two.contracts.keys() != other.contracts.keys()
    assert len(one.customers) == 33
    assert all(len(n) == 16 and n.isdigit() for n in one.contracts)
    assert all(len(n) == 10 and n.isdigit() for n in one.customers)
