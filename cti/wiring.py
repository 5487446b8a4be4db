"""The CTI feature: wiring of the websocket, the AMI subscriptions and the metrics."""

from __future__ import annotations

from typing import Final

from cti import protocol
from cti.events import SUBSCRIBED, CallEvents
from cti.hub import AgentHub
from cti.openapi import FRAGMENT
from cti.websocket import WsSettings, make_handler
from hotline.feature import CliCommand, Services
from hotline.logs import get_logger
from hotline.metrics import Registry
from hotline.tokens import EXTRAS_KEY, TokenSigner, issue_agent_token
from hotline.web import METRICS_KEY, add_openapi

log = get_logger(__name__)

WS_PATH: Final = "/cti/ws"


class CtiFeature:
    """Screen-pop and call events for agents over ``GET /cti/ws``."""

    name = "cti"

    def __init__(self, settings: WsSettings | None = None) -> None:
        self.settings = settings or WsSettings()
        self.hub = AgentHub()
        self.signer: TokenSigner | None = None
        self._events: CallEvents | None = None

    def cli_commands(self) -> list[CliCommand]:
        return []

    def setup(self, services: Services) -> None:
        # One signer per process: the composition root may share its own (services.extras), so the
        # tokens it prints (demo) verify here even with a random per-process key.
        shared = services.extras.get(EXTRAS_KEY)
        self.signer = shared if isinstance(shared, TokenSigner) else TokenSigner.from_config(services.config)
        self._events = CallEvents(self.hub, services.call_context)
        for event_name in SUBSCRIBED:
            services.events.subscribe(event_name, self._events.accept, name=f"cti.{event_name}")
        handler = make_handler(self.hub, self.signer, self.settings)
        services.web.router.add_get(WS_PATH, handler, name="cti.ws", allow_head=False)
        add_openapi(services.web, FRAGMENT)
        metrics = services.web.get(METRICS_KEY)
        if metrics is not None:
            self._register_metrics(metrics)

    def _register_metrics(self, metrics: Registry) -> None:
        hub, stats = self.hub, self.hub.stats
        metrics.gauge_func("hotline_cti_connections", "CTI websockets authenticated and open", hub.count)
        metrics.gauge_func("hotline_cti_agents", "Agents with at least one CTI websocket", hub.agents)
        metrics.counter_func(
            "hotline_cti_messages_total", "CTI messages queued to agents", lambda: stats.delivered
        )
        metrics.counter_func(
            "hotline_cti_slow_clients_dropped_total",
            "CTI sockets dropped for not reading",
            lambda: stats.dropped_slow,
        )
        metrics.counter_func(
            "hotline_cti_auth_failures_total",
            "CTI websockets refused (4401/4403)",
            lambda: stats.auth_failures,
        )
        metrics.counter_func(
            "hotline_cti_abusive_closed_total",
            "CTI sockets closed for bad messages",
            lambda: stats.abusive_closed,
        )
        events = self._events
        assert events is not None
        metrics.counter_func(
            "hotline_cti_events_dropped_total", "AMI events the CTI could not queue", lambda: events.dropped
        )

    async def start(self) -> None:
        if self._events is None:
            raise RuntimeError("cti: start() before setup()")
        if self.signer is not None and self.signer.ephemeral:
            log.warning("cti token_secret is empty: tokens use a per-process key and die with a restart")
        self._events.start()

    async def stop(self) -> None:
        if self._events is not None:
            await self._events.stop()
        await self.hub.close_all(protocol.CLOSE_GOING_AWAY, "server shutdown")

    def issue_token(self, agent: str, iface: str, *, ttl: float | None = None, pbx: str | None = None) -> str:
        """A token for one agent's screen (the demo prints these); verified by this feature's signer."""
        if self.signer is None:
            raise RuntimeError("cti: issue_token() before setup()")
        return issue_agent_token(self.signer, agent, iface, ttl=ttl, pbx=pbx)


feature = CtiFeature()
