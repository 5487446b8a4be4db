"""AmiLink on its own: messages in order, the end only after them, reading paused and resumed."""

from __future__ import annotations

import asyncio
from types import ModuleType

import pytest

from hotline.ami.link import AmiLink
from hotline.ami.protocol import AmiMessage, AmiParser, Banner, Event


class FakeTransport(asyncio.Transport):
    """Records what the link asks of its transport."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.written = b""
        self.closing = False

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


def _connected(**limits: int) -> tuple[AmiLink, FakeTransport]:
    link, transport = AmiLink(**limits), FakeTransport()
    link.connection_made(transport)
    return link, transport


def _events(raw: bytes) -> list[Event]:
    return [m for m in AmiParser().messages(raw) if isinstance(m, Event)]


async def _take_all(link: AmiLink) -> list[AmiMessage]:
    taken: list[AmiMessage] = []
    while (batch := await link.next_batch()) is not None:
        taken.extend(batch)
    return taken


@pytest.mark.parametrize("step", [1, 7, 4096, 1 << 20])
async def test_the_banner_is_the_greeting_and_every_event_follows_in_order(
    kit: ModuleType, step: int
) -> None:
    raw = kit.fixture_bytes("abandon")
    link, _ = _connected()
    for start in range(0, len(raw), step):
        link.data_received(raw[start : start + step])
    link.connection_lost(None)
    greeting = await link.greeting
    assert isinstance(greeting, Banner) and greeting.version == "11.0.0"
    assert await _take_all(link) == AmiParser().messages(raw)[1:]
    assert link.error is None and link.backlog == 0


async def test_a_reset_is_reported_only_after_every_message_received_before_it(kit: ModuleType) -> None:
    raw = kit.fixture_bytes("answered-hold")
    link, _ = _connected()
    link.data_received(raw[:30_000])
    link.data_received(raw[30_000:])
    reset = ConnectionResetError(104, "Connection reset by peer")
    link.connection_lost(reset)
    assert link.error is reset
    messages = await _take_all(link)
    assert [m for m in messages if isinstance(m, Event)] == _events(raw)
    assert await link.next_batch() is None  # and it stays at the end


async def test_a_connection_that_ends_before_a_whole_banner_has_no_greeting() -> None:
    link, _ = _connected()
    link.data_received(b"Asterisk Call Man")
    link.connection_lost(ConnectionResetError())
    assert await link.greeting is None
    assert await link.next_batch() is None
    assert link.parser.buffered == len(b"Asterisk Call Man")


async def test_reading_pauses_when_the_reader_falls_behind_and_resumes_when_it_catches_up(
    kit: ModuleType,
) -> None:
    frame = kit.frame(("Event", "Newstate"), ("Uniqueid", "1.1"))
    link, transport = _connected(pause_at=10, resume_at=4)
    link.data_received(b"Asterisk Call Manager/11.0.0\r\n")
    for _ in range(3):
        link.data_received(frame * 3)  # 9 waiting: below pause_at
    assert transport.calls == []
    link.data_received(frame * 3)  # 12 waiting
    link.data_received(frame)  # 13: still paused once, not twice
    assert transport.calls == ["pause"] and link.reading_paused
    for left in (10, 7):
        assert len(await link.next_batch() or []) == 3
        assert link.backlog == left and transport.calls == ["pause"]
    await link.next_batch()
    assert link.backlog == 4 and transport.calls == ["pause", "resume"] and not link.reading_paused


async def test_the_reader_waits_for_data_and_is_woken_by_it(kit: ModuleType) -> None:
    link, _ = _connected()
    link.data_received(b"Asterisk Call Manager/11.0.0\r\n")
    waiting = asyncio.ensure_future(link.next_batch())
    await asyncio.sleep(0)
    assert not waiting.done()
    link.data_received(kit.frame(("Event", "Hangup")))
    [hangup] = await asyncio.wait_for(waiting, 1) or []
    assert isinstance(hangup, Event) and hangup.name == "Hangup"


async def test_drain_waits_while_writing_is_paused_and_fails_once_lost() -> None:
    link, transport = _connected()
    link.write(b"Action: Ping\r\n\r\n")
    assert transport.written == b"Action: Ping\r\n\r\n"
    await asyncio.wait_for(link.drain(), 1)  # not paused: returns at once
    link.pause_writing()
    draining = asyncio.ensure_future(link.drain())
    await asyncio.sleep(0)
    assert not draining.done()
    link.resume_writing()
    await asyncio.wait_for(draining, 1)
    link.pause_writing()
    draining = asyncio.ensure_future(link.drain())
    await asyncio.sleep(0)
    link.connection_lost(BrokenPipeError())
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(draining, 1)
    with pytest.raises(ConnectionResetError):
        link.write(b"Action: Ping\r\n\r\n")


async def test_limits_must_leave_room_to_resume() -> None:
    with pytest.raises(ValueError, match="resume_at"):
        AmiLink(pause_at=5, resume_at=5)
