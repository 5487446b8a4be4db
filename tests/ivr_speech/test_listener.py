"""MenuListener: what a menu sees. Every failure is None, so the menu asks for a key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hotline.agi.errors import AgiCommandError, AgiHangup
from hotline.agi.events import AgiReply
from hotline.config import SpeechConfig
from ivr.speech import MenuListener, Recognition
from ivr.speech.listener import PAUSE_AFTER_PBX_FAILURE_S

from .asterisk_double import AudioSocketCall, FakeSession
from .conftest import RaisingEngine, ScriptedEngine, vosk_json

pytestmark = pytest.mark.timeout(20)
WORDS = {"informasi": "1", "pengaduan": "2"}
ON = SpeechConfig(enabled=True, audiosocket_port=0, listen_timeout_s=2.0)


@pytest.fixture
async def listeners() -> AsyncIterator[Any]:
    started: list[MenuListener] = []

    async def make(config: SpeechConfig = ON, engine: Any = None) -> MenuListener:
        listener = MenuListener(config, engine)
        await listener.start()
        started.append(listener)
        return listener

    yield make
    for listener in started:
        await listener.stop()


async def test_speech_heard_returns_the_menu_key(listeners: Any) -> None:
    engine = ScriptedEngine(endpoint_after=16000, endpoint_result=vosk_json(("pengaduan", 0.95)))
    listener = await listeners(engine=engine)
    session = FakeSession()
    assert await listener.listen(session, WORDS) == Recognition("2", "pengaduan", 0.95, "speech")
    [(app, (stream, address))] = session.execs
    assert app == "AudioSocket"
    assert address == listener.address and address.startswith("127.0.0.1:")
    assert len(str(stream)) == 36  # the string form of a UUID, as AudioSocket() requires


async def test_each_turn_gets_its_own_stream(listeners: Any) -> None:
    listener = await listeners(engine=ScriptedEngine())
    session = FakeSession(call=AudioSocketCall(trailing_silence_frames=10))
    await listener.listen(session, WORDS, timeout_s=0.2)
    await listener.listen(session, WORDS, timeout_s=0.2)
    assert session.execs[0][1][0] != session.execs[1][1][0]


async def test_low_confidence_is_none(listeners: Any) -> None:
    engine = ScriptedEngine(endpoint_after=16000, endpoint_result=vosk_json(("pengaduan", 0.59)))
    listener = await listeners(engine=engine)
    assert await listener.listen(FakeSession(), WORDS) is None


async def test_min_confidence_is_configurable(listeners: Any) -> None:
    engine = ScriptedEngine(endpoint_after=16000, endpoint_result=vosk_json(("pengaduan", 0.59)))
    listener = await listeners(SpeechConfig(enabled=True, audiosocket_port=0, min_confidence=0.5), engine)
    assert await listener.listen(FakeSession(), WORDS) == Recognition("2", "pengaduan", 0.59, "speech")


async def test_recognizer_raising_is_none(listeners: Any) -> None:
    listener = await listeners(engine=RaisingEngine())
    assert await listener.listen(FakeSession(), WORDS) is None
    assert listener.available


@pytest.mark.parametrize(
    "config",
    [
        SpeechConfig(),  # off
        SpeechConfig(enabled=True, audiosocket_port=0),  # on, but no model_path
        SpeechConfig(enabled=True, audiosocket_port=0, model_path="/nonexistent/model"),
        SpeechConfig(enabled=True, audiosocket_port=0, model_path="x", audiosocket_address="no-port"),
    ],
    ids=["disabled", "no-model", "missing-model", "bad-address"],
)
async def test_without_a_usable_model_listen_is_none_without_asking_asterisk(
    listeners: Any, config: SpeechConfig
) -> None:
    listener = await listeners(config)
    session = FakeSession()
    assert not listener.available
    assert await listener.listen(session, WORDS) is None
    assert session.execs == []


async def test_a_listener_never_started_is_none() -> None:
    session = FakeSession()
    assert await MenuListener(ON, ScriptedEngine()).listen(session, WORDS) is None
    assert session.execs == []


async def test_port_in_use_leaves_speech_off(listeners: Any) -> None:
    first = await listeners(engine=ScriptedEngine())
    port = int(first.address.rpartition(":")[2])
    second = await listeners(SpeechConfig(enabled=True, audiosocket_port=port), ScriptedEngine())
    assert not second.available


@pytest.mark.parametrize("code", [-1, -2])
async def test_asterisk_that_cannot_connect_pauses_speech(listeners: Any, code: int) -> None:
    listener = await listeners(engine=ScriptedEngine())
    session = FakeSession(exec_result=code)
    assert await listener.listen(session, WORDS) is None
    assert not listener.available
    # Following turns do not even ask Asterisk, for PAUSE_AFTER_PBX_FAILURE_S.
    assert await listener.listen(session, WORDS) is None
    assert len(session.execs) == 1
    assert PAUSE_AFTER_PBX_FAILURE_S >= 10


async def test_asterisk_refusing_the_command_is_none(listeners: Any) -> None:
    listener = await listeners(engine=ScriptedEngine())

    class Refusing(FakeSession):
        async def exec_(self, app: str, *args: str | int, reply_timeout: float | None = None) -> int:
            raise AgiCommandError("EXEC", AgiReply(code=510, text="Invalid or unknown command"))

    assert await listener.listen(Refusing(), WORDS) is None


async def test_hangup_propagates_like_any_agi_command(listeners: Any) -> None:
    listener = await listeners(engine=ScriptedEngine())

    class HungUp(FakeSession):
        async def exec_(self, app: str, *args: str | int, reply_timeout: float | None = None) -> int:
            raise AgiHangup("EXEC answered -1")

    with pytest.raises(AgiHangup):
        await listener.listen(HungUp(), WORDS)


async def test_bad_menu_words_are_a_clear_error(listeners: Any) -> None:
    listener = await listeners(engine=ScriptedEngine())
    with pytest.raises(ValueError, match="at least one phrase"):
        await listener.listen(FakeSession(), {})


def test_address_honours_the_configured_one() -> None:
    assert MenuListener(SpeechConfig(audiosocket_address="10.0.0.5:9019")).address == "10.0.0.5:9019"
    assert MenuListener(SpeechConfig(audiosocket_host="::1", audiosocket_port=9019)).address == "[::1]:9019"
