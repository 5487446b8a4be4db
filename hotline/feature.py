"""What a feature package receives from the core, and what it gives back.

A feature (``ivr``, ``cti``, ``recording``) exposes ``feature: Feature``. The
composition root (:mod:`hotline.compose`) builds one :class:`Services` and calls
``setup`` on every feature, then ``start``/``stop`` around the service's life.
Features meet only through these services (AMI events, the store, the call
context), never by importing each other.

The service types are Protocols so a feature depends on behaviour, not on the
concrete client or server classes (and tests can hand in small fakes).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from hotline.config import Config


class ActionResultLike(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def message(self) -> str: ...


class AmiActions(Protocol):
    """Send an AMI action to one PBX and await its (complete) result."""

    async def send_action(
        self,
        action: str,
        fields: Mapping[str, str | int | bool] | Iterable[tuple[str, str | int | bool]] = (),
        timeout: float | None = None,
    ) -> Any: ...


class EventSource(Protocol):
    """Subscribe to AMI events (``hotline.ami.dispatch.PbxEvent``) of every PBX by event name or '*'."""

    def subscribe(
        self,
        event_name: str,
        callback: Callable[[Any], Awaitable[None] | None],
        *,
        name: str,
        maxsize: int = ...,
    ) -> Any: ...


class AgiRoutes(Protocol):
    def add(self, script: str, handler: Callable[[Any], Awaitable[None]]) -> None: ...


class CallContextStore(Protocol):
    """What the IVR learned about a call (menu choice, path, verification), keyed by PBX and uniqueid."""

    async def set(
        self, pbx: str, uniqueid: str, values: Mapping[str, str], linkedid: str | None = None
    ) -> None: ...
    async def get(self, pbx: str, uniqueid: str) -> dict[str, str]: ...


@dataclass
class Services:
    config: Config
    events: EventSource
    ami: Mapping[str, AmiActions]
    agi: AgiRoutes
    web: web.Application
    call_context: CallContextStore
    engine: Any = None
    """The store's SQLAlchemy AsyncEngine."""
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CliCommand:
    """A ``hotline <name>`` subcommand a feature contributes (e.g. ``hotline outlets``).

    ``run(config, args)`` returns the exit code (it may be a coroutine function). Errors a
    user can cause are raised as :class:`hotline.config.ConfigError` (printed as one line).
    """

    name: str
    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Config, argparse.Namespace], Any]


class Feature(Protocol):
    name: str

    def cli_commands(self) -> list[CliCommand]:
        """Subcommands this feature adds to ``hotline`` (an empty list for none)."""

    def setup(self, services: Services) -> None:
        """Register AGI routes, web routes and AMI subscriptions. Must not block or do IO."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
