"""The AudioSocket server: Asterisk streams a caller's audio here while a menu listens.

A menu that wants speech registers a :class:`Turn` under a fresh UUID, then has
Asterisk run ``AudioSocket(<uuid>,<host:port>)``. Asterisk connects, sends the UUID,
then 20 ms audio frames (and any key the caller presses). The server feeds the audio
to the recognizer until it hears a menu phrase, a key, the caller's silence after
speaking, or the turn's time is up; then it settles the turn and sends the hangup
message, which ends the AudioSocket application (not the call) so the menu goes on.

Every failure settles the turn with None: the menu falls back to DTMF.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Final

from hotline.logs import get_logger
from ivr.speech import audiosocket as proto
from ivr.speech.engine import Engine, Utterance
from ivr.speech.grammar import MenuGrammar, Recognition, heard_anything
from ivr.speech.resample import Upsampler2x

log = get_logger(__name__)

FIRST_MESSAGE_TIMEOUT_S: Final = 5.0
"""Asterisk sends the UUID right after connecting; a silent peer is not Asterisk."""
WALL_CLOCK_GRACE_S: Final = 2.0
"""Beyond the turn's audio time: audio may arrive late, but not for ever."""
FEED_BYTES: Final = 3200
"""Audio (8 kHz) handed to the recognizer at once: 200 ms, fewer thread hops than 20 ms frames."""
HANGUP_DRAIN_S: Final = 2.0
"""How long Asterisk may take to close after our hangup message."""
_READ_SIZE: Final = 8192


@dataclass(eq=False)
class Turn:
    """One listening turn of one call, waiting for its audio."""

    grammar: MenuGrammar
    timeout_s: float
    """Seconds of caller audio to listen to at most."""
    min_confidence: float
    label: str = ""
    """Who is listening, for log lines (PBX and uniqueid)."""
    stream: uuid.UUID = field(default_factory=uuid.uuid4)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Future[Recognition | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, outcome: Recognition | None) -> None:
        if not self.done.done():
            self.done.set_result(outcome)


