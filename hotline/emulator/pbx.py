"""The emulated PBX's shared state: clock, event bus, channels, devices, queues, logs.

Calls (``calls.py``), the FastAGI client and the AMI actions all act on one
:class:`PbxCore`; only :class:`~hotline.emulator.emulator.AsteriskEmulator` creates it.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hotline.emulator.bus import EventBus, Headers
from hotline.emulator.channels import Channel, ChannelRegistry, DeviceStates
from hotline.emulator.clock import EmulatedClock
from hotline.emulator.queue_log import QueueLog
from hotline.emulator.queues import QueueSet
from hotline.emulator.settings import EmulatorSettings

if TYPE_CHECKING:
    from hotline.emulator.calls import CallRunner

ASTERISK_VERSION = "22.10.1"


def cdr_time(instant: float) -> str:
    return dt.datetime.fromtimestamp(int(instant), tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


class PbxCore:
    def __init__(self, settings: EmulatorSettings) -> None:
        settings.validate()
        self.settings = settings
        self.clock = EmulatedClock(settings.start_epoch, settings.speed)
        self.bus = EventBus()
        self.channels = ChannelRegistry(settings.channelvars)
        self.devices = DeviceStates(self.bus)
        agents = {a.extension: a.name for a in settings.agents}
        self.queues = QueueSet(
            settings.queue_specs(),
            settings.status_order(),
            agents,
            self.bus,
            self.devices,
            login_time=int(settings.start_epoch),
        )
        self.queue_log = QueueLog(settings.queue_log_path)
        self.cdr_rows: deque[dict[str, str]] = deque(maxlen=200_000)
        self.calls: dict[str, CallRunner] = {}
        """Live calls by caller uniqueid (AMI Hangup/Redirect reach them through here)."""
        self.started_at = settings.start_epoch
        self.on_channel_gone: list[Callable[[Channel], None]] = []

    def now(self) -> float:
        return self.clock.now()

    def publish(self, name: str, body: Headers, instant: float) -> None:
        self.bus.publish(name, body, instant)

    def channel_event(
        self, name: str, channel: Channel, instant: float, extra: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.bus.publish(name, [*self.channels.block(channel), *extra], instant)

    def two_channel_event(
        self,
        name: str,
        channel: Channel,
        dest: Channel,
        instant: float,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        body = [*self.channels.block(channel), *self.channels.block(dest, "Dest"), *extra]
        self.bus.publish(name, body, instant)

    def set_variable(self, channel: Channel, name: str, value: str, instant: float) -> None:
        channel.variables[name] = value
        self.channel_event("VarSet", channel, instant, [("Variable", name), ("Value", value)])

    def refresh_device(self, device: str, instant: float) -> None:
        """Recompute an endpoint's state from its live channels; agents' changes reach app_queue too."""
        live = [c for c in self.channels.live() if c.device == device]
        idle = "UNAVAILABLE" if device == f"PJSIP/{self.settings.trunk}" else "NOT_INUSE"
        if self.devices.aggregate(device, live, idle, instant):
            self.queues.device_changed(device, instant)

    def hang_up_channel(self, channel: Channel, instant: float, cause: int) -> None:
        texts = {0: "Unknown", 16: "Normal Clearing", 17: "User busy", 21: "Call Rejected"}
        self.channel_event(
            "Hangup", channel, instant, [("Cause", str(cause)), ("Cause-txt", texts.get(cause, "Unknown"))]
        )
        self.channels.remove(channel)
        self.refresh_device(channel.device, instant)
        for callback in list(self.on_channel_gone):
            callback(channel)
