"""Channels, their AMI snapshot blocks, and device states.

Names and ids follow Asterisk: a global uniqueid counter (``<epoch>.<n>``, n from 0)
and a per-technology name counter in hex (``PJSIP/provider-0000000a``). The channel
block is the 14-line snapshot most events start with; ``Dest``/``Transferer``/...
prefixes name the other party.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from hotline.emulator.bus import EventBus, Headers

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}
UNKNOWN = "<unknown>"


@dataclass
class Channel:
    """The parts of an ``ast_channel_snapshot`` that AMI shows."""

    name: str
    uniqueid: str
    linkedid: str
    caller_num: str
    caller_name: str
    context: str
    exten: str
    created_at: float
    state: int = 4
    priority: int = 1
    connected_num: str = UNKNOWN
    connected_name: str = UNKNOWN
    language: str = "en"
    account_code: str = ""
    application: str = ""
    app_data: str = ""
    answered_at: float | None = None
    bridge_id: str = ""
    on_hold: bool = False
    hung_up: bool = False
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def device(self) -> str:
        """``PJSIP/1001-00000001`` -> ``PJSIP/1001`` (the endpoint's device state name)."""
        return self.name.rsplit("-", 1)[0]


class ChannelRegistry:
    """Allocates uniqueids and names; knows the live channels (CoreShowChannels, Hangup, Redirect)."""

    def __init__(self, channelvars: tuple[str, ...] = ()) -> None:
        self._next_uniqueid = 0
        self._next_name: dict[str, int] = {}
        self._live: dict[str, Channel] = {}
        self.channelvars = channelvars

    def new_uniqueid(self, instant: float) -> str:
        n = self._next_uniqueid
        self._next_uniqueid += 1
        return f"{int(instant)}.{n}"

    def new_name(self, tech_resource: str) -> str:
        tech = tech_resource.split("/", 1)[0]
        n = self._next_name.get(tech, 0)
        self._next_name[tech] = n + 1
        return f"{tech_resource}-{n:08x}"

    def create(
        self,
        tech_resource: str,
        instant: float,
        *,
        caller_num: str,
        caller_name: str,
        context: str,
        exten: str,
        state: int,
        linkedid: str | None = None,
    ) -> Channel:
        uniqueid = self.new_uniqueid(instant)
        channel = Channel(
            name=self.new_name(tech_resource),
            uniqueid=uniqueid,
            linkedid=linkedid or uniqueid,
            caller_num=caller_num,
            caller_name=caller_name,
            context=context,
            exten=exten,
            created_at=instant,
            state=state,
        )
        self._live[channel.name] = channel
        return channel

    def remove(self, channel: Channel) -> None:
        channel.hung_up = True
        self._live.pop(channel.name, None)

    def find(self, name: str) -> Channel | None:
        return self._live.get(name)

    def live(self) -> Iterator[Channel]:
        return iter(list(self._live.values()))

    def block(self, ch: Channel, prefix: str = "") -> Headers:
        """The channel snapshot lines, with ``ChanVariable`` lines for manager.conf channelvars."""
        headers: Headers = [
            (f"{prefix}Channel", ch.name),
            (f"{prefix}ChannelState", str(ch.state)),
            (f"{prefix}ChannelStateDesc", STATE_DESC.get(ch.state, "Unknown")),
            (f"{prefix}CallerIDNum", ch.caller_num),
            (f"{prefix}CallerIDName", ch.caller_name),
            (f"{prefix}ConnectedLineNum", ch.connected_num),
            (f"{prefix}ConnectedLineName", ch.connected_name),
            (f"{prefix}Language", ch.language),
            (f"{prefix}AccountCode", ch.account_code),
            (f"{prefix}Context", ch.context),
            (f"{prefix}Exten", ch.exten),
            (f"{prefix}Priority", str(ch.priority)),
            (f"{prefix}Uniqueid", ch.uniqueid),
            (f"{prefix}Linkedid", ch.linkedid),
        ]
        for var in self.channelvars:
            if var in ch.variables:
                headers.append((f"{prefix}ChanVariable", f"{var}={ch.variables[var]}"))
        return headers


class DeviceStates:
    """Device state cache: publishes DeviceStateChange only when a device's state really changes."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._states: dict[str, str] = {}

    def get(self, device: str, default: str = "NOT_INUSE") -> str:
        return self._states.get(device, default)

    def set(self, device: str, state: str, instant: float) -> bool:
        """Record a state; True (and a DeviceStateChange event) if it changed."""
        if self._states.get(device) == state:
            return False
        self._states[device] = state
        self._bus.publish("DeviceStateChange", [("Device", device), ("State", state)], instant)
        return True

    def aggregate(self, device: str, channels: list[Channel], idle: str, instant: float) -> bool:
        """Endpoint state from its channels (ast_devstate_aggregate, reduced to what calls here do)."""
        if not channels:
            return self.set(device, idle, instant)
        if any(c.state == 5 for c in channels):
            return self.set(device, "RINGING", instant)
        if all(c.on_hold for c in channels):
            return self.set(device, "ONHOLD", instant)
        return self.set(device, "INUSE", instant)