class AudioSocketServer:
    """asyncio TCP server for Asterisk's AudioSocket; recognition runs in worker threads."""

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 0) -> None:
        self._engine = engine
        self._host = host
        self._port = port
        self._turns: dict[uuid.UUID, Turn] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The bound port (the real one when started with port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self._host, self._port)
        log.info("audiosocket listening", host=self._host, port=self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
        for turn in self._turns.values():
            turn.settle(None)

    def expect(self, turn: Turn) -> None:
        """Register a turn; its audio is taken when Asterisk connects with its UUID."""
        self._turns[turn.stream] = turn

    def forget(self, turn: Turn) -> None:
        """The menu is done with this turn (settled or given up)."""
        self._turns.pop(turn.stream, None)
        turn.settle(None)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            raise
        except Exception:  # one broken stream must never take the server down
            log.exception("audiosocket stream failed")
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = proto.AudioSocketParser()
        try:
            first = await asyncio.wait_for(_next_event(reader, parser), FIRST_MESSAGE_TIMEOUT_S)
        except (TimeoutError, proto.AudioSocketProtocolError, ConnectionError) as exc:
            log.warning("audiosocket peer sent no stream id", reason=str(exc) or type(exc).__name__)
            return
        if not isinstance(first, proto.StreamId):
            log.warning("audiosocket stream did not start with its id", first=type(first).__name__)
            return
        turn = self._turns.get(first.uuid)
        if turn is None or turn.connected.is_set() or turn.done.done():
            # A turn the menu gave up on (or a second connection for it): end the app at once.
            log.warning("audiosocket stream for no listening menu", stream=str(first.uuid))
            await _send_hangup(reader, writer)
            return
        turn.connected.set()
        outcome: Recognition | None = None
        try:
            outcome = await _listen(turn, self._engine, reader, parser)
        finally:
            turn.settle(outcome)
        await _send_hangup(reader, writer)


async def _next_event(reader: asyncio.StreamReader, parser: proto.AudioSocketParser) -> proto.Event | None:
    """The next message, or None at a clean end of stream (EOF between messages)."""
    while True:
        event = parser.next_event()
        if event is not proto.NEED_DATA:
            assert not isinstance(event, proto.NeedData)
            return event
        data = await reader.read(_READ_SIZE)
        if not data:
            if parser.buffered:
                raise ConnectionError(f"peer closed in the middle of a message ({parser.buffered} bytes)")
            return None
        parser.receive_data(data)


async def _send_hangup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """End the AudioSocket application, then wait for Asterisk to close its side.

    Closing first would be a race: audio Asterisk sends meanwhile would meet a closed
    socket, the reset could reach it before it reads the hangup, and the application
    would end with an error instead of 0.
    """
    with contextlib.suppress(ConnectionError, TimeoutError):
        writer.write(proto.encode_hangup())
        await writer.drain()
        async with asyncio.timeout(HANGUP_DRAIN_S):
            while await reader.read(_READ_SIZE):
                pass  # audio still in flight, no longer wanted


def _feed(utterance: Utterance, upsampler: Upsampler2x | None, pcm: bytes) -> str | None:
    """Runs in a worker thread: the finished utterance's result at an endpoint, else None."""
    if utterance.accept(upsampler.process(pcm) if upsampler else pcm):
        return utterance.result()
    return None


async def _listen(
    turn: Turn, engine: Engine, reader: asyncio.StreamReader, parser: proto.AudioSocketParser
) -> Recognition | None:
    """Recognize until a decision; None for no decision, any error included (logged once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + turn.timeout_s + WALL_CLOCK_GRACE_S
    audio_left = int(turn.timeout_s * 8000) * 2  # bytes of 8 kHz audio still to listen to
    try:
        utterance = await asyncio.to_thread(engine.utterance, turn.grammar)
        upsampler = Upsampler2x() if engine.sample_rate == 16000 else None
        pending = bytearray()
        while audio_left > 0:
            try:
                event = await asyncio.wait_for(_next_event(reader, parser), max(deadline - loop.time(), 0))
            except TimeoutError:
                log.info("speech turn ran out of wall-clock time", who=turn.label)
                break
            if event is None or isinstance(event, proto.Hangup):
                return None  # the stream ended: the caller hung up, or Asterisk ended it
            if isinstance(event, proto.Dtmf):
                return Recognition(event.digit, event.digit, 1.0, "dtmf")
            if isinstance(event, proto.ErrorFrame):
                log.warning("asterisk reported an audiosocket error", code=event.code, who=turn.label)
                return None
            if isinstance(event, proto.Audio):
                if event.rate != 8000:
                    log.warning("audiosocket audio at an unexpected rate", rate=event.rate, who=turn.label)
                    return None
                pending += event.pcm
                audio_left -= len(event.pcm)
                if len(pending) >= FEED_BYTES:
                    chunk, pending = bytes(pending), bytearray()
                    ended = await asyncio.to_thread(_feed, utterance, upsampler, chunk)
                    if ended is not None and heard_anything(ended):
                        # The caller spoke and paused: decide now rather than make them wait.
                        return _decide(turn, ended)
            # A repeated stream id carries nothing: ignored.
        if pending:
            ended = await asyncio.to_thread(_feed, utterance, upsampler, bytes(pending))
            if ended is not None and heard_anything(ended):
                return _decide(turn, ended)
        return _decide(turn, await asyncio.to_thread(utterance.final_result))
    except (proto.AudioSocketProtocolError, ConnectionError) as exc:
        log.warning("audiosocket stream broken", reason=str(exc), who=turn.label)
        return None
    except Exception as exc:  # the recognizer failed: the menu must still work with keys
        log.error("speech recognizer failed", error=repr(exc), who=turn.label)
        return None


def _decide(turn: Turn, result: str) -> Recognition | None:
    recognition = turn.grammar.match(result, turn.min_confidence)
    if recognition is None:
        near = turn.grammar.best(result)
        log.info(
            "speech not understood",
            who=turn.label,
            best=near.phrase if near else None,
            confidence=round(near.confidence, 3) if near else None,
        )
    return recognition
