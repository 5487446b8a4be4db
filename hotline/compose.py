"""The composition root: the one place that builds the core services and wires the features.

Data flow (one PBX shown; there is one AMI client per ``[[pbx]]``)::

    Asterisk AMI --bytes--> AmiClient --PbxEvent--+--> EventLog (batched) --commit--> KPI projector
                                                  |                                  --> queue_attempt
                                                  +--> EventDispatcher --> features (CTI pops, ...)
    Asterisk AGI() --TCP--> AgiServer --route--> ivr handlers --> CallContext (memory + store)

Live subscribers (the CTI) see an event as soon as it is read; the store's projections are
updated only after the batch holding it is committed, so they can always be rebuilt from
the event log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from hotline.agi.server import AgiRouter, AgiServer
from hotline.ami.actions import ResyncSnapshot
from hotline.ami.client import AmiClient
from hotline.ami.dispatch import EventDispatcher, PbxEvent
from hotline.auth import web as auth_web
from hotline.callcontext import CallContext
from hotline.config import Config
from hotline.feature import Feature, Services
from hotline.gapfill import GapFiller
from hotline.kpi.definitions import summarize
from hotline.kpi.from_ami import AmiProjector
from hotline.logs import get_logger
from hotline.metrics import Registry
from hotline.reports import http as reports_http
from hotline.rollup.agent_time import refresh_forever
from hotline.rollup.agent_writer import AgentSessionWriter
from hotline.rollup.writer import RollupWriter
from hotline.runtime_health import health_checks
from hotline.runtime_metrics import register_metrics
from hotline.store import db as store_db
from hotline.store import repo
from hotline.store.eventlog import EventLog
from hotline.tokens import EXTRAS_KEY, TokenSigner
from hotline.wallboard import web as wallboard_web
from hotline.web import app as webapp

log = get_logger(__name__)

PROJECTION_MEMORY_S = 2 * 3600
"""How long the live projector remembers a call after its last event (no call lasts longer), and how
much of the event log it replays at start so calls in progress during a restart are completed."""
PRUNE_EVERY_S = 60.0


async def start_demo_simulators(cfg: Config) -> tuple[Config, list[Callable[[], Awaitable[Any]]]]:
    """For the demo: the core-system and ticketing simulators, unless real ones are configured.

    Returns the config pointing at them and the steps that stop them.
    """
    from ivr.core_system.simulator import CoreSystemSimulator
    from ivr.ticketing.simulator import TicketingSimulator

    stops: list[Callable[[], Awaitable[Any]]] = []
    if not cfg.core_system.base_url:
        core = CoreSystemSimulator()
        url = await core.start()
        stops.append(core.stop)
        cfg = dataclasses.replace(cfg, core_system=dataclasses.replace(cfg.core_system, base_url=url))
    if not cfg.ticketing.base_url:
        ticketing = TicketingSimulator()
        url = await ticketing.start()
        stops.append(ticketing.stop)
        cfg = dataclasses.replace(cfg, ticketing=dataclasses.replace(cfg.ticketing, base_url=url))
    return cfg, stops


def default_features() -> list[Feature]:
    """Every feature package shipped with hotline, in the order they are set up."""
    import cti
    import ivr
    import recording

    return [ivr.feature, cti.feature, recording.feature]


@dataclass
class Runtime:
    """Everything ``hotline serve`` runs, started and stopped as one."""

    config: Config
    features: Sequence[Feature] = field(default_factory=default_features)
    engine: Any = None
    eventlog: EventLog | None = None
    dispatcher: EventDispatcher = field(default_factory=EventDispatcher)
    projector: AmiProjector = field(default_factory=AmiProjector)
    rollups: RollupWriter | None = None
    agent_sessions: AgentSessionWriter = field(default_factory=AgentSessionWriter)
    call_context: CallContext | None = None
    agi_router: AgiRouter = field(default_factory=AgiRouter)
    agi_server: AgiServer | None = None
    ami_clients: dict[str, AmiClient] = field(default_factory=dict)
    metrics: Registry = field(default_factory=Registry)
    app: web.Application | None = None
    runner: web.AppRunner | None = None
    agi_port: int = 0
    http_port: int = 0
    projection_errors: int = 0
    signer: TokenSigner | None = None
    last_resync: dict[str, dict[str, Any]] = field(default_factory=dict)
    gapfill: GapFiller | None = None
    """Completes calls that ended while an AMI link was down (hotline.gapfill)."""
    _started: bool = False
    _pruner: asyncio.Task[None] | None = None
    _gap_retries: asyncio.Task[None] | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by :meth:`stop`: the periodic jobs end after the run in progress."""
    _agent_time: asyncio.Task[None] | None = None
    """Keeps the agent time rollup current (hotline.rollup.agent_time)."""
    on_stop: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    """Extra shutdown steps run last (the demo's simulators)."""

    # -- building ---------------------------------------------------------------------------------

    async def open_store(self) -> None:
        self.engine = store_db.create_engine(self.config.store.url)
        await store_db.migrate(self.engine)
        self.eventlog = EventLog(
            self.engine,
            session=f"{int(time.time())}-{secrets.token_hex(4)}",
            batch_size=self.config.store.batch_size,
            flush_interval=self.config.store.flush_interval,
            spool_dir=Path(self.config.store.spool_dir),
        )
        if self.rollups is None:
            self.rollups = RollupWriter.from_config(self.config.kpi)
        self.eventlog.add_listener(self._project)

    async def warm_up_projector(self) -> int:
        """Replay the recent event log into the projector (without writing), so a restart mid-call
        still completes that call's attempt instead of leaving it half-known."""
        from hotline.store.events import iter_events

        count = 0
        async for stored in iter_events(self.engine, since=time.time() - PROJECTION_MEMORY_S):
            try:
                self.projector.feed(stored.pbx, stored)
            except Exception as exc:  # same rule as live projection: one odd event is skipped
                self.projection_errors += 1
                _log_projection_error(stored, exc)
            count += 1
        if count:
            log.info("projector warmed up from the event log", events=count)
        return count

    async def _prune_forever(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_EVERY_S)
            dropped = self.projector.prune(time.time() - PROJECTION_MEMORY_S)
            if dropped:
                log.debug("projector forgot finished calls", calls=dropped)

    def _feed(self, stored: Any) -> list[Any]:
        try:
            return self.projector.feed(stored.pbx, stored)
        except Exception as exc:  # one odd event must not stop the projection of the rest
            self.projection_errors += 1
            _log_projection_error(stored, exc)
            return []

    async def _project(self, batch: list[Any]) -> None:
        """Update the KPI projection from a committed batch (the log stays the source of truth)."""
        changed: dict[tuple[str, str, int], Any] = {}
        for stored in batch:
            for attempt in self._feed(stored):
                changed[(attempt.pbx, attempt.call_id, attempt.attempt)] = attempt
        # Agent logins, pauses and calls from the same batch (hotline.rollup.agent_writer) ...
        try:
            await self.agent_sessions.stage(self.engine, batch, changed.values())
        except Exception:  # kept by the writer for the next batch; the attempts must go on
            log.exception("agent sessions not staged; kept for the next batch")
        # ... written with the attempts and the KPI rollups that sum them: one transaction, one
        # commit per batch (hotline.rollup.writer); a failed one is kept for the next batch.
        assert self.rollups is not None
        await self.rollups.apply(self.engine, changed.values(), also=self.agent_sessions)

    def _on_ami_event(self, item: PbxEvent) -> None:
        # Durable first (append is synchronous and never blocks), then the live fan-out.
        assert self.eventlog is not None
        self.eventlog.append(item)
        self.dispatcher.publish(item)

    async def _on_resync(self, snapshot: ResyncSnapshot) -> None:
        """After every (re)connect: what Asterisk says is live now.

        The list events themselves went through ``_on_ami_event`` like any other event (so the
        event log has them and live subscribers such as the CTI see QueueMember states); this
        keeps a summary for /health and the log, so an operator sees what the link came back to,
        then completes the calls that ended while the link was down (hotline.gapfill).
        """
        summary = {
            "connection": snapshot.connection,
            "at": snapshot.at,
            "channels": len(snapshot.channels),
            "queues": len(snapshot.queue_params),
            "members": len(snapshot.queue_members),
            "waiting": len(snapshot.queue_entries),
        }
        self.last_resync[snapshot.pbx] = summary
        log.info("AMI resynchronised", pbx=snapshot.pbx, **summary)
        if self.gapfill is not None:
            await self.gapfill.resync(snapshot)

    def build(self) -> None:
        cfg = self.config
        assert self.engine is not None
        engine = self.engine

        async def persist(items: list[tuple[str, str, dict[str, str], str | None]]) -> None:
            await repo.set_call_contexts(engine, items)

        async def load(pbx: str, uniqueid: str) -> dict[str, str]:
            return await repo.get_call_context(engine, pbx, uniqueid)

        self.call_context = CallContext(persist=persist, load=load)
        assert self.eventlog is not None
        self.gapfill = GapFiller(cfg.pbx, self.projector, self.eventlog, engine=self.engine)
        peers = agi_peers(cfg)
        self.agi_server = AgiServer(
            self.agi_router,
            host=cfg.agi.host,
            port=cfg.agi.port,
            command_timeout=cfg.agi.command_timeout,
            pbx_for_peer=lambda ip: peers.get(ip, cfg.pbx[0].name if len(cfg.pbx) == 1 else "unknown"),
        )
        for pbx in cfg.pbx:
            self.ami_clients[pbx.name] = AmiClient(
                pbx, on_event=self._on_ami_event, on_resync=self._on_resync
            )
        self.signer = TokenSigner.from_config(cfg)
        self.app = webapp.create_app(
            config=cfg, health_checks=health_checks(self), metrics=self.metrics, openapi_fragments=[]
        )
        # Login and require() use the one signer every feature gets, so all tokens verify alike.
        auth_web.setup(self.app, engine, self.signer)
        assert self.rollups is not None
        # KPIs and reports over HTTP, and the floor's wallboard: both need a login token (hotline.auth).
        reports_http.setup(self.app, config=cfg, engine=engine)
        wallboard_web.setup(
            self.app, config=cfg, dispatcher=self.dispatcher, rollups=self.rollups, engine=engine
        )
        register_metrics(self)
        self.gapfill.register_metrics(self.metrics)
        services = Services(
            config=cfg,
            events=self.dispatcher,
            ami=self.ami_clients,
            agi=self.agi_router,
            web=self.app,
            call_context=self.call_context,
            engine=self.engine,
            extras={"metrics": self.metrics, EXTRAS_KEY: self.signer},
        )
        for feature in self.features:
            feature.setup(services)

    # -- running ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, wire everything, then start it; a failure half way stops what had started."""
        await self.open_store()
        try:
            self.build()
        except BaseException:
            await self.engine.dispose()
            raise
        try:
            await self._start_services()
        except BaseException:
            # A port already in use, say: stop what did start, so no socket stays open and no event
            # already read from a PBX is lost (it is flushed); then report the first failure.
            try:
                await self.stop()
            except Exception as exc:
                log.error("stopping after a failed start failed too", error=f"{type(exc).__name__}: {exc}")
            raise

    async def _start_services(self) -> None:
        assert self.eventlog is not None and self.agi_server is not None and self.app is not None
        await self.warm_up_projector()
        self._stopping.clear()
        await self.eventlog.start()
        await self.dispatcher.start()
        self._pruner = asyncio.create_task(self._prune_forever(), name="projector-prune")
        if self.gapfill is not None:
            self.gapfill.reopen()
            self._gap_retries = asyncio.create_task(
                self.gapfill.run_retries(self._stopping), name="gap-retries"
            )
        refreshed = self.metrics.counter(
            "hotline_agent_time_refreshed_total", "Agents whose time rollup was recomputed after a change"
        )
        self._agent_time = asyncio.create_task(
            refresh_forever(self.engine, on_refresh=refreshed.inc, stopping=self._stopping),
            name="agent-time-rollup",
        )
        self.agi_port = await self.agi_server.start()
        for feature in self.features:
            await feature.start()
        for client in self.ami_clients.values():
            await client.start()
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.config.http.host, self.config.http.port)
        await site.start()
        self.http_port = _bound_port(site)
        self._started = True
        log.info(
            "hotline running",
            http=f"{self.config.http.host}:{self.http_port}",
            agi=f"{self.config.agi.host}:{self.agi_port}",
            pbx=[p.name for p in self.config.pbx],
        )

    async def stop(self) -> None:
        """Stop in reverse: no new calls, features, links, then flush the store last (nothing lost)."""
        # The jobs that use the store finish the run in progress (hotline.periodic); the pruner
        # only touches memory and is cancelled.
        self._stopping.set()
        if self._pruner is not None:
            self._pruner.cancel()
        for task in (self._pruner, self._gap_retries, self._agent_time):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        if self.runner is not None:
            await self.runner.cleanup()
        if self.agi_server is not None:
            await self.agi_server.stop()
        if self.gapfill is not None:
            await self.gapfill.close()  # a resync in progress reads the store: let it finish first
        for client in self.ami_clients.values():
            await client.stop()
        for feature in reversed(self.features):
            await feature.stop()
        await self.dispatcher.stop()
        if self.call_context is not None:
            await self.call_context.drain()
        if self.eventlog is not None:
            await self.eventlog.stop()
        if self.engine is not None:
            await self.engine.dispose()
        for step in reversed(self.on_stop):
            await step()
        self._started = False

    def live_kpis(self) -> dict[str, Any]:
        """KPIs over what this process has projected so far (for the demo's running log)."""
        cfg = self.config.kpi
        summary = summarize(
            self.projector.attempts(),
            service_level_s=cfg.service_level_seconds,
            short_abandon_s=cfg.short_abandon_seconds,
        )
        return summary.as_dict()


