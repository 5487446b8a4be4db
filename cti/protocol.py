"""The CTI wire protocol, version "1" (docs/cti-protocol.md), without IO.

Server messages are built here from AMI queue events; client messages are
parsed here. Nothing in this module touches a socket, so the whole protocol is
tested with plain values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from cti.masking import ivr_block

PROTOCOL_VERSION: Final = "1"
WIRE_VERSION: Final = 1
"""The ``v`` field of every server message."""

MAX_CLIENT_MESSAGE_BYTES: Final = 64 * 1024

CLOSE_GOING_AWAY: Final = 1001
CLOSE_ABUSE: Final = 4400
"""Too many malformed, oversized or unknown messages."""
CLOSE_UNAUTHORIZED: Final = 4401
"""No token, a forged or malformed token, an expired token, or no auth message in time."""
CLOSE_FORBIDDEN: Final = 4403
"""A genuine token that does not allow the CTI (unknown role, or an agent token without an iface)."""
CLOSE_SLOW_CONSUMER: Final = 4429
"""The client did not read its messages; its send queue overflowed."""

WATCHER_ROLES: Final = frozenset({"team_leader", "qc", "qa", "admin"})
"""Roles that watch agents (a team leader: their team; the others: every agent)."""
ALLOWED_ROLES: Final = frozenset({"agent"}) | WATCHER_ROLES

_UNKNOWN: Final = frozenset({"", "<unknown>"})


class EventLike(Protocol):
    """What is read from an AMI event (``hotline.ami.protocol.Event``)."""

    @property
    def name(self) -> str: ...
    def get(self, key: str, default: str | None = None) -> str | None: ...
    def get_all(self, key: str) -> list[str]: ...


class PbxEventLike(Protocol):
    """``hotline.ami.dispatch.PbxEvent``: an AMI event and the PBX it came from."""

    @property
    def pbx(self) -> str: ...
    @property
    def event(self) -> EventLike: ...


def normalize_iface(iface: str) -> str:
    """``pjsip/1001`` -> ``PJSIP/1001``: Asterisk's technology names ignore case, endpoint names do not."""
    tech, sep, rest = iface.strip().partition("/")
    return f"{tech.upper()}{sep}{rest}" if sep else iface.strip()


def interface_of_channel(channel: str) -> str:
    """``PJSIP/1001-0000001a`` -> ``PJSIP/1001`` (the phone a channel belongs to)."""
    base, sep, suffix = channel.strip().rpartition("-")
    if sep and suffix and all(c in "0123456789abcdef" for c in suffix.split(";")[0]):
        return normalize_iface(base)
    return normalize_iface(channel)


def known(value: str | None) -> str | None:
    """Asterisk writes ``<unknown>`` (or nothing) where it has no value; JSON says null."""
    return None if value is None or value.strip() in _UNKNOWN else value


def event_time(event: EventLike) -> float | None:
    """The ``Timestamp`` header (``timestampevents=yes``), epoch seconds; None when absent or unreadable."""
    raw = event.get("Timestamp")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def channel_variables(event: EventLike) -> dict[str, str]:
    """``ChanVariable: NAME=value`` lines of the caller's channel (manager.conf ``channelvars``)."""
    out: dict[str, str] = {}
    for line in event.get_all("ChanVariable"):
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value
    return out


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _call_fields(pbx: str, event: EventLike, ts: float) -> dict[str, Any]:
    return {
        "ts": iso(ts),
        "call_id": event.get("Linkedid") or event.get("Uniqueid"),
        "uniqueid": event.get("Uniqueid"),
        "pbx": pbx,
        "queue": event.get("Queue"),
    }


def ringing(
    pbx: str,
    event: EventLike,
    ts: float,
    context: Mapping[str, str],
    waited_s: float | None,
    extras: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``call.ringing`` from AgentCalled; the IVR's answers from ChanVariable lines, else the call context.

    The channel variables win because they are the channel's own state at the moment it rang.
    ``extras`` are the enrichment fields (:mod:`cti.enrich`: site, customer, history, tickets).
    """
    return {
        "v": WIRE_VERSION,
        "type": "call.ringing",
        **_call_fields(pbx, event, ts),
        "caller": {"number": known(event.get("CallerIDNum")), "name": known(event.get("CallerIDName"))},
        "ivr": ivr_block(channel_variables(event), context),
        "waited_s": None if waited_s is None else round(max(waited_s, 0.0), 1),
        **(extras or {}),
    }


def answered(pbx: str, event: EventLike, ts: float) -> dict[str, Any]:
    """``call.answered`` from AgentConnect (``waited_s`` is Asterisk's HoldTime: the queue wait)."""
    return {
        "v": WIRE_VERSION,
        "type": "call.answered",
        **_call_fields(pbx, event, ts),
        "waited_s": _int(event.get("HoldTime")),
        "ring_s": _int(event.get("RingTime")),
    }


def ended(pbx: str, event: EventLike, ts: float) -> dict[str, Any]:
    """``call.ended`` from AgentComplete; ``talk_s`` is Asterisk's TalkTime (answer to end, hold included)."""
    return {
        "v": WIRE_VERSION,
        "type": "call.ended",
        **_call_fields(pbx, event, ts),
        "talk_s": _int(event.get("TalkTime")),
        "reason": event.get("Reason"),
    }


def cancelled(
    pbx: str,
    event: EventLike,
    ts: float,
    reason: str,
    *,
    queue: str | None = None,
    call_id: str | None = None,
) -> dict[str, Any]:
    """``call.cancelled``: the phone stopped ringing without this agent answering."""
    fields = _call_fields(pbx, event, ts)
    fields["queue"] = fields["queue"] or queue
    fields["call_id"] = call_id or fields["call_id"]
    return {"v": WIRE_VERSION, "type": "call.cancelled", **fields, "reason": reason}


def error(code: str, message: str) -> dict[str, Any]:
    return {"v": WIRE_VERSION, "type": "error", "code": code, "message": message}


@dataclass(frozen=True)
class ClientMessage:
    type: str
    body: Mapping[str, Any]


class BadClientMessage(ValueError):
    """A client message that breaks the protocol; ``code`` goes back to the client in an error message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_client_message(data: str) -> ClientMessage:
    """One text frame from a client: a JSON object with a string ``type``."""
    if len(data) > MAX_CLIENT_MESSAGE_BYTES or len(data.encode("utf-8")) > MAX_CLIENT_MESSAGE_BYTES:
        raise BadClientMessage("too_big", f"messages are limited to {MAX_CLIENT_MESSAGE_BYTES} bytes")
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise BadClientMessage("bad_json", f"not valid JSON: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise BadClientMessage("bad_message", 'a message is a JSON object with a string "type"')
    return ClientMessage(body["type"], body)
