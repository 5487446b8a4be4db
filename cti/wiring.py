"""The CTI feature: wiring of the websocket, the console, the AMI subscriptions, the broker, the metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from aiohttp import web

from cti import protocol
from cti.broker import Broker, MemoryBus, transport_for
from cti.commands import Commands, CommandSettings
from cti.connection import AgentConnection
from cti.directory import Directory, PhoneOwner
from cti.enrich import PopEnricher
from cti.enrich_call import EnrichSettings
from cti.events import SUBSCRIBED, CallEvents
from cti.hub import AgentHub
from cti.lookups import core_system_lookup, ticket_lookup
from cti.metrics import register_metrics
from cti.openapi import FRAGMENT
from cti.replay import Streams
from cti.state_events import StateEvents
from cti.store import IntervalWriter
from cti.websocket import WsSettings, make_handler
from hotline import names
from hotline.config import Config
from hotline.feature import CliCommand, Services
from hotline.logs import get_logger
from hotline.tokens import EXTRAS_KEY, TokenSigner, issue_agent_token
from hotline.web import METRICS_KEY, add_openapi

log = get_logger(__name__)

WS_PATH: Final = "/cti/ws"
CONSOLE_PATH: Final = "/agent"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"


class CtiFeature:
    """Screen-pop, agent state and call control over ``GET /cti/ws``; the agent console at ``/agent``."""

    name = "cti"

    def __init__(
        self,
        settings: WsSettings | None = None,
        *,
        bus: MemoryBus | None = None,
        enrich: EnrichSettings | None = None,
    ) -> None:
        self.settings = settings or WsSettings()
        self.enrich_settings = enrich or EnrichSettings()
        self.enricher: PopEnricher | None = None
        self.hub = AgentHub()
        self.signer: TokenSigner | None = None
        self.directory = Directory()
        self.intervals: IntervalWriter | None = None
        self.state: StateEvents | None = None
        self.commands: Commands | None = None
        self.broker: Broker | None = None
        self._bus = bus
        """A shared in-process bus (tests with two instances in one process)."""
        self._events: CallEvents | None = None

    def cli_commands(self) -> list[CliCommand]:
        return []

    def setup(self, services: Services) -> None:
        cfg = services.config.cti
        # One signer per process: the composition root may share its own (services.extras), so the
        # tokens it prints (demo) and the login's tokens verify here even with a random per-process key.
        shared = services.extras.get(EXTRAS_KEY)
        self.signer = shared if isinstance(shared, TokenSigner) else TokenSigner.from_config(services.config)
        self.hub = AgentHub(streams=Streams(cfg.replay_size))
        self.directory = Directory(services.engine)
        self.intervals = IntervalWriter(services.engine, agent_of=self.directory.agent_of)
        self.state = StateEvents(
            self.hub,
            self.directory,
            wrapup_s=cfg.wrapup_s,
            wrapup_pause=cfg.wrapup_pause,
            intervals=self.intervals,
            ami=services.ami,
        )
        self.enricher = _enricher(self.hub, services, self.enrich_settings)
        self._events = CallEvents(self.hub, services.call_context, state=self.state, enricher=self.enricher)
        self.commands = Commands(
            self.state, services.ami, _command_settings(services.config), **_store(services)
        )
        self._setup_broker(cfg.broker)
        for event_name in SUBSCRIBED:
            services.events.subscribe(event_name, self._events.accept, name=f"cti.{event_name}")
        handler = make_handler(
            self.hub,
            self.signer,
            self.settings,
            self.commands,
            hello_extra=self._hello_extra(services.config),
            on_connect=self._learn,
        )
        services.web.router.add_get(WS_PATH, handler, name="cti.ws", allow_head=False)
        services.web.router.add_get(CONSOLE_PATH, _console, name="cti.console", allow_head=False)
        services.web.router.add_get(
            f"{CONSOLE_PATH}/static/{{name}}", _asset, name="cti.static", allow_head=False
        )
        add_openapi(services.web, FRAGMENT)
        metrics = services.web.get(METRICS_KEY)
        if metrics is not None:
            register_metrics(metrics, self)

    def _setup_broker(self, url: str) -> None:
        if url.strip().lower() == "memory" and self._bus is None:
            return  # one instance: nobody to fan out to
        self.broker = Broker(transport_for(url, self._bus), self.hub.deliver_remote)
        self.hub.publisher = self.broker.publish

    def _learn(self, conn: AgentConnection) -> None:
        principal = conn.principal
        if conn.iface is None:
            return
        known = self.directory.owner(principal.pbx or "", conn.iface)
        # A token without a team (hotline cti-token) must not hide a team the users table knows.
        if principal.team is not None or known is None:
            self.directory.learn(conn.iface, PhoneOwner(conn.agent, principal.team, principal.pbx))

    @staticmethod
    def _hello_extra(config: Config) -> Any:
        cfg = config.cti
        constant = {
            "pause_reasons": list(cfg.pause_reasons),
            "dispositions": list(cfg.dispositions),
            "queues": list(names.ALL_QUEUES),
            "transfer_queues": sorted(names.QUEUE_TRANSFER_EXTENSIONS),
        }
        return lambda conn: constant

    async def start(self) -> None:
        if self._events is None:
            raise RuntimeError("cti: start() before setup()")
        if self.signer is not None and self.signer.ephemeral:
            log.warning("cti token_secret is empty: tokens use a per-process key and die with a restart")
        await self.directory.refresh()
        self.directory.start()
        if self.intervals is not None:
            self.intervals.start()
        if self.broker is not None:
            await self.broker.start()
        self._events.start()

    async def stop(self) -> None:
        if self._events is not None:
            await self._events.stop()
        if self.enricher is not None:
            await self.enricher.stop()
        if self.state is not None:
            self.state.stop()
        await self.hub.close_all(protocol.CLOSE_GOING_AWAY, "server shutdown")
        if self.broker is not None:
            await self.broker.stop()
        await self.directory.stop()
        if self.intervals is not None:
            await self.intervals.stop()

    def issue_token(self, agent: str, iface: str, *, ttl: float | None = None, pbx: str | None = None) -> str:
        """A token for one agent's screen (the demo prints these); verified by this feature's signer."""
        if self.signer is None:
            raise RuntimeError("cti: issue_token() before setup()")
        return issue_agent_token(self.signer, agent, iface, ttl=ttl, pbx=pbx)


def _command_settings(config: Config) -> CommandSettings:
    cfg = config.cti
    return CommandSettings(
        pause_reasons=cfg.pause_reasons,
        dispositions=cfg.dispositions,
        transfer_context=cfg.transfer_context,
    )


def _enricher(hub: AgentHub, services: Services, settings: EnrichSettings) -> PopEnricher:
    """The pop's enrichment: the store's history, and the core and ticketing systems when configured."""
    config = services.config
    guards = (settings.max_in_flight, settings.max_waiting, settings.cache_s, settings.lookup_timeout_s)
    return PopEnricher(
        hub,
        engine=services.engine,
        core=core_system_lookup(config.core_system, *guards),
        tickets=ticket_lookup(config.ticketing, *guards),
        sites={pbx.name: pbx.site for pbx in config.pbx},
        settings=settings,
    )


def _store(services: Services) -> dict[str, Any]:
    if services.engine is None:
        return {}
    from hotline.auth.auditlog import audit

    return {"engine": services.engine, "audit": audit}


ASSETS: Final = frozenset({"app.js", "app.css"})
"""The console's files (a fixed list: no path from a URL ever reaches the file system)."""


async def _console(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound(text=f"no console file {name[:40]!r}")
    return web.FileResponse(STATIC_DIR / name, headers={"Cache-Control": "no-cache"})


feature = CtiFeature()