def agi_peers(cfg: Config) -> dict[str, str]:
    """Which PBX a FastAGI connection comes from, by the peer's address (its ``ami_host``).

    Two PBXs on one address cannot be told apart this way: rather than give one's calls the
    other's name (the screen-pop would then miss what the IVR learned), their calls are
    ``unknown`` unless the dialplan names the PBX (``agi://host/ivr/main?pbx=<name>``).
    """
    names_by_host: dict[str, list[str]] = {}
    for pbx in cfg.pbx:
        names_by_host.setdefault(pbx.ami_host, []).append(pbx.name)
    for host, names in names_by_host.items():
        if len(names) > 1:
            log.warning(
                "several [[pbx]] share one ami_host: their FastAGI calls need ?pbx=<name> in the AGI URL",
                ami_host=host,
                pbx_names=names,
            )
    return {host: names[0] for host, names in names_by_host.items() if len(names) == 1}


def _log_projection_error(stored: Any, exc: Exception) -> None:
    """One line naming the event's PBX and call, like every other line about a call."""
    log.error(
        "projection failed for an event",
        pbx=stored.pbx,
        uniqueid=stored.uniqueid,
        linkedid=stored.linkedid,
        ami_event=stored.name,
        error=f"{type(exc).__name__}: {exc}",
    )


def _bound_port(site: web.TCPSite) -> int:
    server = site._server  # aiohttp keeps the asyncio server here; the public API has no port accessor
    sockets = getattr(server, "sockets", None) or []
    return int(sockets[0].getsockname()[1]) if sockets else 0


async def run_until_stopped(runtime: Runtime, stop: asyncio.Event) -> None:
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
