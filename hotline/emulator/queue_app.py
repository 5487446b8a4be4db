"""The Queue() application for one caller: join, ring members (rrmemory), leave.

Timing follows app_queue: the Queue() timeout and every HoldTime are computed on
whole seconds (``time(NULL)``), a member rings for ``min(member timeout, seconds
left)``, ``retry`` seconds pass between two attempts, and RingTime is in ms.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from hotline.emulator.channels import Channel
from hotline.emulator.queues import Caller, Member, Queue
from hotline.emulator.talk import Talk

if TYPE_CHECKING:
    from hotline.emulator.calls import CallRunner


class QueueApp:
    def __init__(self, runner: CallRunner, queue: Queue) -> None:
        self.runner = runner
        self.core = runner.core
        self.queue = queue
        self.entered_at = runner.t
        self.expire = int(runner.t) + int(queue.spec.timeout_s)
        self.caller: Caller | None = None

    @property
    def name(self) -> str:
        return self.queue.name

    async def run(self) -> tuple[str, str | None]:
        """Returns (outcome, queue to transfer to): 'answered' | 'abandoned' | 'timeout'."""
        runner, core, ch = self.runner, self.core, self.runner.channel
        if not self.queue.callers:
            core.devices.set(f"Queue:{self.name}", "RINGING", runner.t)
        self.caller = core.queues.join(self.queue, ch, runner.t)
        position = self.caller.original_position
        core.channel_event(
            "QueueCallerJoin",
            ch,
            runner.t,
            [("Queue", self.name), ("Position", str(position)), ("Count", str(len(self.queue.callers)))],
        )
        core.channel_event("MusicOnHoldStart", ch, runner.t, [("Class", "default")])
        core.queue_log.write(
            runner.t, ch.uniqueid, self.name, "NONE", "ENTERQUEUE", "", ch.caller_num, position
        )
        if runner.script.patience_s is not None:
            runner.patience_at = runner.t + runner.script.patience_s
        try:
            while True:
                if runner.hung_up():
                    return self._abandon(None, 0.0), None
                if int(runner.t) >= self.expire:
                    return self._timeout(), None
                member = self._our_member()
                if member is None:
                    await runner.sleep_to(min(runner.t + self.queue.spec.retry_s, float(self.expire)))
                    continue
                result = await self._ring(member)
                if result is not None:
                    return result
                if not runner.hung_up() and int(runner.t) < self.expire:
                    await runner.sleep_to(runner.t + self.queue.spec.retry_s)
        finally:
            runner.patience_at = math.inf

    def _our_member(self) -> Member | None:
        """is_our_turn with autofill: ring only if fewer callers are ahead than members are free."""
        queues, t = self.core.queues, self.runner.t
        assert self.caller is not None
        ahead = queues.position(self.queue, self.caller) - 1
        if ahead >= queues.free_count(self.queue, t):
            return None
        return queues.pick_rrmemory(self.queue, t)

    def _agent_ring_s(self, member: Member) -> float | None:
        ext = member.interface.split("/", 1)[1]
        if ext in self.runner.script.agent_ring_s:
            return self.runner.script.agent_ring_s[ext]
        spec = self.core.settings.agent(ext)
        return spec.ring_s if spec else None

    async def _ring(self, member: Member) -> tuple[str, str | None] | None:
        runner, core, ch = self.runner, self.core, self.runner.channel
        core.queues.reserved.add(member.interface)
        agent = core.channels.create(
            member.interface,
            runner.t,
            caller_num=member.interface.split("/", 1)[1],
            caller_name=member.name,
            context=core.settings.agent_context,
            exten="s",
            state=0,
            linkedid=ch.linkedid,
        )
        core.channel_event("Newchannel", agent, runner.t)
        core.set_variable(agent, "DIALEDPEERNUMBER", agent.caller_num, runner.t)
        # AgentCalled shows the agent leg as app_queue prepared it; DialBegin as the dialler created it.
        prepared = dataclasses.replace(
            agent,
            connected_num=ch.caller_num,
            connected_name=ch.caller_name,
            exten=ch.exten,
            variables=agent.variables,
        )
        core.two_channel_event("AgentCalled", ch, prepared, runner.t, self._member_fields(member))
        core.two_channel_event("DialBegin", ch, agent, runner.t, [("DialString", member.interface)])
        ch.connected_num, ch.connected_name = agent.caller_num, agent.caller_name
        core.channel_event("NewConnectedLine", ch, runner.t)
        agent.state, agent.connected_num, agent.connected_name, agent.exten = (
            5,
            ch.caller_num,
            ch.caller_name,
            ch.exten,
        )
        core.channel_event("Newstate", agent, runner.t)
        agent.application, agent.app_data = "AppQueue", "(Outgoing Line)"
        core.channel_event(
            "Newexten",
            agent,
            runner.t,
            [("Extension", agent.exten), ("Application", "AppQueue"), ("AppData", "(Outgoing Line)")],
        )
        core.channel_event("NewConnectedLine", agent, runner.t)
        core.refresh_device(agent.device, runner.t)
        core.two_channel_event("DialState", ch, agent, runner.t, [("DialStatus", "RINGING")])
        ring_start = runner.t
        window = float(min(int(self.queue.spec.member_timeout_s), self.expire - int(runner.t)))
        ring_s = self._agent_ring_s(member)
        answer_at = ring_start + ring_s if ring_s is not None and ring_s < window else math.inf
        reached = await runner.sleep_to(min(answer_at, ring_start + window))
        if runner.hung_up():
            return self._abandon(agent, ring_start), None
        if reached >= answer_at:
            return await self._connect(member, agent, ring_start)
        self._no_answer(member, agent, ring_start, window)
        if int(runner.t) >= self.expire:
            return self._timeout(), None
        return None

    def _member_fields(self, member: Member) -> list[tuple[str, str]]:
        return [("Queue", self.name), ("Interface", member.interface), ("MemberName", member.name)]

    def _end_ring(self, agent: Channel, attempt_start: float, statuses: tuple[str, str]) -> None:
        runner, core = self.runner, self.core
        for status in statuses:
            core.two_channel_event("DialEnd", runner.channel, agent, runner.t, [("DialStatus", status)])
        core.queues.reserved.discard(agent.device)
        core.hang_up_channel(agent, runner.t, 0)
        runner.add_cdr(attempt_start, runner.t, agent.name, self.name, answered=False)

    def _no_answer(self, member: Member, agent: Channel, ring_start: float, window: float) -> None:
        runner, core = self.runner, self.core
        ring_ms = int(window * 1000)
        core.two_channel_event(
            "AgentRingNoAnswer",
            runner.channel,
            agent,
            runner.t,
            [*self._member_fields(member), ("RingTime", str(ring_ms))],
        )
        self._end_ring(agent, ring_start, ("NOANSWER", "CANCEL"))
        core.queue_log.write(
            runner.t, runner.channel.uniqueid, self.name, member.name, "RINGNOANSWER", ring_ms
        )
        runner.result.ring_no_answer += 1

    def _leave(self) -> int:
        runner, core, ch = self.runner, self.core, self.runner.channel
        assert self.caller is not None
        position = core.queues.leave(self.queue, self.caller)
        if not self.queue.callers:
            core.devices.set(f"Queue:{self.name}", "NOT_INUSE", runner.t)
        core.channel_event(
            "QueueCallerLeave",
            ch,
            runner.t,
            [("Queue", self.name), ("Position", str(position)), ("Count", str(len(self.queue.callers)))],
        )
        return position

    def _caller_abandon_event(self) -> int:
        runner, core = self.runner, self.core
        assert self.caller is not None
        position = core.queues.position(self.queue, self.caller)
        core.channel_event(
            "QueueCallerAbandon",
            runner.channel,
            runner.t,
            [
                ("Queue", self.name),
                ("Position", str(position)),
                ("OriginalPosition", str(self.caller.original_position)),
                ("HoldTime", str(int(runner.t) - int(self.entered_at))),
            ],
        )
        self.queue.abandoned += 1
        return position

    def _abandon(self, ringing: Channel | None, ring_start: float) -> str:
        runner, core, ch = self.runner, self.core, self.runner.channel
        runner.note_hangup(runner.hangup_at)
        core.channel_event("MusicOnHoldStop", ch, runner.t)
        if ringing is not None:
            self._end_ring(ringing, ring_start, ("CANCEL", "CANCEL"))
            core.queue_log.write(
                runner.t,
                ch.uniqueid,
                self.name,
                ringing.caller_name,
                "RINGCANCELED",
                int((runner.t - ring_start) * 1000),
            )
        position = self._caller_abandon_event()
        self._leave()
        assert self.caller is not None
        core.queue_log.write(
            runner.t,
            ch.uniqueid,
            self.name,
            "NONE",
            "ABANDON",
            position,
            self.caller.original_position,
            int(runner.t) - int(self.entered_at),
        )
        return "abandoned"

    def _timeout(self) -> str:
        runner, core, ch = self.runner, self.core, self.runner.channel
        position = self._caller_abandon_event()
        core.channel_event("MusicOnHoldStop", ch, runner.t)
        self._leave()
        assert self.caller is not None
        core.queue_log.write(
            runner.t,
            ch.uniqueid,
            self.name,
            "NONE",
            "EXITWITHTIMEOUT",
            position,
            self.caller.original_position,
            int(runner.t) - int(self.entered_at),
        )
        return "timeout"

    async def _connect(self, member: Member, agent: Channel, ring_start: float) -> tuple[str, str | None]:
        runner, core, ch = self.runner, self.core, self.runner.channel
        runner.patience_at = math.inf
        agent.state, agent.answered_at = 6, runner.t
        core.channel_event("Newstate", agent, runner.t)
        core.two_channel_event("DialEnd", ch, agent, runner.t, [("DialStatus", "ANSWER")])
        core.channel_event("MusicOnHoldStop", ch, runner.t)
        core.queues.reserved.discard(member.interface)
        member.in_call = True
        core.refresh_device(agent.device, runner.t)
        self._leave()
        hold_time = int(runner.t) - int(self.entered_at)
        ring_time = int(runner.t - ring_start)
        core.two_channel_event(
            "AgentConnect",
            ch,
            agent,
            runner.t,
            [*self._member_fields(member), ("HoldTime", str(hold_time)), ("RingTime", str(ring_time))],
        )
        core.queue_log.write(
            runner.t, ch.uniqueid, self.name, member.name, "CONNECT", hold_time, agent.uniqueid, ring_time
        )
        runner.result.agents.append(member.name)
        assert self.caller is not None
        talk = Talk(runner, self.queue, member, agent, hold_time, self.caller.original_position, ring_start)
        return await talk.run()
