"""A stand-in for Asterisk's AudioSocket application, over a real TCP connection.

It behaves as app_audiosocket.c does: connect, send the UUID, then 20 ms slin frames
(and DTMF) until the server sends the hangup message or closes; then close and answer
the AGI ``EXEC`` with 0. Frames go out as fast as the server reads them (recognition
does not care about wall-clock pacing, and tests stay fast).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from ivr.speech import audiosocket as proto

FRAME = proto.SLIN_8K_FRAME_BYTES
SILENCE = bytes(FRAME)


def frames(pcm: bytes) -> list[bytes]:
    """Cut 8 kHz slin into 20 ms frames (the last one padded with silence)."""
    padded = pcm + bytes(-len(pcm) % FRAME)
    return [padded[i : i + FRAME] for i in range(0, len(padded), FRAME)]


@dataclass
class AudioSocketCall:
    """What the fake channel plays into the stream: messages, then silence up to a cap."""

    messages: Sequence[bytes] = ()
    trailing_silence_frames: int = 400
    """8 s of silence after the messages, then the "caller" stops (closes the socket)."""
    hangup_received: bool = False
    sent_frames: int = 0


async def run_audiosocket(address: str, stream: str, call: AudioSocketCall) -> int:
    """Play ``call`` into the server at ``address`` as AudioSocket(stream,address) would."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    stop = asyncio.Event()

    async def read_until_hangup() -> None:
        parser = proto.AudioSocketParser()
        while True:
            data = await reader.read(4096)
            if not data:
                break
            parser.receive_data(data)
            if isinstance(parser.next_event(), proto.Hangup):
                call.hangup_received = True
                break
        stop.set()

    reading = asyncio.create_task(read_until_hangup())
    try:
        writer.write(proto.encode_uuid(uuid.UUID(stream)))
        outgoing = [*call.messages, *[proto.encode_audio(SILENCE)] * call.trailing_silence_frames]
        for message in outgoing:
            if stop.is_set():
                break
            writer.write(message)
            call.sent_frames += 1
            await writer.drain()
            await asyncio.sleep(0)  # let the reader see a hangup, as Asterisk's poll loop would
        await asyncio.wait_for(stop.wait(), 10)
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return 0


@dataclass
class FakeSession:
    """An AGI session whose ``EXEC AudioSocket`` runs :func:`run_audiosocket`."""

    call: AudioSocketCall = field(default_factory=AudioSocketCall)
    exec_result: int | None = None
    """When set, answer EXEC with this code without connecting (Asterisk could not)."""
    pbx: str = "test"
    execs: list[tuple[str, tuple[str | int, ...]]] = field(default_factory=list)

    async def exec_(self, app: str, *args: str | int, reply_timeout: float | None = None) -> int:
        self.execs.append((app, args))
        if self.exec_result is not None:
            return self.exec_result
        assert app == "AudioSocket" and len(args) == 2
        return await run_audiosocket(str(args[1]), str(args[0]), self.call)
