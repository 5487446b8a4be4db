"""An emulated Asterisk 22.10.1, for tests and for ``hotline demo`` (never beside a real PBX).

It speaks to hotline only over TCP, as a real Asterisk would: it *serves* AMI and it
*connects* to hotline's FastAGI server for each call. Event shapes, reply shapes and
queue_log lines copy the captures in ``tests/fixtures/asterisk22``; the conformance
tests in ``tests/emulator`` hold it to them.

API::

    from hotline.emulator import AsteriskEmulator, EmulatorSettings, CallScript

    emulator = AsteriskEmulator(EmulatorSettings(
        ami_port=0, ami_username="hotline", ami_secret="...",   # AMI server (0: a free port)
        agi_host="127.0.0.1", agi_port=4573,                    # hotline's FastAGI server
        speed=50,                                               # 50 emulated s per real s
        start_epoch=time.time(), seed=7,
        queue_log_path="var/queue_log",                        # optional; always kept in memory
    ))
    ami_port = await emulator.start()
    result = await emulator.place_call(CallScript("081234567890", "Śantoso Wibowo", digits="1",
                                                  caller_hangs_up_after_s=14, hold_at_s=3, hold_len_s=3))
    task = emulator.start_call(script)                         # several calls at once
    results = await emulator.run_traffic(calls_per_second=2, duration=600)   # demo traffic
    emulator.queue_log_lines                                   # queue_log of every call so far
    await emulator.stop()

The dialplan it plays: ``1500569 -> Answer -> AGI(agi://host:port/ivr/main) ->
MixMonitor(${UNIQUEID}.wav,b) -> Queue(${HOTLINE_QUEUE},t,,,30) -> Hangup``; if the
FastAGI server is unreachable AGISTATUS is FAILURE and the caller goes to
``hotline.names.FALLBACK_QUEUE``, as the real dialplan does. Queues are app_queue
with rrmemory, member timeout 6 s, retry 1 s, wrapuptime 2 s and static members.

AMI: banner ``Asterisk Call Manager/11.0.0``; Login plain or MD5 (Challenge);
``Events: on|off|<classes>``; timestamped events; VarSet filtered out by default
(``event_filter_out``); ``channelvars`` adds ``ChanVariable:`` lines. Actions: Ping,
QueueStatus, QueueSummary, QueueAdd, QueueRemove, QueuePause, CoreShowChannels,
Originate, Hangup, Redirect, PJSIPNotify (Event=hold|talk), Atxfer, MixMonitor,
StopMixMonitor, MixMonitorMute, Command,
Events, Challenge, Logoff. Not emitted: CEL, RTCP*, the ``Queue:<name>_avail``
device states (see tests/emulator/test_conformance.py for why).
"""

from hotline.emulator.emulator import AsteriskEmulator
from hotline.emulator.script import CallResult, CallScript
from hotline.emulator.settings import AgentSpec, EmulatorSettings, QueueSpec

__all__ = ["AgentSpec", "AsteriskEmulator", "CallResult", "CallScript", "EmulatorSettings", "QueueSpec"]
