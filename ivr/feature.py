"""Wiring of the IVR feature into the core's services.

The external systems come from the configuration (``[core_system]``, ``[ticketing]``: a
section with an empty ``base_url`` means "not there", and the flows then route callers to
agents without them) or are handed in (tests, benchmarks, the demo's simulators). The store
holds the IVR's own tables (migration ``0003_ivr``); without it, payments are refused (at most
once cannot be promised) and SAPA cannot identify outlets, but every caller still reaches an agent.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from hotline.feature import CliCommand, Services
from hotline.logs import get_logger
from hotline.web import METRICS_KEY
from ivr.background import Background
from ivr.call import IvrDeps
from ivr.core_system.client import CoreSystemClient
from ivr.core_system.models import CoreSystemSettings
from ivr.flows import handlers
from ivr.outlets import OUTLETS_COMMAND
from ivr.payments import PaymentDesk
from ivr.ports import CoreSystem, Records, Ticketing
from ivr.records import IvrStore
from ivr.speech import MenuListener
from ivr.ticketing.client import TicketingClient
from ivr.ticketing.models import TicketingSettings

log = get_logger(__name__)

DRAIN_TIMEOUT_S = 15.0
"""At shutdown, time left to payments being settled and tickets being created."""


def _settings(section: Any, cls: type[Any]) -> Any:
    """``cls`` (a settings dataclass) from a config section with the same field names, or None."""
    if section is None or isinstance(section, cls):
        return section
    known = {f.name for f in dataclasses.fields(cls)}
    values = {name: getattr(section, name) for name in known if hasattr(section, name)}
    return cls(**values) if values.get("base_url") else None


class IvrFeature:
    name = "ivr"

    def __init__(
        self,
        *,
        core_system: CoreSystem | None = None,
        ticketing: Ticketing | None = None,
        records: Records | None = None,
    ) -> None:
        self._given = (core_system, ticketing, records)
        self._owned: list[CoreSystemClient | TicketingClient] = []
        self._own_store: IvrStore | None = None
        self._listener: MenuListener | None = None
        self.deps: IvrDeps | None = None

    def cli_commands(self) -> list[CliCommand]:
        return [OUTLETS_COMMAND]

    def setup(self, services: Services) -> None:
        core, ticketing, records = self._given
        self._owned = []
        if core is None:
            core_settings = _settings(getattr(services.config, "core_system", None), CoreSystemSettings)
            if core_settings is not None:
                client = CoreSystemClient(core_settings)
                self._owned.append(client)
                core = client
        if ticketing is None:
            ticket_settings = _settings(getattr(services.config, "ticketing", None), TicketingSettings)
            if ticket_settings is not None:
                ticket_client = TicketingClient(ticket_settings)
                self._owned.append(ticket_client)
                ticketing = ticket_client
        self._own_store = None
        if records is None and services.engine is not None:
            records = self._own_store = IvrStore.with_own_connection(services.engine)
        self._listener = MenuListener(services.config.speech)
        self.deps = IvrDeps(
            call_context=services.call_context,
            ami=services.ami,
            records=records,
            core_system=core,
            ticketing=ticketing,
            background=Background(),
            speech=self._listener,
        )
        for script, handler in handlers(self.deps).items():
            services.agi.add(script, handler)
        metrics = services.web.get(METRICS_KEY)
        if metrics is not None:
            background = self.deps.background
            metrics.gauge_func(
                "hotline_ivr_background_tasks",
                "IVR work still running after its call left",
                lambda: background.pending,
            )
            metrics.counter_func(
                "hotline_ivr_background_failures_total",
                "IVR background work that failed",
                lambda: background.failures,
            )
            if isinstance(records, IvrStore):
                writer = records.writer
                metrics.gauge_func(
                    "hotline_ivr_store_queue",
                    "IVR rows waiting for the store's writer",
                    lambda: writer.pending,
                )
                metrics.counter_func(
                    "hotline_ivr_store_failures_total",
                    "IVR rows (call records, payment outcomes) the store refused",
                    lambda: writer.failures,
                )
        log.info(
            "ivr ready",
            core_system=core is not None,
            ticketing=ticketing is not None,
            store=records is not None,
        )

    async def start(self) -> None:
        if self._listener is not None:
            await self._listener.start()  # logs why and stays off when speech cannot work
        deps = self.deps
        if deps is not None and deps.core_system is not None and deps.records is not None:
            # Payments a crash left without an outcome are settled in the background: the core
            # system may be slow or down, and hotline must take calls meanwhile.
            desk = PaymentDesk(deps.core_system, deps.records, deps.background)
            deps.background.spawn(desk.reconcile(), name="ivr-payment-reconcile")

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
        if self.deps is not None:
            await self.deps.background.drain(DRAIN_TIMEOUT_S)
            await self._flush(self.deps.records)
        if self._own_store is not None:
            await self._own_store.close()
            self._own_store = None
        for client in self._owned:
            await client.close()
        self._owned = []

    @staticmethod
    async def _flush(records: Records | None) -> None:
        """Call rows and payment outcomes still queued are written before the store closes."""
        if records is None:
            return
        try:
            await asyncio.wait_for(records.flush(), DRAIN_TIMEOUT_S)
        except Exception as exc:  # logged: the rows' loss must be visible, the shutdown goes on
            log.error("ivr store not flushed at shutdown", error=str(exc) or type(exc).__name__)


feature = IvrFeature()
