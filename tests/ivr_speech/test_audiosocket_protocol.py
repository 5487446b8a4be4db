"""AudioSocket messages as Asterisk 22 writes them, fed whole and one byte at a time."""

from __future__ import annotations

import uuid

import pytest

from ivr.speech import audiosocket as proto

STREAM = uuid.UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
FRAME = bytes(range(256)) + bytes(64)  # 320 bytes: one 20 ms frame at 8 kHz

VALID = [
    # (bytes on the wire, events)
    (b"\x00\x00\x00", [proto.Hangup()]),
    (b"\x01\x00\x10" + STREAM.bytes, [proto.StreamId(STREAM)]),
    (b"\x03\x00\x01" + b"5", [proto.Dtmf("5")]),
    (b"\x03\x00\x01#", [proto.Dtmf("#")]),
    (b"\x10\x01\x40" + FRAME, [proto.Audio(FRAME, 8000)]),
    (b"\x12\x00\x02\x01\x02", [proto.Audio(b"\x01\x02", 16000)]),
    (b"\x18\x00\x02\xff\x7f", [proto.Audio(b"\xff\x7f", 192000)]),
    (b"\xff\x00\x00", [proto.ErrorFrame(None)]),
    (b"\xff\x00\x01\x02", [proto.ErrorFrame(2)]),
    # A hangup with a payload is still a hangup; the payload is skipped, not misread.
    (b"\x00\x00\x02ab" + b"\x00\x00\x00", [proto.Hangup(), proto.Hangup()]),
    # What Asterisk sends for a stream: the UUID, audio, a key, more audio.
    (
        b"\x01\x00\x10" + STREAM.bytes + b"\x10\x01\x40" + FRAME + b"\x03\x00\x011" + b"\x10\x01\x40" + FRAME,
        [proto.StreamId(STREAM), proto.Audio(FRAME), proto.Dtmf("1"), proto.Audio(FRAME)],
    ),
]

INVALID = [
    (b"\x01\x00\x0f" + STREAM.bytes[:15], "UUID message of 15 bytes"),
    (b"\x03\x00\x02" + b"12", "not one key"),
    (b"\x03\x00\x01x", "not one key"),
    (b"\x10\x00\x00", "not whole 16-bit samples"),
    (b"\x10\x00\x03abc", "not whole 16-bit samples"),
    (b"\x02\x00\x00", "unknown message kind 0x02"),
    (b"\x20\x00\x00", "unknown message kind 0x20"),
]


def parse(data: bytes, step: int | None = None) -> list[proto.Event]:
    parser = proto.AudioSocketParser()
    events: list[proto.Event] = []
    chunks = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for chunk in chunks:
        parser.receive_data(chunk)
        while (event := parser.next_event()) is not proto.NEED_DATA:
            assert not isinstance(event, proto.NeedData)
            events.append(event)
    assert parser.buffered == 0
    return events


@pytest.mark.parametrize(("wire", "expected"), VALID)
def test_valid_messages_whole(wire: bytes, expected: list[proto.Event]) -> None:
    assert parse(wire) == expected


@pytest.mark.parametrize(("wire", "expected"), VALID)
def test_valid_messages_byte_by_byte(wire: bytes, expected: list[proto.Event]) -> None:
    assert parse(wire, step=1) == expected


@pytest.mark.parametrize(("wire", "reason"), INVALID)
@pytest.mark.parametrize("step", [None, 1])
def test_invalid_messages_are_refused(wire: bytes, reason: str, step: int | None) -> None:
    with pytest.raises(proto.AudioSocketProtocolError, match=reason):
        parse(wire, step)


def test_oversized_length_is_refused_before_the_payload_arrives() -> None:
    parser = proto.AudioSocketParser(max_payload=1024)
    parser.receive_data(b"\x10\x04\x01")  # 1025 bytes announced, none sent
    with pytest.raises(proto.AudioSocketProtocolError, match="1025 bytes is over the 1024-byte limit"):
        parser.next_event()


def test_default_limit_takes_the_largest_asterisk_frame_but_not_64k() -> None:
    largest = 192000 * 2 // 50  # 20 ms at 192 kHz
    assert parse(b"\x18" + largest.to_bytes(2, "big") + bytes(largest)) == [
        proto.Audio(bytes(largest), 192000)
    ]
    parser = proto.AudioSocketParser()
    parser.receive_data(b"\x10\xff\xff")
    with pytest.raises(proto.AudioSocketProtocolError, match="65535 bytes"):
        parser.next_event()


def test_nothing_is_parsed_after_a_failure() -> None:
    parser = proto.AudioSocketParser()
    parser.receive_data(b"\x02\x00\x00" + b"\x00\x00\x00")
    with pytest.raises(proto.AudioSocketProtocolError):
        parser.next_event()
    with pytest.raises(proto.AudioSocketProtocolError, match="after the stream failed"):
        parser.next_event()


def test_a_cut_message_stays_buffered() -> None:
    parser = proto.AudioSocketParser()
    parser.receive_data(b"\x10\x01\x40" + FRAME[:100])
    assert parser.next_event() is proto.NEED_DATA
    assert parser.buffered == 103


@pytest.mark.parametrize(
    ("encoded", "event"),
    [
        (proto.encode_hangup(), proto.Hangup()),
        (proto.encode_uuid(STREAM), proto.StreamId(STREAM)),
        (proto.encode_dtmf("*"), proto.Dtmf("*")),
        (proto.encode_audio(FRAME), proto.Audio(FRAME, 8000)),
        (proto.encode_audio(b"\x00\x01", 48000), proto.Audio(b"\x00\x01", 48000)),
        (proto.encode_error(4), proto.ErrorFrame(4)),
        (proto.encode_error(), proto.ErrorFrame(None)),
    ],
)
def test_encoders_round_trip(encoded: bytes, event: proto.Event) -> None:
    assert parse(encoded) == [event]


def test_hangup_is_three_zero_bytes() -> None:
    assert proto.encode_hangup() == b"\x00\x00\x00"


def test_encoders_refuse_what_the_wire_cannot_carry() -> None:
    with pytest.raises(ValueError, match="16-bit length"):
        proto.encode_audio(bytes(70000))
    with pytest.raises(ValueError, match="no audio kind for 11025 Hz"):
        proto.encode_audio(b"\x00\x00", 11025)
    with pytest.raises(ValueError, match="not one DTMF key"):
        proto.encode_dtmf("12")
