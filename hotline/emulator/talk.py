"""The conversation after an agent answers: bridge, hold, blind transfer, hang-up.

What Asterisk 22 shows (see the fixtures): Hold/Unhold are raised on the channel
that sent the re-INVITE (the agent's), music on hold on the caller's; a REFER gives
BlindTransfer and then an Unhold with no Hold before it on the transferer, whose
channel Asterisk then hangs up; AgentComplete's TalkTime includes hold.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING

from hotline.emulator.channels import Channel
from hotline.emulator.queues import Member, Queue

if TYPE_CHECKING:
    from hotline.emulator.calls import CallRunner


class Talk:
    def __init__(
        self,
        runner: CallRunner,
        queue: Queue,
        member: Member,
        agent: Channel,
        hold_time: int,
        original_position: int,
        attempt_start: float,
    ) -> None:
        self.runner, self.core, self.queue, self.member, self.agent = (
            runner,
            runner.core,
            queue,
            member,
            agent,
        )
        self.hold_time = hold_time
        self.original_position = original_position
        self.attempt_start = attempt_start
        self.connected_at = runner.t
        self.bridge_id = str(uuid.UUID(int=runner.rng.getrandbits(128), version=4))

    def _bridge(self, count: int) -> list[tuple[str, str]]:
        return [
            ("BridgeUniqueid", self.bridge_id),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(count)),
            ("BridgeVideoSourceMode", "none"),
        ]

    def _bridge_channel(self, event: str, channel: Channel, count: int) -> None:
        self.core.publish(event, [*self._bridge(count), *self.core.channels.block(channel)], self.runner.t)

    async def run(self) -> tuple[str, str | None]:
        runner, core, ch, agent, script = (
            self.runner,
            self.core,
            self.runner.channel,
            self.agent,
            self.runner.script,
        )
        core.publish("BridgeCreate", self._bridge(0), runner.t)
        self._bridge_channel("BridgeEnter", agent, 1)
        self._bridge_channel("BridgeEnter", ch, 2)
        ch.bridge_id = agent.bridge_id = self.bridge_id
        first = len(runner.result.agents) == 1
        talk_s = script.agent_hangs_up_after_s
        if talk_s is None and script.caller_hangs_up_after_s is None:
            talk_s = script.default_talk_s
        agent_end = self.connected_at + talk_s if talk_s is not None else math.inf
        transfer_at = math.inf
        if first and script.blind_transfer_to_queue is not None:
            transfer_at = self.connected_at + script.blind_transfer_at_s
        if first and script.hold_at_s is not None:
            hold_at = self.connected_at + script.hold_at_s
            if hold_at < min(agent_end, transfer_at):
                await self._hold(hold_at, min(hold_at + script.hold_len_s, agent_end, transfer_at))
        while True:
            end = min(agent_end, transfer_at, runner.external_agent_hangup_at)
            reached = await runner.sleep_to(end, wake_early=True)
            if runner.hung_up():
                runner.note_hangup(runner.hangup_at)
                return self._complete("caller"), None
            if runner.redirect_queue is not None:
                target, runner.redirect_queue = runner.redirect_queue, None
                return self._transfer(target, blind=False)
            if reached >= transfer_at and transfer_at <= agent_end:
                assert script.blind_transfer_to_queue is not None
                return self._transfer(script.blind_transfer_to_queue, blind=True)
            if reached >= min(agent_end, runner.external_agent_hangup_at):
                core.channel_event("HangupRequest", agent, runner.t)
                return self._complete("agent"), None

    async def _hold(self, hold_at: float, unhold_at: float) -> None:
        runner, core, ch, agent = self.runner, self.core, self.runner.channel, self.agent
        await runner.sleep_to(hold_at)
        if runner.hung_up():
            return
        core.channel_event("Hold", agent, runner.t, [("MusicClass", "default")])
        core.channel_event("MusicOnHoldStart", ch, runner.t, [("Class", "default")])
        ch.on_hold = True
        core.refresh_device(ch.device, runner.t)
        await runner.sleep_to(unhold_at)
        if runner.hung_up():
            ch.on_hold = False
            return
        core.channel_event("Unhold", agent, runner.t)
        ch.on_hold = False
        core.refresh_device(ch.device, runner.t)
        core.channel_event("MusicOnHoldStop", ch, runner.t)

    def _account(self, reason: str) -> int:
        """AgentComplete and the member's statistics; returns the talk time (whole seconds, hold included)."""
        runner, core, member = self.runner, self.core, self.member
        talk_time = int(runner.t) - int(self.connected_at)
        core.two_channel_event(
            "AgentComplete",
            runner.channel,
            self.agent,
            runner.t,
            [
                ("Queue", self.queue.name),
                ("Interface", member.interface),
                ("MemberName", member.name),
                ("HoldTime", str(self.hold_time)),
                ("TalkTime", str(talk_time)),
                ("Reason", reason),
            ],
        )
        member.calls_taken += 1
        member.last_call = int(runner.t)
        member.last_call_end = runner.t
        member.in_call = False
        self.queue.record_completed(self.hold_time, talk_time)
        runner.result.completed_by = reason
        runner.add_cdr(self.attempt_start, runner.t, self.agent.name, self.queue.name, answered=True)
        return talk_time

    def _complete(self, by: str) -> str:
        runner, core, ch, agent = self.runner, self.core, self.runner.channel, self.agent
        talk_time = self._account(by)
        first, second = (ch, agent) if by == "caller" else (agent, ch)
        self._bridge_channel("BridgeLeave", first, 1)
        self._bridge_channel("BridgeLeave", second, 0)
        ch.bridge_id = agent.bridge_id = ""
        event = "COMPLETECALLER" if by == "caller" else "COMPLETEAGENT"
        core.queue_log.write(
            runner.t,
            ch.uniqueid,
            self.queue.name,
            self.member.name,
            event,
            self.hold_time,
            talk_time,
            self.original_position,
        )
        core.publish("BridgeDestroy", self._bridge(0), runner.t)
        core.hang_up_channel(agent, runner.t, 16)
        return "answered"

    def _transfer(self, target: str, *, blind: bool) -> tuple[str, str | None]:
        runner, core, ch, agent = self.runner, self.core, self.runner.channel, self.agent
        settings = core.settings
        exten = settings.transfer_extension_for(target)
        transferee_before = core.channels.block(ch, "Transferee")
        if blind:
            core.channel_event("Unhold", agent, runner.t)
        ch.context, ch.exten, ch.priority = settings.agent_context, exten, 1
        core.channel_event(
            "Newexten",
            ch,
            runner.t,
            [("Extension", exten), ("Application", ch.application), ("AppData", ch.app_data)],
        )
        self._bridge_channel("BridgeLeave", ch, 1)
        ch.priority = 2
        runner.newexten("Queue", f"{target},t,,,30")
        if blind:
            core.publish(
                "BlindTransfer",
                [
                    ("Result", "Success"),
                    *core.channels.block(agent, "Transferer"),
                    *transferee_before,
                    *self._bridge(2),
                    ("IsExternal", "Yes"),
                    ("Context", settings.agent_context),
                    ("Extension", exten),
                ],
                runner.t,
            )
        talk_time = self._account("transfer")
        self._bridge_channel("BridgeLeave", agent, 0)
        core.publish("BridgeDestroy", self._bridge(0), runner.t)
        ch.bridge_id = agent.bridge_id = ""
        core.queue_log.write(
            runner.t,
            ch.uniqueid,
            self.queue.name,
            self.member.name,
            "BLINDTRANSFER",
            exten,
            settings.agent_context,
            self.hold_time,
            talk_time,
            self.original_position,
        )
        core.hang_up_channel(agent, runner.t, 16)
        return "answered", target
