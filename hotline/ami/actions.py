"""Matching AMI replies to the actions that asked for them (no IO).

Asterisk answers an action with a ``Response`` carrying the action's ``ActionID``;
list actions (QueueStatus, CoreShowChannels, ...) then send events with the same
ActionID and finish with an ``EventList: Complete`` event. Unrelated events are
interleaved anywhere, and an action's side events can arrive before its Response,
so the only safe key is the ActionID: nothing here relies on order between actions.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from hotline.ami.protocol import Event, Response


class AmiError(Exception):
    """Base of the AMI client's errors."""


class AmiActionTimeout(AmiError, TimeoutError):
    """No complete answer to an action within its timeout."""


class AmiLinkDown(AmiError, ConnectionError):
    """The AMI link is not up (or went down while the action was pending)."""


class AmiAuthFailed(AmiError):
    """Asterisk refused the login (wrong user or secret, or no permission)."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The Response to an action, plus its list events (the closing XComplete event not included)."""

    response: Response
    events: list[Event] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.response.ok

    @property
    def message(self) -> str:
        return self.response.message


@dataclass(slots=True)
class _Pending:
    action: str
    future: asyncio.Future[ActionResult]
    response: Response | None = None
    events: list[Event] = field(default_factory=list)
    list_complete: bool = False


class ActionTracker:
    """Pending actions by ActionID; the reader feeds it every Response and every Event with an ActionID."""

    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def expect(self, action_id: str, action: str) -> asyncio.Future[ActionResult]:
        if action_id in self._pending:
            raise ValueError(f"ActionID {action_id!r} is already pending")
        future: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(action, future)
        return future

    def forget(self, action_id: str) -> None:
        """Drop an action that timed out or was cancelled; late replies are then ignored."""
        self._pending.pop(action_id, None)

    def on_response(self, response: Response) -> bool:
        """Match a Response; False when no pending action has its ActionID."""
        action_id = response.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        if pending is None or action_id is None:
            return False
        pending.response = response
        # An error to a list action starts no list; a list whose Complete came first is done too.
        if not response.starts_list or pending.list_complete:
            self._resolve(action_id, pending)
        return True

    def on_event(self, event: Event, action_id: str) -> bool:
        """Collect an event carrying ``action_id``; False when no pending action has it."""
        pending = self._pending.get(action_id)
        if pending is None:
            return False
        if event.is_list_complete:
            pending.list_complete = True
            if pending.response is not None:
                self._resolve(action_id, pending)
        else:
            pending.events.append(event)
        return True

    def fail_all(self, error: BaseException) -> None:
        """The link is gone: every pending action fails with ``error``."""
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(error)

    def _resolve(self, action_id: str, pending: _Pending) -> None:
        del self._pending[action_id]
        if not pending.future.done() and pending.response is not None:
            pending.future.set_result(ActionResult(pending.response, pending.events))


def md5_login_key(challenge: str, secret: str) -> str:
    """Key for ``Login AuthType: MD5``: hex MD5 of the challenge followed by the secret (manager.c)."""
    # MD5 is what Asterisk's challenge protocol defines; it is not used here to protect data at rest.
    return hashlib.md5((challenge + secret).encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class ResyncSnapshot:
    """What Asterisk says is going on right after a (re)connect: channels and queues as they stand."""

    pbx: str
    connection: int
    channels: list[Event]
    queue_params: list[Event]
    queue_members: list[Event]
    queue_entries: list[Event]
    at: float

    @classmethod
    def from_results(
        cls, pbx: str, connection: int, channels: ActionResult, queues: ActionResult, at: float
    ) -> ResyncSnapshot:
        """Sort a CoreShowChannels and a QueueStatus answer into the snapshot's lists."""
        by_name: dict[str, list[Event]] = {"QueueParams": [], "QueueMember": [], "QueueEntry": []}
        for event in queues.events:
            bucket = by_name.get(event.name)
            if bucket is not None:
                bucket.append(event)
        return cls(
            pbx=pbx,
            connection=connection,
            channels=[e for e in channels.events if e.name == "CoreShowChannel"],
            queue_params=by_name["QueueParams"],
            queue_members=by_name["QueueMember"],
            queue_entries=by_name["QueueEntry"],
            at=at,
        )
