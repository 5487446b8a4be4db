"""The IVR end to end through the emulated Asterisk 22: its FastAGI client, queues and agents, with
the core-system and ticketing simulators behind the real adapters."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline import names
from hotline.compose import Runtime
from hotline.config import AgiConfig, Config, EmulatorConfig, HttpConfig, StoreConfig
from hotline.demo import demo_agents, demo_config, retarget_agi
from hotline.emulator import AsteriskEmulator, CallResult, CallScript, EmulatorSettings
from ivr.core_system import CoreSystemClient, CoreSystemSettings, CoreSystemSimulator, idempotency_key_for
from ivr.feature import IvrFeature
from ivr.records import IvrStore
from ivr.ticketing import TicketingClient, TicketingSettings, TicketingSimulator

CUSTOMER, CONTRACT, BIRTH_DATE = "1000000001", "1012311240000001", "17081985"


@dataclass
class Site:
    emulator: AsteriskEmulator
    runtime: Runtime
    core: CoreSystemSimulator
    tickets: TicketingSimulator
    store: IvrStore

    async def call(self, digits: str, script: str = names.AGI_IVR_MAIN, **kwargs: object) -> CallResult:
        settings = dataclasses.replace(self.emulator.settings, agi_script=script)
        self.emulator.settings = self.emulator.core.settings = settings
        kwargs.setdefault("agent_hangs_up_after_s", 1.0)
        result = await self.emulator.place_call(
            CallScript("081234567890", "Siti Rahayu", digits=digits, **kwargs)
        )  # type: ignore[arg-type]
        feature = self.runtime.features[0]
        assert isinstance(feature, IvrFeature) and feature.deps is not None
        await feature.deps.background.drain(5.0)
        return result


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """hotline with the IVR (simulated core system and ticketing) in front of the emulated PBX."""
    core, tickets = CoreSystemSimulator(), TicketingSimulator()
    await core.start()
    await tickets.start()
    cfg = Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "spool")
        ),
        emulator=EmulatorConfig(agents=2, speed=100.0, seed=3),
    )
    emulator = AsteriskEmulator(
        EmulatorSettings(ami_port=0, speed=100.0, seed=3, agents=demo_agents(2), agi_connect_timeout_s=1.0)
    )
    ami_port = await emulator.start()
    core_client = CoreSystemClient(CoreSystemSettings(base_url=core.base_url, timeout_s=1.0))
    ticket_client = TicketingClient(TicketingSettings(base_url=tickets.base_url, timeout_s=1.0))
    feature = IvrFeature(core_system=core_client, ticketing=ticket_client)
    runtime = Runtime(demo_config(cfg, ami_port, emulator.settings.ami_secret), features=[feature])
    await runtime.start()
    retarget_agi(emulator, "127.0.0.1", runtime.agi_port)
    try:
        assert feature.deps is not None and isinstance(feature.deps.records, IvrStore)
        yield Site(emulator, runtime, core, tickets, feature.deps.records)  # its reads see its queue
    finally:
        await emulator.stop()
        await runtime.stop()
        await core_client.close()
        await ticket_client.close()
        await core.stop()
        await tickets.stop()


async def test_verified_complaint_reaches_an_agent_with_a_ticket(site: Site) -> None:
    result = await site.call(f"21{CUSTOMER}#{BIRTH_DATE}")
    assert result.outcome == "answered"
    assert result.queues == [names.QUEUE_PENGADUAN]
    variables = result.variables
    assert (variables[names.VAR_VERIFIED], variables[names.VAR_CUSTOMER_NO]) == ("yes", CUSTOMER)
    assert variables[names.VAR_TICKET] == "ARN-1"
    (issue,) = site.tickets.issues.values()
    assert "******0001" in issue.description and BIRTH_DATE not in issue.description
    row = await site.store.call("demo-jakarta", result.uniqueid, names.AGI_IVR_MAIN)
    assert row is not None and (row["verified"], row["ticket_key"], row["outcome"]) == (
        "yes",
        "ARN-1",
        "routed",
    )


async def test_silence_then_a_choice(site: Site) -> None:
    result = await site.call("..4")
    assert result.queues == [names.QUEUE_SARAN]
    assert result.variables[names.VAR_IVR_PATH] == "main=timeout/main=timeout/main=saran"


async def test_silence_throughout_reaches_an_agent(site: Site) -> None:
    result = await site.call("")
    assert result.queues == [names.QUEUE_AGENT]
    assert result.outcome == "answered"


async def test_payment_line_pays_once_and_ends_the_call(site: Site) -> None:
    result = await site.call(f"{CONTRACT}#111", script=names.AGI_IVR_PAYMENT)
    assert result.outcome == "ivr_hangup" and result.queues == []
    reference = result.variables[names.VAR_PAYMENT_REF]
    (row,) = await site.store.payments_of_call("demo-jakarta", result.uniqueid)
    assert (row.status, row.reference) == ("paid", reference)
    key = idempotency_key_for(f"demo-jakarta/{result.uniqueid}", CONTRACT, row.option_code, row.amount)
    assert site.core.executions(key) == 1


async def test_payment_with_the_core_system_down_reaches_the_payment_agents(site: Site) -> None:
    site.core.faults.fail_status = 503
    result = await site.call(f"{CONTRACT}#", script=names.AGI_IVR_PAYMENT)
    assert result.queues == [names.QUEUE_PEMBAYARAN]
    assert result.outcome == "answered"


async def test_sapa_unknown_outlet_reaches_the_helpdesk(site: Site) -> None:
    result = await site.call("12345#", script=names.AGI_IVR_SAPA)
    assert result.queues == [names.QUEUE_SAPA_HELPDESK]
    assert names.VAR_OUTLET_CODE not in result.variables
    assert result.variables[names.VAR_IVR_PATH].endswith("outlet-pin=gave-up")


async def test_hangup_during_the_payment_is_recorded(site: Site) -> None:
    result = await site.call(f"{CONTRACT}#1", script=names.AGI_IVR_PAYMENT, hangup_during_ivr_at_s=9.0)
    assert result.outcome == "ivr_hangup"
    assert await site.store.payments_of_call("demo-jakarta", result.uniqueid) == []
    row = await site.store.call("demo-jakarta", result.uniqueid, names.AGI_IVR_PAYMENT)
    assert row is not None and row["outcome"] == "hangup"
