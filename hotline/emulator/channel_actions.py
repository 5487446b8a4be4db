"""AMI actions on channels: Originate, Hangup, Redirect, PJSIPNotify, Atxfer, MixMonitor*, Command."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from hotline.emulator.session_tools import Reply, response

if TYPE_CHECKING:
    from hotline.emulator.calls import CallRunner
    from hotline.emulator.channels import Channel
    from hotline.emulator.pbx import PbxCore


class ChannelActions:
    core: PbxCore

    def _runner_of(self, channel: Channel) -> tuple[CallRunner | None, bool]:
        """The call a channel belongs to, and whether it is that call's caller leg."""
        for runner in self.core.calls.values():
            if runner.channel is channel:
                return runner, True
            if channel.linkedid == runner.channel.uniqueid:
                return runner, False
        return None, False

    def originate(self, action: dict[str, str]) -> Reply:
        target = action.get("channel", "")
        if "/" not in target:
            return [response(action, "Error", "Channel not specified")]
        now = self.core.now()
        uniqueid = self.core.channels.new_uniqueid(now)
        name = self.core.channels.new_name(target)
        if target.lower().startswith("local/"):
            name += ";1"
        caller_id = action.get("callerid", "")
        cid_name, _, cid_num = caller_id.rpartition("<")
        body = [
            ("ActionID", action.get("actionid", "")),
            ("Response", "Success"),
            ("Channel", name),
            ("Context", action.get("context", "")),
            ("Exten", action.get("exten", "")),
            ("Reason", "4"),
            ("Uniqueid", uniqueid),
            ("CallerIDNum", cid_num.rstrip(">").strip() or "<unknown>"),
            ("CallerIDName", cid_name.strip().strip('"') or "<unknown>"),
        ]
        # The OriginateResponse event follows the action's Response, as with Async: true on Asterisk.
        asyncio.get_running_loop().call_soon(self.core.publish, "OriginateResponse", body, now)
        return [response(action, "Success", "Originate successfully queued")]

    def _channel(self, action: dict[str, str]) -> Channel | None:
        return self.core.channels.find(action.get("channel", ""))

    def hangup(self, action: dict[str, str]) -> Reply:
        channel = self._channel(action)
        if channel is None:
            return [response(action, "Error", "No such channel")]
        runner, is_caller = self._runner_of(channel)
        now = self.core.now()
        if runner is not None and is_caller:
            runner.external_hangup_at = now
            runner.wake()
        elif runner is not None and channel.bridge_id:
            runner.external_agent_hangup_at = now
            runner.wake()
        return [response(action, "Success", "Channel Hungup")]

    def redirect(self, action: dict[str, str]) -> Reply:
        channel = self._channel(action)
        if channel is None:
            return [response(action, "Error", f"Channel does not exist: {action.get('channel', '')}")]
        queue = self.core.settings.transfer_extensions.get(action.get("exten", ""))
        runner, is_caller = self._runner_of(channel)
        if queue is None or runner is None or not is_caller or not channel.bridge_id:
            return [
                response(
                    action,
                    "Error",
                    "Redirect failed: only a bridged caller can be sent to a queue "
                    "extension in this emulator",
                )
            ]
        runner.redirect_queue = queue
        runner.wake()
        return [response(action, "Success", "Redirect successful")]

    def pjsip_notify(self, action: dict[str, str]) -> Reply:
        """PJSIPNotify ``Variable: Event=hold|talk``: the phone obeys as a desk phone with CTI control does.

        The phone sends a re-INVITE, so Asterisk raises Hold/Unhold on the phone's channel and
        music on hold on the other party, exactly as when the agent presses the hold key.
        """
        endpoint = action.get("endpoint", "")
        if not endpoint or self.core.settings.agent(endpoint) is None:
            return [response(action, "Error", f"Unable to retrieve endpoint {endpoint}")]
        event = action.get("variable", "").partition("=")[2].strip().lower()
        now = self.core.now()
        for agent in self.core.channels.live():
            if agent.device != f"PJSIP/{endpoint}" or not agent.bridge_id:
                continue
            caller = next(
                (c for c in self.core.channels.live() if c.bridge_id == agent.bridge_id and c is not agent),
                None,
            )
            if caller is None:
                continue
            if event == "hold" and not caller.on_hold:
                self.core.channel_event("Hold", agent, now, [("MusicClass", "default")])
                self.core.channel_event("MusicOnHoldStart", caller, now, [("Class", "default")])
                caller.on_hold = True
            elif event == "talk" and caller.on_hold:
                self.core.channel_event("Unhold", agent, now)
                caller.on_hold = False
                self.core.channel_event("MusicOnHoldStop", caller, now)
            self.core.refresh_device(caller.device, now)
        return [response(action, "Success", "NOTIFY sent")]

    def atxfer(self, action: dict[str, str]) -> Reply:
        """Atxfer: accepted for a bridged channel (the consultation call itself is not played)."""
        channel = self._channel(action)
        if channel is None:
            return [response(action, "Error", "No such channel")]
        if not action.get("exten"):
            return [response(action, "Error", "No extension specified")]
        return [response(action, "Success", "Atxfer successfully queued")]

    def mixmonitor(self, action: dict[str, str]) -> Reply:
        channel = self._channel(action)
        if channel is None:
            return [response(action, "Error", "No such channel")]
        self.core.channel_event("MixMonitorStart", channel, self.core.now())
        return [response(action, "Success", None, ("MixMonitorID", f"0x{id(channel):x}"))]

    def stop_mixmonitor(self, action: dict[str, str]) -> Reply:
        channel = self._channel(action)
        if channel is None:
            return [response(action, "Error", "No such channel")]
        self.core.channel_event("MixMonitorStop", channel, self.core.now())
        return [response(action, "Success", None)]

    def mixmonitor_mute(self, action: dict[str, str]) -> Reply:
        channel = self._channel(action)
        if channel is None:
            return [response(action, "Error", "No such channel")]
        state = action.get("state", "1").strip() or "1"
        direction = action.get("direction", "both").strip().lower() or "both"
        if state not in ("0", "1") or direction not in ("read", "write", "both"):
            return [response(action, "Error", "Invalid state or direction")]
        # Asterisk 16.17+/18.3+ publishes the change (class call), whoever sent the action.
        extra = [("Direction", direction), ("State", state)]
        self.core.channel_event("MixMonitorMute", channel, self.core.now(), extra)
        return [response(action, "Success", None)]

    def command(self, action: dict[str, str]) -> Reply:
        command = " ".join(action.get("command", "").split()).lower()
        if command == "core show uptime":
            seconds = int(self.core.now() - self.core.started_at) + 2
            output = [f"System uptime: {seconds} seconds", f"Last reload: {seconds} seconds"]
        elif command == "core show channels":
            live = list(self.core.channels.live())
            output = [f"{c.name} {c.application}" for c in live] + [f"{len(live)} active channels"]
        else:
            output = [
                f"No such command '{action.get('command', '')}' (type 'core show help "
                f"{action.get('command', '')}' for other possible commands)"
            ]
        return [response(action, "Success", "Command output follows", *(("Output", line) for line in output))]
