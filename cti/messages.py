"""Server messages about agents and call control (docs/cti-protocol.md), built without IO.

The call events of the screen-pop (``call.ringing`` ...) are in :mod:`cti.protocol`;
these are the ones added with agent state and call control.
"""

from __future__ import annotations

from typing import Any

from cti.agentrecord import AgentRecord
from cti.protocol import WIRE_VERSION, EventLike, iso


def agent_state(record: AgentRecord, ts: float, *, agent: str | None, team: str | None) -> dict[str, Any]:
    """``agent.state``: the agent's derived state, its queues and its current call, as they stand."""
    call = record.call or next(iter(record.ringing.values()), None)
    return {
        "v": WIRE_VERSION,
        "type": "agent.state",
        "ts": iso(ts),
        "pbx": record.pbx,
        "iface": record.iface,
        "agent": agent,
        "name": record.name,
        "team": team,
        "state": record.state,
        "reason": record.reason,
        "since": iso(record.since),
        "device": record.device,
        "queues": [record.memberships[q].as_json() for q in sorted(record.memberships)],
        "call": call.as_json() if call is not None else None,
        "wrapup_until": iso(record.wrapup_until) if record.wrapup_until is not None else None,
    }


def _call(
    pbx: str, ts: float, call_id: str | None, uniqueid: str | None, queue: str | None
) -> dict[str, Any]:
    return {"ts": iso(ts), "call_id": call_id, "uniqueid": uniqueid, "pbx": pbx, "queue": queue}


def hold(pbx: str, record: AgentRecord, ts: float, held: bool) -> dict[str, Any]:
    """``call.held`` / ``call.resumed`` (Asterisk's Hold/Unhold on the agent's channel)."""
    call = record.call
    assert call is not None
    return {
        "v": WIRE_VERSION,
        "type": "call.held" if held else "call.resumed",
        **_call(pbx, ts, call.call_id, call.uniqueid, call.queue),
    }


def wrapup_started(pbx: str, record: AgentRecord, ts: float, call_id: str | None) -> dict[str, Any]:
    """``wrapup.started``: the queue call ended and the agent is in wrap-up (until ``until``, if known)."""
    return {
        "v": WIRE_VERSION,
        "type": "wrapup.started",
        **_call(pbx, ts, call_id, None, None),
        "until": iso(record.wrapup_until) if record.wrapup_until is not None else None,
        "reason": record.reason,
    }


def transferred(pbx: str, event: EventLike, ts: float, prefix: str) -> dict[str, Any]:
    """``call.transferred`` from BlindTransfer (``Transferer``) or AttendedTransfer (``OrigTransferer``)."""
    blind = event.name == "BlindTransfer"
    target = (
        event.get("Extension") if blind else (event.get("DestExten") or event.get("SecondTransfererExten"))
    )
    return {
        "v": WIRE_VERSION,
        "type": "call.transferred",
        **_call(
            pbx,
            ts,
            event.get(f"{prefix}Linkedid"),
            event.get("TransfereeUniqueid") or event.get("TransfereeUniqueId"),
            None,
        ),
        "kind": "blind" if blind else "attended",
        "result": event.get("Result"),
        "to": target,
    }


def result(ref: Any, command: str, ok: bool, code: str | None = None, message: str = "") -> dict[str, Any]:
    """The answer to one client command: ``ok`` true, or false with a ``code`` and a reason."""
    body: dict[str, Any] = {"v": WIRE_VERSION, "type": "result", "ref": ref, "command": command, "ok": ok}
    if not ok:
        body["code"] = code or "failed"
        body["message"] = message
    elif message:
        body["message"] = message
    return body


def replay_gap(last_seen: int, oldest: int) -> dict[str, Any]:
    """``replay.gap``: events after ``last_seen`` up to ``oldest - 1`` are gone (too old, or a restart)."""
    return {"v": WIRE_VERSION, "type": "replay.gap", "last_seen": last_seen, "first_available": oldest}
