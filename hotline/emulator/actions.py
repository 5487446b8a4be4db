"""AMI actions of the emulator, answered with the exact shapes Asterisk 22.10.1 uses.

List actions reply ``EventList: start``, then list events (no Privilege, no
Timestamp, ActionID last, as captured), then ``<X>Complete``. Side effects raise
the same events as app_queue (QueueMemberAdded/Removed/Pause) and write the same
queue_log lines (ADDMEMBER/REMOVEMEMBER with callid MANAGER, PAUSE/UNPAUSE), as
Asterisk 22's app_queue.c writes them where the captures do not show it: a
QueuePause without Queue first writes ``NONE|NONE|<member>|PAUSEALL|<reason>``
(UNPAUSEALL), a member added paused writes ``ADDMEMBER|PAUSED``, an unpause given
a reason writes it (and shows it in the event's PausedReason), and with
``log_membername_as_agent`` ADDMEMBER/REMOVEMEMBER name the member, not the interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from hotline.emulator.channel_actions import ChannelActions
from hotline.emulator.queues import Member, Queue
from hotline.emulator.session_tools import Headers, Reply, event_tv, hms, is_true, response
from hotline.logs import get_logger

_log = get_logger(__name__)

if TYPE_CHECKING:
    from hotline.emulator.pbx import PbxCore


class SessionInfo(Protocol):
    username: str
    session_id: str
    local: str
    remote: str


class ActionHandler(ChannelActions):
    def __init__(self, core: PbxCore) -> None:
        self.core = core
        self._table: dict[str, Callable[[dict[str, str]], Reply]] = {
            "ping": self.ping,
            "queuestatus": self.queue_status,
            "queuesummary": self.queue_summary,
            "queueadd": self.queue_add,
            "queueremove": self.queue_remove,
            "queuepause": self.queue_pause,
            "coreshowchannels": self.core_show_channels,
            "originate": self.originate,
            "hangup": self.hangup,
            "redirect": self.redirect,
            "pjsipnotify": self.pjsip_notify,
            "atxfer": self.atxfer,
            "mixmonitor": self.mixmonitor,
            "stopmixmonitor": self.stop_mixmonitor,
            "mixmonitormute": self.mixmonitor_mute,
            "command": self.command,
        }

    def handle(self, action: dict[str, str], session: SessionInfo) -> Reply:
        handler = self._table.get(action.get("action", "").lower())
        if handler is None:
            name, now = action.get("action", ""), self.core.now()
            self.core.publish(
                "RequestBadFormat",
                [
                    ("EventTV", event_tv(now)),
                    ("Severity", "Error"),
                    ("Service", "AMI"),
                    ("EventVersion", "1"),
                    ("SessionID", session.session_id),
                    ("LocalAddress", session.local),
                    ("RemoteAddress", session.remote),
                    ("RequestType", f"Action: {name}"),
                    ("SessionTV", event_tv(now)),
                    ("AccountID", session.username),
                ],
                now,
            )
            return [
                response(
                    action,
                    "Error",
                    f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands.",
                )
            ]
        try:
            return handler(action)
        except ValueError as exc:
            _log.warning("emulator.ami_bad_action", action=action.get("action"), error=str(exc))
            return [response(action, "Error", f"Invalid value in action: {exc}")]

    @staticmethod
    def _list_start(action: dict[str, str], message: str) -> Headers:
        return [
            ("Response", "Success"),
            ("ActionID", action.get("actionid", "")),
            ("EventList", "start"),
            ("Message", message),
        ]

    @staticmethod
    def _list_end(action: dict[str, str], name: str, count: int) -> Headers:
        return [
            ("Event", name),
            ("ActionID", action.get("actionid", "")),
            ("EventList", "Complete"),
            ("ListItems", str(count)),
        ]

    def ping(self, action: dict[str, str]) -> Reply:
        return [response(action, "Success", None, ("Ping", "Pong"), ("Timestamp", f"{self.core.now():.6f}"))]

    def _selected(self, action: dict[str, str]) -> list[Queue]:
        wanted = action.get("queue")
        return [q for q in self.core.queues.in_order() if not wanted or q.name == wanted]

    def queue_status(self, action: dict[str, str]) -> Reply:
        aid, now, queues = action.get("actionid", ""), self.core.now(), self.core.queues
        items: Reply = []
        for queue in self._selected(action):
            items.append(
                [
                    ("Event", "QueueParams"),
                    ("Queue", queue.name),
                    ("Max", "0"),
                    ("Strategy", queue.spec.strategy),
                    ("Calls", str(len(queue.callers))),
                    ("Holdtime", str(int(queue.holdtime))),
                    ("TalkTime", str(int(queue.talktime))),
                    ("Completed", str(queue.completed)),
                    ("Abandoned", str(queue.abandoned)),
                    ("ServiceLevel", "0"),
                    ("ServicelevelPerf", "0.0"),
                    ("ServicelevelPerf2", "0.0"),
                    ("Weight", "0"),
                    ("ActionID", aid),
                ]
            )
            for member in queue.members:
                if action.get("member") and action["member"] not in (member.name, member.interface):
                    continue
                items.append(
                    [
                        ("Event", "QueueMember"),
                        *queues.member_body(queue, member, list_item=True),
                        ("ActionID", aid),
                    ]
                )
            for position, caller in enumerate(queue.callers, start=1):
                ch = caller.channel
                items.append(
                    [
                        ("Event", "QueueEntry"),
                        ("Queue", queue.name),
                        ("Position", str(position)),
                        ("Channel", ch.name),
                        ("Uniqueid", ch.uniqueid),
                        ("CallerIDNum", ch.caller_num),
                        ("CallerIDName", ch.caller_name),
                        ("ConnectedLineNum", ch.connected_num),
                        ("ConnectedLineName", ch.connected_name),
                        ("Wait", str(int(now - caller.entered_at))),
                        ("Priority", "0"),
                        ("ActionID", aid),
                    ]
                )
        return [
            self._list_start(action, "Queue status will follow"),
            *items,
            self._list_end(action, "QueueStatusComplete", len(items)),
        ]

    def queue_summary(self, action: dict[str, str]) -> Reply:
        aid, now, queues = action.get("actionid", ""), self.core.now(), self.core.queues
        items: Reply = []
        for queue in self._selected(action):
            available = sum(1 for m in queue.members if not m.paused and queues.status(m) == 1)
            longest = max((int(now - c.entered_at) for c in queue.callers), default=0)
            items.append(
                [
                    ("Event", "QueueSummary"),
                    ("Queue", queue.name),
                    ("LoggedIn", str(len(queue.members))),
                    ("Available", str(available)),
                    ("Callers", str(len(queue.callers))),
                    ("HoldTime", str(int(queue.holdtime))),
                    ("TalkTime", str(int(queue.talktime))),
                    ("LongestHoldTime", str(longest)),
                    ("ActionID", aid),
                ]
            )
        return [
            self._list_start(action, "Queue summary will follow"),
            *items,
            self._list_end(action, "QueueSummaryComplete", len(items)),
        ]

    def queue_add(self, action: dict[str, str]) -> Reply:
        queue = self.core.queues.get(action.get("queue", ""))
        interface = action.get("interface", "")
        if queue is None or not interface:
            return [response(action, "Error", "Unable to add interface to queue: No such queue")]
        if queue.member(interface) is not None:
            return [response(action, "Error", "Unable to add interface: Already there")]
        now = self.core.now()
        paused = is_true(action.get("paused", ""))
        member = Member(
            name=action.get("membername") or interface,
            interface=interface,
            login_time=int(now),
            dynamic=True,
            penalty=int(action.get("penalty", "0") or 0),
            paused=paused,
            paused_reason=action.get("reason", "") if paused else "",
        )
        queue.members.append(member)
        self.core.queues.publish_member("QueueMemberAdded", queue, member, now)
        self.core.queue_log.write(
            now,
            "MANAGER",
            queue.name,
            self._logged_as(member),
            "ADDMEMBER",
            "PAUSED" if paused else "",
        )
        return [response(action, "Success", "Added interface to queue")]

    def _logged_as(self, member: Member) -> str:
        """ADDMEMBER/REMOVEMEMBER name the interface unless log_membername_as_agent (and a MemberName)."""
        named = self.core.settings.log_membername_as_agent and member.name != member.interface
        return member.name if named else member.interface

    def queue_remove(self, action: dict[str, str]) -> Reply:
        queue = self.core.queues.get(action.get("queue", ""))
        if queue is None:
            return [response(action, "Error", "Unable to remove interface from queue: No such queue")]
        member = queue.member(action.get("interface", ""))
        if member is None:
            return [response(action, "Error", "Unable to remove interface: Not there")]
        if not member.dynamic:
            return [response(action, "Error", "Member not dynamic")]
        now = self.core.now()
        queue.members.remove(member)
        self.core.queues.publish_member("QueueMemberRemoved", queue, member, now)
        self.core.queue_log.write(now, "MANAGER", queue.name, self._logged_as(member), "REMOVEMEMBER", "")
        return [response(action, "Success", "Removed interface from queue")]

    def queue_pause(self, action: dict[str, str]) -> Reply:
        paused, reason, now = is_true(action.get("paused", "")), action.get("reason", ""), self.core.now()
        targets = [(q, q.member(action.get("interface", ""))) for q in self._selected(action)]
        found = [(q, m) for q, m in targets if m is not None]
        if not found:
            return [response(action, "Error", "Interface not found")]
        word = "paused" if paused else "unpaused"
        reply = [response(action, "Success", f"Interface {word} successfully")]

        def publish() -> None:
            # Asterisk answers first, then raises the events (as in the actions capture).
            if not action.get("queue"):
                # set_member_paused(): one PAUSEALL line before the per-queue ones, by member name.
                word = "PAUSEALL" if paused else "UNPAUSEALL"
                self.core.queue_log.write(now, "NONE", "NONE", found[0][1].name, word, reason)
            for queue, member in found:
                member.paused = paused
                if paused:
                    member.last_pause = int(now)
                # An unpause with a reason shows that reason in its event and line, then forgets it.
                member.paused_reason = reason
                self.core.queues.publish_member("QueueMemberPause", queue, member, now)
                self.core.queue_log.write(
                    now, "NONE", queue.name, member.name, "PAUSE" if paused else "UNPAUSE", reason
                )
                if not paused:
                    member.paused_reason = ""

        asyncio.get_running_loop().call_soon(publish)
        return reply

    def core_show_channels(self, action: dict[str, str]) -> Reply:
        aid, now = action.get("actionid", ""), self.core.now()
        items: Reply = []
        for ch in self.core.channels.live():
            items.append(
                [
                    ("Event", "CoreShowChannel"),
                    ("ActionID", aid),
                    *self.core.channels.block(ch),
                    ("Application", ch.application),
                    ("ApplicationData", ch.app_data),
                    ("Duration", hms(now - ch.created_at)),
                    ("BridgeId", ch.bridge_id),
                ]
            )
        return [
            self._list_start(action, "Channels will follow"),
            *items,
            self._list_end(action, "CoreShowChannelsComplete", len(items)),
        ]
