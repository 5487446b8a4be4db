"""The CTI's series on ``/metrics`` (read at scrape time, nothing counted twice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hotline.metrics import Registry

if TYPE_CHECKING:
    from cti.upstream import Upstream
    from cti.wiring import CtiFeature


def register_metrics(metrics: Registry, feature: CtiFeature) -> None:
    hub, stats = feature.hub, feature.hub.stats
    metrics.gauge_func("hotline_cti_connections", "CTI websockets authenticated and open", hub.count)
    metrics.gauge_func("hotline_cti_agents", "Agents with at least one CTI websocket", hub.agents)
    metrics.counter_func(
        "hotline_cti_messages_total", "CTI messages queued to clients", lambda: stats.delivered
    )
    metrics.counter_func(
        "hotline_cti_slow_clients_dropped_total",
        "CTI sockets dropped for not reading",
        lambda: stats.dropped_slow,
    )
    metrics.counter_func(
        "hotline_cti_auth_failures_total", "CTI websockets refused (4401/4403)", lambda: stats.auth_failures
    )
    metrics.counter_func(
        "hotline_cti_abusive_closed_total",
        "CTI sockets closed for bad messages",
        lambda: stats.abusive_closed,
    )
    metrics.counter_func(
        "hotline_cti_rate_limited_total", "CTI commands refused by the rate limit", lambda: stats.rate_limited
    )
    metrics.counter_func(
        "hotline_cti_replay_gaps_total",
        "Reconnects told that events were too old to replay",
        lambda: stats.gaps,
    )
    events = feature._events
    assert events is not None
    metrics.counter_func(
        "hotline_cti_events_dropped_total", "AMI events the CTI could not queue", lambda: events.dropped
    )
    enricher = feature.enricher
    if enricher is not None:
        metrics.counter_func(
            "hotline_cti_pop_updates_total",
            "call.updated messages (late screen-pop enrichment)",
            lambda: enricher.updates,
        )
        for lookup in (enricher.core, enricher.tickets):
            if lookup is None:
                continue
            upstream = lookup.upstream
            name = upstream.settings.name
            metrics.counter_func(
                f"hotline_cti_{name}_lookups_failed_total",
                f"Screen-pop lookups to {name} that failed (timeout, error, refused, circuit open)",
                _failures(upstream),
            )
    intervals = feature.intervals
    if intervals is not None:
        metrics.gauge_func(
            "hotline_cti_intervals_pending",
            "Agent state intervals waiting for the store",
            lambda: intervals.pending,
        )
    broker = feature.broker
    if broker is not None:
        metrics.counter_func(
            "hotline_cti_broker_published_total",
            "CTI messages sent to other instances",
            lambda: broker.published,
        )
        metrics.counter_func(
            "hotline_cti_broker_dropped_total",
            "CTI messages lost while the broker was down",
            lambda: broker.dropped,
        )


def _failures(upstream: Upstream) -> Callable[[], int]:
    return lambda: upstream.failed + upstream.refused
