"""Live channels and bridges per PBX, so a command acts only on the agent's own call (no IO).

A client never names a channel: it names a call (its linkedid) at most. The
server finds the agent's *own* channel on that call (a live channel of the
agent's phone interface) and, for a transfer, the other party in the same
bridge. A call id that matches none of the agent's channels is refused, which is
what keeps one agent from hanging up or transferring another's call.

Fed by Newchannel, Hangup, BridgeEnter/BridgeLeave and, after a reconnect, the
CoreShowChannel items of the resync. Bounded: channels whose Hangup was lost are
forgotten oldest first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from cti.protocol import EventLike, interface_of_channel

MAX_CHANNELS: Final = 50_000
SUBSCRIBED: Final = ("Newchannel", "Hangup", "BridgeEnter", "BridgeLeave", "CoreShowChannel")


@dataclass
class LiveChannel:
    name: str
    uniqueid: str
    linkedid: str
    iface: str
    bridge: str | None = None


class ChannelTracker:
    def __init__(self, max_channels: int = MAX_CHANNELS) -> None:
        self._channels: OrderedDict[tuple[str, str], LiveChannel] = OrderedDict()
        self._max = max_channels

    def feed(self, pbx: str, event: EventLike) -> None:
        name = event.get("Channel")
        if not name:
            return
        key = (pbx, name)
        if event.name == "Hangup":
            self._channels.pop(key, None)
            return
        channel = self._channels.get(key)
        if channel is None:
            channel = LiveChannel(
                name, event.get("Uniqueid") or "", event.get("Linkedid") or "", interface_of_channel(name)
            )
            self._channels[key] = channel
            while len(self._channels) > self._max:
                self._channels.popitem(last=False)
        channel.linkedid = event.get("Linkedid") or channel.linkedid
        if event.name == "BridgeEnter":
            channel.bridge = event.get("BridgeUniqueid")
        elif event.name == "BridgeLeave":
            channel.bridge = None
        elif event.name == "CoreShowChannel":
            channel.bridge = event.get("BridgeId") or None

    def remember(self, pbx: str, name: str | None, uniqueid: str | None, linkedid: str | None) -> None:
        """A channel named by a queue event (AgentConnect's DestChannel) that may predate our subscription."""
        if name and (pbx, name) not in self._channels:
            self._channels[(pbx, name)] = LiveChannel(
                name, uniqueid or "", linkedid or "", interface_of_channel(name)
            )

    def of_iface(self, pbx: str, iface: str) -> list[LiveChannel]:
        return [c for (p, _), c in self._channels.items() if p == pbx and c.iface == iface]

    def own(self, pbx: str, iface: str, call_id: str | None) -> LiveChannel | None:
        """The agent's live channel on ``call_id`` (any call when None and the agent has exactly one)."""
        mine = self.of_iface(pbx, iface)
        if call_id is None:
            return mine[0] if len(mine) == 1 else None
        for channel in mine:
            if call_id in (channel.linkedid, channel.uniqueid):
                return channel
        return None

    def peer(self, pbx: str, own: LiveChannel) -> LiveChannel | None:
        """The other channel in ``own``'s bridge (the caller, on a queue call)."""
        if not own.bridge:
            return None
        for (p, _), channel in self._channels.items():
            if p == pbx and channel.bridge == own.bridge and channel.name != own.name:
                return channel
        return None

    def __len__(self) -> int:
        return len(self._channels)
