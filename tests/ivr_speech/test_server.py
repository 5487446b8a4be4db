"""The AudioSocket server over real TCP, with a scripted recognizer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ivr.speech import audiosocket as proto
from ivr.speech.grammar import MenuGrammar, Recognition
from ivr.speech.server import AudioSocketServer, Turn

from .asterisk_double import SILENCE, AudioSocketCall, run_audiosocket
from .conftest import RaisingEngine, ScriptedEngine, vosk_json

pytestmark = pytest.mark.timeout(20)
MENU = MenuGrammar({"informasi": "1", "pengaduan": "2"})


@pytest.fixture
async def serve() -> AsyncIterator[Any]:
    servers: list[AudioSocketServer] = []

    async def start(engine: Any) -> AudioSocketServer:
        server = AudioSocketServer(engine, "127.0.0.1", 0)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


async def one_turn(
    server: AudioSocketServer, call: AudioSocketCall, timeout_s: float = 4.0
) -> Recognition | None:
    turn = Turn(MENU, timeout_s, 0.6, label="test/1")
    server.expect(turn)
    code = await run_audiosocket(f"127.0.0.1:{server.port}", str(turn.stream), call)
    assert code == 0
    assert turn.connected.is_set()
    assert turn.done.done(), "the turn must be settled before Asterisk is told to hang up"
    server.forget(turn)
    return turn.done.result()


async def test_phrase_at_an_endpoint_ends_the_turn_early(serve: Any) -> None:
    engine = ScriptedEngine(endpoint_after=32000, endpoint_result=vosk_json(("pengaduan", 0.9)))
    server = await serve(engine)
    call = AudioSocketCall()
    assert await one_turn(server, call) == Recognition("2", "pengaduan", 0.9, "speech")
    assert call.hangup_received
    # 32000 bytes at 16 kHz is 1 s: the turn ended there, not after the 4 s it could take.
    assert engine.utterances[0].received == 32000
    assert engine.grammars == [MENU]


async def test_audio_is_upsampled_for_a_16khz_model_and_not_for_8khz(serve: Any) -> None:
    for rate, factor in ((16000, 2), (8000, 1)):
        engine = ScriptedEngine(sample_rate=rate)
        server = await serve(engine)
        await one_turn(server, AudioSocketCall(trailing_silence_frames=50), timeout_s=1.0)
        assert engine.utterances[0].received == 50 * 320 * factor


async def test_low_confidence_endpoint_ends_the_turn_with_none(serve: Any) -> None:
    engine = ScriptedEngine(endpoint_after=6400, endpoint_result=vosk_json(("informasi", 0.3)))
    server = await serve(engine)
    call = AudioSocketCall()
    assert await one_turn(server, call) is None
    # The caller spoke: re-prompt now, not after the whole timeout.
    assert engine.utterances[0].received == 6400


async def test_silent_endpoint_keeps_listening_until_the_audio_time_is_up(serve: Any) -> None:
    engine = ScriptedEngine(endpoint_after=6400, final=vosk_json(("informasi", 0.8)))
    server = await serve(engine)
    call = AudioSocketCall()
    assert await one_turn(server, call, timeout_s=2.0) == Recognition("1", "informasi", 0.8, "speech")
    assert engine.utterances[0].received == 2 * 16000 * 2  # exactly 2 s of audio, upsampled


async def test_key_pressed_while_listening_is_returned_as_dtmf(serve: Any) -> None:
    server = await serve(ScriptedEngine())
    call = AudioSocketCall(messages=[proto.encode_audio(SILENCE)] * 5 + [proto.encode_dtmf("3")])
    assert await one_turn(server, call) == Recognition("3", "3", 1.0, "dtmf")


async def test_error_frame_ends_the_turn_with_none(serve: Any) -> None:
    server = await serve(ScriptedEngine())
    assert await one_turn(server, AudioSocketCall(messages=[proto.encode_error(1)])) is None


@pytest.mark.parametrize("at", ["create", "accept"])
async def test_recognizer_raising_gives_none_and_the_server_lives_on(serve: Any, at: str) -> None:
    server = await serve(RaisingEngine(at))
    assert await one_turn(server, AudioSocketCall()) is None
    assert await one_turn(server, AudioSocketCall()) is None
    assert server.running


async def test_unknown_stream_is_hung_up_at_once(serve: Any) -> None:
    server = await serve(ScriptedEngine())
    call = AudioSocketCall()
    assert await run_audiosocket(f"127.0.0.1:{server.port}", str(uuid.uuid4()), call) == 0
    assert call.hangup_received


async def test_a_forgotten_turn_takes_no_audio(serve: Any) -> None:
    engine = ScriptedEngine()
    server = await serve(engine)
    turn = Turn(MENU, 4.0, 0.6)
    server.expect(turn)
    server.forget(turn)
    call = AudioSocketCall()
    await run_audiosocket(f"127.0.0.1:{server.port}", str(turn.stream), call)
    assert call.hangup_received and engine.utterances == []
    assert turn.done.result() is None


async def raw_turn(server: AudioSocketServer, payload: bytes, close: bool = True) -> tuple[Turn, bytes]:
    turn = Turn(MENU, 4.0, 0.6)
    server.expect(turn)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(payload(turn) if callable(payload) else payload)
    await writer.drain()
    if close:
        writer.write_eof()
        received = await asyncio.wait_for(reader.read(), 5)
    else:  # as Asterisk does: read the server's hangup message, then close
        received = await asyncio.wait_for(reader.readexactly(3), 5)
    writer.close()
    await writer.wait_closed()
    return turn, received


async def test_peer_that_disconnects_mid_frame_settles_the_turn(serve: Any) -> None:
    server = await serve(ScriptedEngine())

    def payload(turn: Turn) -> bytes:
        return (
            proto.encode_uuid(turn.stream) + proto.encode_audio(SILENCE) * 3 + b"\x10\x01\x40" + SILENCE[:77]
        )

    turn, _ = await raw_turn(server, payload)  # type: ignore[arg-type]
    assert await asyncio.wait_for(turn.done, 5) is None


async def test_peer_that_disconnects_between_frames_settles_the_turn(serve: Any) -> None:
    server = await serve(ScriptedEngine(final=vosk_json(("informasi", 0.99))))

    def payload(turn: Turn) -> bytes:
        return proto.encode_uuid(turn.stream) + proto.encode_audio(SILENCE) * 3

    turn, _ = await raw_turn(server, payload)  # type: ignore[arg-type]
    # The caller hung up: nothing is decided for a call that is gone.
    assert await asyncio.wait_for(turn.done, 5) is None


@pytest.mark.parametrize(
    "first",
    [b"\x10\x01\x40" + SILENCE, b"\x10\xff\xff", b"\x02\x00\x00", b""],
    ids=["audio-before-uuid", "oversized", "unknown-kind", "nothing"],
)
async def test_a_stream_that_does_not_start_with_its_uuid_is_closed(serve: Any, first: bytes) -> None:
    server = await serve(ScriptedEngine())
    turn, received = await raw_turn(server, first)
    assert received == b""
    assert not turn.connected.is_set() and not turn.done.done()


async def test_oversized_message_mid_stream_settles_with_none(serve: Any) -> None:
    server = await serve(ScriptedEngine())

    def payload(turn: Turn) -> bytes:
        return proto.encode_uuid(turn.stream) + proto.encode_audio(SILENCE) + b"\x10\xff\xff"

    turn, received = await raw_turn(server, payload, close=False)  # type: ignore[arg-type]
    assert turn.done.result() is None
    assert received == proto.encode_hangup()


async def test_stop_settles_waiting_turns_and_cuts_live_streams(serve: Any) -> None:
    server = await serve(ScriptedEngine())
    waiting = Turn(MENU, 4.0, 0.6)
    server.expect(waiting)
    await server.stop()
    assert waiting.done.result() is None
    assert not server.running


async def test_a_stream_that_goes_quiet_is_decided_on_wall_clock_time(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ivr.speech.server.WALL_CLOCK_GRACE_S", 0.0)
    server = await serve(ScriptedEngine(final=vosk_json(("pengaduan", 0.9))))
    turn = Turn(MENU, 0.1, 0.6)
    server.expect(turn)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(proto.encode_uuid(turn.stream) + proto.encode_audio(SILENCE))  # then no more audio
    assert await asyncio.wait_for(reader.readexactly(3), 5) == proto.encode_hangup()
    writer.close()
    await writer.wait_closed()
    assert turn.done.result() == Recognition("2", "pengaduan", 0.9, "speech")
