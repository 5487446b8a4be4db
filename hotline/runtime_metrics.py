"""The /metrics series of a running hotline: AMI links, FastAGI, the event log, the projection.

Every series is a function read at scrape time from the Runtime's live objects, so nothing
has to be counted twice; the AGI server and the event log may not exist yet when the
functions are registered, hence each one checks and reads zero until they do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.compose import Runtime

AMI_LINK_STATES = ("connecting", "connected", "down", "auth_failed", "stopped")
"""Every state an AMI link reports (hotline.ami.client), one gauge series each."""


def register_metrics(runtime: Runtime) -> None:
    """Register the core's series on ``runtime.metrics`` (features register their own)."""
    _register_ami(runtime)
    _register_agi(runtime)
    _register_eventlog(runtime)
    m = runtime.metrics
    m.counter_func(
        "hotline_projection_errors_total",
        "Events the KPI projection could not use",
        lambda: float(runtime.projection_errors),
    )
    m.counter_func(
        "hotline_projection_dropped_total",
        "Attempts and agent spans the database refused for good, dropped (hotline rebuild restores them)",
        lambda: float(
            (runtime.rollups.dropped_attempts if runtime.rollups is not None else 0)
            + runtime.agent_sessions.dropped
        ),
    )
    m.counter_func(
        "hotline_dispatch_dropped_total",
        "Events dropped for slow live subscribers",
        lambda: float(runtime.dispatcher.dropped_total()),
    )


def _register_ami(runtime: Runtime) -> None:
    m = runtime.metrics
    clients = runtime.ami_clients

    def link_state() -> dict[tuple[str, str], float]:
        return {
            (name, state): 1.0 if c.status.state == state else 0.0
            for name, c in clients.items()
            for state in AMI_LINK_STATES
        }

    m.gauge_func(
        "hotline_ami_link_state",
        "1 for the current state of each PBX's AMI link",
        link_state,
        ("pbx", "state"),
    )
    m.counter_func(
        "hotline_ami_events_total",
        "AMI events received, by PBX",
        lambda: {name: float(c.status.events_received) for name, c in clients.items()},
        ("pbx",),
    )
    m.counter_func(
        "hotline_ami_reconnects_total",
        "AMI reconnections, by PBX",
        lambda: {name: float(c.status.reconnects) for name, c in clients.items()},
        ("pbx",),
    )


def _register_agi(runtime: Runtime) -> None:
    m = runtime.metrics

    def agi_stat(key: str) -> Callable[[], float]:
        def read() -> float:
            server = runtime.agi_server
            return float(getattr(server.stats, key, 0)) if server is not None else 0.0

        return read

    def errors_by_kind() -> dict[str, float]:
        server = runtime.agi_server
        if server is None:
            return {}
        return {k: float(v) for k, v in server.stats.errors_total.items()}

    m.gauge_func("hotline_agi_sessions_active", "FastAGI sessions in progress", agi_stat("sessions_active"))
    m.counter_func("hotline_agi_sessions_total", "FastAGI sessions accepted", agi_stat("sessions_total"))
    m.counter_func("hotline_agi_commands_total", "AGI commands sent", agi_stat("commands_total"))
    m.counter_func(
        "hotline_agi_hangups_total",
        "Callers who hung up during an AGI session",
        agi_stat("hangups_total"),
    )
    m.counter_func(
        "hotline_agi_errors_total",
        "AGI sessions that ended in an error, by kind",
        errors_by_kind,
        ("kind",),
    )


def _register_eventlog(runtime: Runtime) -> None:
    m = runtime.metrics

    def log_stat(key: str) -> Callable[[], float]:
        def read() -> float:
            eventlog = runtime.eventlog
            return float(eventlog.stats().get(key, 0)) if eventlog is not None else 0.0

        return read

    m.counter_func(
        "hotline_eventlog_written_total", "AMI events committed to the store", log_stat("written_total")
    )
    m.gauge_func("hotline_eventlog_backlog", "AMI events waiting to be committed", log_stat("backlog"))
    m.gauge_func(
        "hotline_eventlog_spooled",
        "AMI events spilled to disk while the database is down",
        log_stat("spooled"),
    )
    m.counter_func(
        "hotline_eventlog_write_errors_total",
        "Failed event-log writes (retried)",
        log_stat("write_errors_total"),
    )
