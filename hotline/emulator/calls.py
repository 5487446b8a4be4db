"""One emulated call through the reference dialplan.

``1500569 -> Answer -> AGI(agi://host:port/ivr/main) -> MixMonitor(${UNIQUEID}.wav,b)
-> Queue(${HOTLINE_QUEUE},t,,,30) -> Hangup``. The call keeps its own emulated time
cursor ``t``; every event it publishes carries that instant, and it sleeps (really,
scaled by the clock) until the next instant its script asks for.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass
from pathlib import Path

from hotline import names
from hotline.emulator.agi_client import FastAgiClient
from hotline.emulator.channels import Channel
from hotline.emulator.pbx import PbxCore, cdr_time
from hotline.emulator.queue_app import QueueApp
from hotline.emulator.recorder import recording_path, write_recording
from hotline.emulator.script import CallResult, CallScript
from hotline.logs import bind_call, get_logger, mask_number

_log = get_logger(__name__)
SILENCE = "."
"""In CallScript.digits: no key until the current digit-reading command times out."""


@dataclass
class CdrRecord:
    """One CDR of the caller's channel (a new one per agent dial attempt, as cdr_manager shows)."""

    start: float
    end: float
    destination_channel: str
    application: str
    data: str
    disposition: str


class CallRunner:
    """Plays one :class:`CallScript`; implements what the AGI client and Queue() need from a call."""

    def __init__(self, core: PbxCore, script: CallScript, rng: random.Random) -> None:
        self.core = core
        self.script = script
        self.rng = rng
        self.t = core.now()
        self.started_at = self.t
        self._script_hangup_at = math.inf
        self.patience_at = math.inf
        """Set by Queue() while the caller waits; the caller abandons when it passes."""
        self.external_hangup_at = math.inf
        self.external_agent_hangup_at = math.inf
        self.redirect_queue: str | None = None
        self._wake = asyncio.Event()
        self._hangup_noted = False
        self._digit_index = 0
        self.cdrs: list[CdrRecord] = []
        self.last_app = ("", "")
        self.recording_file: Path | None = None
        self.recording_started_at = self.t
        self.channel: Channel = core.channels.create(
            f"PJSIP/{core.settings.trunk}",
            self.t,
            caller_num=script.caller_number,
            caller_name=script.caller_name,
            context=core.settings.caller_context,
            exten=core.settings.dialed_number,
            state=4,
        )
        self.result = CallResult(uniqueid=self.channel.uniqueid, channel=self.channel.name, started_at=self.t)
        for after in (script.caller_hangs_up_after_s, script.hangup_during_ivr_at_s):
            if after is not None:
                self._script_hangup_at = min(self._script_hangup_at, self.t + after)

    # --- time -------------------------------------------------------------------------------
    @property
    def hangup_at(self) -> float:
        """When the caller hangs up (script, patience in a queue, or an AMI Hangup), inf if never."""
        return min(self._script_hangup_at, self.patience_at, self.external_hangup_at)

    async def sleep_to(self, instant: float, *, wake_early: bool = False) -> float:
        """Advance to ``instant`` or to the caller's hang-up, whichever comes first; return where we are.

        An AMI action that changes the call (Hangup, Redirect) wakes the sleeper: the hang-up time
        is always taken into account; with ``wake_early`` the sleeper also returns at once, to
        re-plan (an agent-side hang-up or a redirect during the conversation).
        """
        while True:
            target = min(instant, self.hangup_at)
            delay = self.core.clock.real_seconds(target - self.core.now())
            if delay > 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), None if delay == math.inf else delay)
                except TimeoutError:
                    pass
                else:
                    if wake_early:
                        self.t = max(self.t, min(target, self.core.now()))
                        return self.t
                    continue
            self.t = max(self.t, target)
            return self.t

    def wake(self) -> None:
        self._wake.set()

    # --- what the AGI client needs ---------------------------------------------------------
    def next_digit(self, start: float) -> tuple[float, str] | None:
        if self._digit_index >= len(self.script.digits):
            return None
        if self.script.digits[self._digit_index] == SILENCE:
            return None  # the caller stays silent until the running command times out
        if self._digit_index == 0:
            at = max(self.started_at + self.script.first_digit_at_s, start)
        else:
            at = start + self.script.digit_gap_s
        return at, self.script.digits[self._digit_index]

    def end_silence(self) -> None:
        """A digit-reading command timed out: a scripted silence (``.``) is over."""
        if self._digit_index < len(self.script.digits) and self.script.digits[self._digit_index] == SILENCE:
            self._digit_index += 1

    def take_digit(self, instant: float, digit: str) -> None:
        self._digit_index += 1
        self.core.channel_event(
            "DTMFEnd",
            self.channel,
            instant,
            [("Digit", digit), ("DurationMs", "160"), ("Direction", "Received")],
        )

    def note_hangup(self, instant: float) -> None:
        """The caller's BYE: HangupRequest, once."""
        if not self._hangup_noted:
            self._hangup_noted = True
            self.t = max(self.t, instant)
            self.core.channel_event("HangupRequest", self.channel, self.t)

    def hang_up_from_agi(self, instant: float) -> None:
        self._hangup_noted = True  # the PBX side hangs up: no HangupRequest from the caller
        self.external_hangup_at = min(self.external_hangup_at, instant)

    # --- dialplan ---------------------------------------------------------------------------
    def newexten(self, application: str, data: str) -> None:
        ch = self.channel
        ch.application, ch.app_data = application, data
        self.last_app = (application, data)
        self.core.channel_event(
            "Newexten", ch, self.t, [("Extension", ch.exten), ("Application", application), ("AppData", data)]
        )

    def hung_up(self) -> bool:
        return self.t >= self.hangup_at

    async def run(self) -> CallResult:
        core, ch = self.core, self.channel
        core.calls[ch.uniqueid] = self
        with bind_call("emulator", ch.uniqueid, ch.linkedid):
            _log.info("emulator.call_start", caller=mask_number(self.script.caller_number))
            try:
                await self._dialplan()
            finally:
                core.calls.pop(ch.uniqueid, None)
            _log.info("emulator.call_end", outcome=self.result.outcome)
        self.result.ended_at = self.t
        self.result.variables = dict(ch.variables)
        self.result.queue_log = core.queue_log.for_call(ch.uniqueid)
        return self.result

    async def _dialplan(self) -> None:
        core, ch, settings = self.core, self.channel, self.core.settings
        core.channel_event("Newchannel", ch, self.t)
        core.set_variable(ch, "SIPDOMAIN", settings.ami_host, self.t)
        self.newexten("Answer", "")
        ch.state, ch.answered_at = 6, self.t
        core.channel_event("Newstate", ch, self.t)
        core.refresh_device(ch.device, self.t)
        await self.sleep_to(self.t + 0.0135)
        if self.hung_up():
            return self.finish(0)
        ch.priority = 2
        request = f"agi://{settings.agi_host}:{settings.agi_port}/{settings.agi_script}"
        self.newexten("AGI", request)
        status = await FastAgiClient(self, request, settings.agi_script, self.rng).run()
        self.t = max(self.t, core.now())
        self.result.agi_status = status
        if status == "HANGUP" or self.hung_up():
            self.note_hangup(self.hangup_at)
            self.result.outcome = "ivr_hangup"
            return self.finish(0)
        core.set_variable(ch, "AGISTATUS", status, self.t)
        ch.priority = 3
        self.newexten("MixMonitor", f"{ch.uniqueid}.wav,b")
        filename = f"/var/spool/asterisk/monitor/{ch.uniqueid}.wav"
        if settings.recording_dir is not None:
            site, zone = settings.recording_site, settings.recording_timezone
            self.recording_file = recording_path(settings.recording_dir, site, ch.uniqueid, self.t, zone)
            self.recording_started_at = self.t
            filename = str(self.recording_file)
        core.set_variable(ch, "MIXMONITOR_FILENAME", filename, self.t)
        core.channel_event("MixMonitorStart", ch, self.t)
        queue_name = ch.variables.get(names.VAR_QUEUE) or names.FALLBACK_QUEUE
        ch.priority = 4
        outcome = await self._queue(queue_name)
        if outcome == "timeout" or outcome == "noqueue":
            ch.priority += 1
            self.newexten("Hangup", "")
            return self.finish(16)
        self.finish(0 if outcome == "abandoned" else 16)

    async def _queue(self, queue_name: str) -> str:
        """Queue() and, after a blind transfer, the target extension's Queue(); returns the last outcome."""
        self.newexten("Queue", f"{queue_name},t,,,30")
        while True:
            queue = self.core.queues.get(queue_name)
            if queue is None:
                _log.warning("emulator.unknown_queue", queue=queue_name)
                self.result.outcome = "noqueue"
                return "noqueue"
            self.result.queues.append(queue_name)
            # A transfer's Newexten events are part of the transfer itself (QueueApp publishes them).
            outcome, transfer_to = await QueueApp(self, queue).run()
            self.result.outcome = outcome
            if transfer_to is None:
                return outcome
            queue_name = transfer_to

    def finish(self, cause: int) -> None:
        """SoftHangupRequest, the caller's Hangup, then one Cdr per record (cdr_manager order)."""
        core, ch = self.core, self.channel
        if self.result.outcome == "unknown" and not self.result.queues:
            self.result.outcome = "ivr_hangup"
        core.channel_event("SoftHangupRequest", ch, self.t, [("Cause", "16")])
        if self.recording_file is not None and self.result.agents:
            # MixMonitor(,b) writes only while bridged: a call nobody answered leaves no file.
            seconds = min(core.settings.recording_max_s, max(0.1, self.t - self.recording_started_at))
            write_recording(self.recording_file, seconds)
        core.hang_up_channel(ch, self.t, cause)
        if not self.cdrs or self.last_app[0] not in ("Queue", ""):
            start = self.cdrs[-1].end if self.cdrs else self.started_at
            self.cdrs.append(CdrRecord(start, self.t, "", self.last_app[0], self.last_app[1], "ANSWERED"))
        for record in self.cdrs:
            self._publish_cdr(record)

    def _publish_cdr(self, record: CdrRecord) -> None:
        ch = self.channel
        caller_id = f'"{ch.caller_name}" <{ch.caller_num}>' if ch.caller_name else ch.caller_num
        seconds = str(int(record.end - record.start))
        row = {
            "AccountCode": "",
            "Source": ch.caller_num,
            "Destination": ch.exten,
            "DestinationContext": ch.context,
            "CallerID": caller_id,
            "Channel": ch.name,
            "DestinationChannel": record.destination_channel,
            "LastApplication": record.application,
            "LastData": record.data,
            "StartTime": cdr_time(record.start),
            "AnswerTime": cdr_time(record.start),
            "EndTime": cdr_time(record.end),
            "Duration": seconds,
            "BillableSeconds": seconds,
            "Disposition": record.disposition,
            "AMAFlags": "DOCUMENTATION",
            "UniqueID": ch.uniqueid,
            "UserField": "",
        }
        self.core.cdr_rows.append(row)
        self.core.publish("Cdr", list(row.items()), self.t)

    def add_cdr(
        self, attempt_start: float, end: float, agent_channel: str, queue: str, answered: bool
    ) -> None:
        start = self.started_at if not self.cdrs else attempt_start
        disposition = "ANSWERED" if answered else "NO ANSWER"
        self.cdrs.append(CdrRecord(start, end, agent_channel, "Queue", f"{queue},t,,,30", disposition))
