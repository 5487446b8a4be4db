"""The pieces of the pop's enrichment: masking, the history query, the guarded lookups, the enricher."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

import cti.enrich as enrich_module
from cti.enrich import PopEnricher
from cti.enrich_call import EnrichSettings
from cti.history import CallerHistory, caller_history, contacts_query
from cti.hub import AgentHub
from cti.lookups import TicketLookup
from cti.masking import customer_from_core, customer_from_ivr, ivr_block, mask_path
from cti.upstream import Breaker, NotFound, Unavailable, Upstream, UpstreamSettings
from hotline import names
from hotline.store import create_engine

from .conftest import fixture_events
from .enrich_stubs import API_KEY, CALLER, NOW, Stub, core_app, seed_past, serve, ticketing_app


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("main/informasi", "main/informasi"),
        ("lang=id/customer=1000000001/dob=***", "lang=id/customer=******0001/dob=***"),
        (
            "dob=17081985/enter-pin=1234/otp=99/mpin=1/birth_date=1",
            "dob=***/enter-pin=***/otp=***/mpin=***/birth_date=***",
        ),
        ("outlet=10123:by-pin/ticket=ARN-12/menu=2", "outlet=10123:by-pin/ticket=ARN-12/menu=2"),
        ("...tract=1012311240000001", "...tract=************0001"),
        ("shipping=1", "shipping=1"),
        ("", None),
    ],
)
def test_the_ivr_path_hides_secrets_and_long_numbers(path: str, shown: str | None) -> None:
    assert mask_path(path) == shown


def test_channel_variables_win_and_an_unverified_number_is_masked() -> None:
    variables = {names.VAR_IVR_CHOICE: "pembayaran", names.VAR_VERIFIED: "no"}
    context = {"choice": "informasi", "verified": "yes", "customer_no": "1000000001", "outlet_code": "10123"}
    block = ivr_block(variables, context)
    assert (block["choice"], block["verified"], block["outlet"]) == (
        "pembayaran",
        False,
        {"code": "10123", "name": None},
    )
    assert customer_from_ivr(variables, context) == {
        "number": "******0001",
        "name": None,
        "verified": False,
        "products": None,
        "source": "ivr",
    }
    assert customer_from_ivr({}, {"choice": "x"}) is None


@pytest.mark.parametrize("body", [[], {"name": "x"}, {"customer_no": "1", "name": "x", "products": "no"}])
def test_a_core_answer_that_is_not_a_customer_is_refused(body: Any) -> None:
    with pytest.raises(ValueError, match="core system"):
        customer_from_core(body)


async def test_history_is_the_callers_own_newest_first_one_row_per_attempt(engine: AsyncEngine) -> None:
    await seed_past(engine)
    found = await caller_history(
        engine, CALLER, pbx="jakarta", uniqueid="1795514646.0", linkedid="1795514646.0"
    )
    assert [(c["call_id"], c["queue"]) for c in found.contacts] == [
        ("h1.0", "cc-q1"),
        ("h2.0", "cc-q2"),
        ("h3.0", "cc-q3"),
        ("h4.0", "cc-pengaduan"),
        ("h4.0", "cc-q4"),
    ]
    assert [c["at"] for c in found.contacts] == sorted((c["at"] for c in found.contacts), reverse=True)
    assert found.contacts[0]["agent"] == "Siti Rahma"  # the AMI row, not its queue_log copy
    assert [len(c["dispositions"]) for c in found.contacts] == [1, 0, 0, 0, 0]
    assert found.tickets == ["ARN-7", "ARN-3"]  # not ARN-99, another caller's
    assert await caller_history(engine, "0000", pbx="jakarta", uniqueid="x", linkedid=None) == CallerHistory(
        [], []
    )


async def test_the_history_query_reads_the_caller_index(engine: AsyncEngine) -> None:
    await seed_past(engine)
    query = contacts_query(CALLER, 20)
    async with engine.connect() as connection:
        sql = str(query.compile(connection.sync_connection, compile_kwargs={"literal_binds": True}))
        if connection.dialect.name == "sqlite":
            plan = " ".join(
                str(row) for row in await connection.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}"))
            )
        else:
            # A table of 15 rows is read whole by choice; forbid that to see whether the index serves.
            await connection.execute(sa.text("SET enable_seqscan = off"))
            plan = " ".join(str(row) for row in await connection.execute(sa.text(f"EXPLAIN {sql}")))
    assert "ix_queue_attempt_caller_number" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # the order comes from the index


def test_the_breaker_opens_cools_down_and_lets_one_probe_through() -> None:
    now = [0.0]
    breaker = Breaker(2, 10.0, clock=lambda: now[0])
    assert not breaker.failure() and breaker.allow()
    assert breaker.failure() and not breaker.allow()
    now[0] = 10.5
    assert breaker.allow() and not breaker.allow()  # one probe at a time
    assert not breaker.failure() and not breaker.allow()  # the probe failed: another cool-down
    now[0] = 21.0
    assert breaker.allow()
    breaker.success()
    assert breaker.allow() and not breaker.open


def settings(stub: Stub, **changes: Any) -> UpstreamSettings:
    values: dict[str, Any] = {
        "name": "core_system",
        "base_url": stub.base_url,
        "headers": {},
        "timeout_s": 1.0,
    }
    return UpstreamSettings(**{**values, **changes})


async def test_a_failing_upstream_opens_the_circuit_and_is_no_longer_called() -> None:
    stub = Stub(status=503)
    stub.gate.set()
    async with serve(core_app(stub), stub):
        upstream = Upstream(
            settings(stub, headers={"X-API-Key": API_KEY}, breaker_failures=2, breaker_reset_s=0.05)
        )
        try:
            for _ in range(2):
                with pytest.raises(Unavailable, match="answered 503"):
                    await upstream.get_json("/customers/1000000001")
            with pytest.raises(Unavailable, match="circuit open"):
                await upstream.get_json("/customers/1000000001")
            assert len(stub.requests) == 2
            await asyncio.sleep(0.06)
            stub.status = 200
            probe = await upstream.get_json("/customers/1000000001")  # one probe after the cool-down
            assert probe["name"] == "Siti Rahayu" and not upstream.breaker.open
            assert len(stub.requests) == 3
        finally:
            await upstream.close()


async def test_lookups_in_flight_are_bounded_and_the_overflow_refused_at_once() -> None:
    stub = Stub()
    async with serve(core_app(stub), stub):
        upstream = Upstream(settings(stub, max_in_flight=2, max_waiting=1))
        try:
            lookups = [asyncio.create_task(upstream.get_json(f"/customers/{n}")) for n in range(3)]
            await asyncio.sleep(0.05)
            with pytest.raises(Unavailable, match="too many lookups waiting"):
                await upstream.get_json("/customers/9")
            stub.gate.set()
            results = await asyncio.gather(*lookups, return_exceptions=True)
            assert all(isinstance(r, Unavailable) for r in results)  # 401: no key given
            assert stub.most_in_flight == 2 and len(stub.requests) == 3
        finally:
            await upstream.close()


async def test_ticket_lookup_refuses_keys_that_are_not_keys_and_maps_404() -> None:
    stub = Stub()
    stub.gate.set()
    async with serve(ticketing_app(stub), stub):
        lookup = TicketLookup(Upstream(settings(stub, name="ticketing")))
        try:
            with pytest.raises(NotFound):
                await lookup.status("../../admin")
            assert stub.requests == []
            with pytest.raises(Unavailable, match="401"):
                await lookup.status("ARN-12")
        finally:
            await lookup.close()


class RecordingHub(AgentHub):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def deliver(self, pbx: str, iface: str, message: Mapping[str, Any], *, key: str | None = None) -> int:
        self.sent.append((iface, dict(message)))
        return 1


def called() -> Any:
    return next(e for e in fixture_events("answered-hold") if e.name == "AgentCalled")


async def test_a_slow_store_sends_the_pop_without_history_which_follows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def slow_history(*args: Any, **kwargs: Any) -> CallerHistory:
        await asyncio.sleep(0.1)
        return CallerHistory([{"call_id": "h1.0"}], ["ARN-7"])

    monkeypatch.setattr(enrich_module, "caller_history", slow_history)
    hub = RecordingHub()
    enricher = PopEnricher(hub, engine=object(), settings=EnrichSettings(history_budget_s=0.01))  # type: ignore[arg-type]
    fields = await enricher.prepare("jakarta", called(), {}, NOW)
    assert (fields["history"], fields["enrichment"]["history"]) == (None, "pending")
    enricher.popped("jakarta", "1795514646.0", "PJSIP/1001")
    async with asyncio.timeout(1):
        while not hub.sent:
            await asyncio.sleep(0.01)
    iface, update = hub.sent[0]
    assert (iface, update["type"], update["history"]) == ("PJSIP/1001", "call.updated", [{"call_id": "h1.0"}])
    assert [t["key"] for t in update["tickets"]] == ["ARN-7"]
    assert enricher.store_breaker.failures == 1  # late counts against the store
    await enricher.stop()


async def test_a_dead_store_is_skipped_after_a_few_failures(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")  # never migrated: every read fails
    enricher = PopEnricher(RecordingHub(), engine=engine, settings=EnrichSettings(store_failures=2))
    try:
        states = []
        for n in range(3):
            event = type(called())(
                tuple((k, f"{n}.0" if k == "Uniqueid" else v) for k, v in called().headers)
            )
            states.append((await enricher.prepare("jakarta", event, {}, NOW))["enrichment"]["history"])
        assert states == ["unavailable"] * 3
        assert enricher.store_breaker.open and enricher.pending == 0
    finally:
        await enricher.stop()
        await engine.dispose()
