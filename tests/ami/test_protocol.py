"""The AMI parser: tables of bytes -> messages, and every capture fed whole, chunked and byte by byte."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from hotline.ami.protocol import (
    MAX_FRAME_BYTES,
    AmiParser,
    Banner,
    Event,
    Garbage,
    Message,
    Response,
    encode_action,
    encode_message,
    parse_frame,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
CAPTURES = sorted(FIXTURES.glob("*/ami*.raw"))

B = b"Asterisk Call Manager/11.0.0\r\n"

CASES: list[tuple[str, bytes, list[object]]] = [
    ("banner 22.x", B, [Banner("11.0.0")]),
    ("banner 23.x", b"Asterisk Call Manager/12.0.0\r\n", [Banner("12.0.0")]),
    (
        "event",
        B + b"Event: Hangup\r\nUniqueid: 1.0\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n",
        [
            Banner("11.0.0"),
            Event(
                (("Event", "Hangup"), ("Uniqueid", "1.0"), ("Cause", "16"), ("Cause-txt", "Normal Clearing"))
            ),
        ],
    ),
    (
        "repeated keys kept in order",
        B + b"Event: VarSet\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n",
        [Banner("11.0.0"), Event((("Event", "VarSet"), ("Variable", "A=1"), ("Variable", "B=2")))],
    ),
    (
        "empty value, value with ': ' and a colon",
        B + b"Response: Error\r\nActionID: x\r\nAccountCode: \r\n"
        b"Message: Invalid: NoSuch. Use Action: List\r\n\r\n",
        [
            Banner("11.0.0"),
            Response(
                (
                    ("Response", "Error"),
                    ("ActionID", "x"),
                    ("AccountCode", ""),
                    ("Message", "Invalid: NoSuch. Use Action: List"),
                )
            ),
        ],
    ),
    (
        "OriginateResponse is an Event",
        B + b"Event: OriginateResponse\r\nActionID: o-1\r\nResponse: Success\r\nReason: 4\r\n\r\n",
        [
            Banner("11.0.0"),
            Event(
                (
                    ("Event", "OriginateResponse"),
                    ("ActionID", "o-1"),
                    ("Response", "Success"),
                    ("Reason", "4"),
                )
            ),
        ],
    ),
    (
        "Command output of Asterisk 22",
        B + b"Response: Success\r\nActionID: c\r\nMessage: Command output follows\r\n"
        b"Output: System uptime: 29 seconds\r\nOutput: Last reload: 29 seconds\r\n\r\n",
        [
            Banner("11.0.0"),
            Response(
                (
                    ("Response", "Success"),
                    ("ActionID", "c"),
                    ("Message", "Command output follows"),
                    ("Output", "System uptime: 29 seconds"),
                    ("Output", "Last reload: 29 seconds"),
                )
            ),
        ],
    ),
    (
        "legacy Response: Follows body read as Output lines",
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: c\r\n"
        b"uptime: 5 s\nreload: 5 s\n--END COMMAND--\r\n\r\n",
        [
            Response(
                (
                    ("Response", "Follows"),
                    ("Privilege", "Command"),
                    ("ActionID", "c"),
                    ("Output", "uptime: 5 s"),
                    ("Output", "reload: 5 s"),
                )
            )
        ],
    ),
    (
        "header without space after the colon",
        b"Event: X\r\nKey:value\r\nEmpty:\r\n\r\n",
        [Event((("Event", "X"), ("Key", "value"), ("Empty", "")))],
    ),
    (
        "Event not first",
        b"Privilege: call,all\r\nEvent: Newstate\r\n\r\n",
        [Event((("Privilege", "call,all"), ("Event", "Newstate")))],
    ),
    ("stray blank lines skipped", b"\r\n\r\nEvent: A\r\n\r\n\r\n\r\n", [Event((("Event", "A"),))]),
    (
        "garbage frame then resync",
        b"hello there\r\n\r\nEvent: A\r\n\r\n",
        [Garbage("frame has neither Event nor Response", 11), Event((("Event", "A"),))],
    ),
    ("no banner: data is frames", b"Event: A\r\n\r\n", [Event((("Event", "A"),))]),
    (
        "non-UTF-8 byte replaced, not dropped",
        b"Event: Newchannel\r\nCallerIDName: Budi \xff Santoso\r\n\r\n",
        [Event((("Event", "Newchannel"), ("CallerIDName", "Budi \ufffd Santoso")))],
    ),
    (
        "UTF-8 caller name",
        "Event: Newchannel\r\nCallerIDName: Śantoso Wibowo\r\n\r\n".encode(),
        [Event((("Event", "Newchannel"), ("CallerIDName", "Śantoso Wibowo")))],
    ),
]


def feed(data: bytes, sizes: list[int] | None = None) -> list[object]:
    """Feed ``data`` in chunks of the given sizes (whole when None), collecting every message."""
    parser = AmiParser()
    out: list[object] = []
    if sizes is None:
        return list(parser.messages(data))
    pos = 0
    for size in sizes:
        parser.receive_data(data[pos : pos + size])
        pos += size
        while (msg := parser.next_message()) is not None:
            out.append(msg)
    assert pos >= len(data)
    return out


def random_sizes(length: int, rng: random.Random, largest: int) -> list[int]:
    sizes = []
    total = 0
    while total < length:
        sizes.append(rng.randint(1, largest))
        total += sizes[-1]
    return sizes


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_table_whole_and_byte_by_byte(data: bytes, expected: list[object]) -> None:
    assert feed(data) == expected
    assert feed(data, [1] * len(data)) == expected


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_capture_chunkings_agree(path: Path) -> None:
    data = path.read_bytes()
    whole = feed(data)
    rng = random.Random(path.name)
    for largest in (7, 300, 5000):
        assert feed(data, random_sizes(len(data), rng, largest)) == whole
    assert feed(data, [1] * len(data)) == whole
    assert not any(isinstance(m, Garbage) for m in whole)
    assert whole[0] == Banner("11.0.0")


def readme_counts() -> dict[tuple[str, str], dict[str, int]]:
    """The 'Key AMI event counts' table of the fixtures README."""
    lines = [ln for ln in (FIXTURES / "README.md").read_text().splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[(cells[0], cells[1])] = {name: int(v) for name, v in zip(header[2:], cells[2:], strict=True)}
    return table


@pytest.mark.parametrize(("scenario", "file"), sorted(readme_counts()))
def test_event_counts_match_the_fixture_readme(scenario: str, file: str) -> None:
    expected = readme_counts()[(scenario, file)]
    events = [m for m in feed((FIXTURES / scenario / file).read_bytes()) if isinstance(m, Event)]
    names = Counter(e.name for e in events)
    assert len(events) == expected.pop("all events")
    assert {name: names[name] for name in expected} == expected


def test_utf8_character_split_across_reads_is_kept() -> None:
    data = "Event: Newchannel\r\nCallerIDName: Śantoso\r\n\r\n".encode()
    cut = data.index("Ś".encode()) + 1  # inside the two-byte character
    parser = AmiParser(expect_banner=False)
    assert parser.messages(data[:cut]) == []
    [event] = parser.messages(data[cut:])
    assert isinstance(event, Event)
    assert event["CallerIDName"] == "Śantoso"


def test_megabyte_line_is_garbage_then_the_stream_resyncs() -> None:
    parser = AmiParser(expect_banner=False)
    huge = b"Event: Big\r\nVariable: " + b"x" * (MAX_FRAME_BYTES + 10)
    out = []
    for i in range(0, len(huge), 65536):
        out += parser.messages(huge[i : i + 65536])
    assert len(out) == 1 and isinstance(out[0], Garbage)
    assert parser.buffered <= 3  # the oversized frame is not kept in memory
    out = parser.messages(b"yyy\r\n\r\nEvent: After\r\n\r\n")
    assert out == [Event((("Event", "After"),))]


def test_complete_oversized_frame_in_one_read_is_garbage() -> None:
    parser = AmiParser(expect_banner=False, max_frame=100)
    data = b"Event: A\r\n\r\nEvent: Big\r\nX: " + b"x" * 200 + b"\r\n\r\nEvent: C\r\n\r\n"
    out = parser.messages(data)
    assert [type(m) for m in out] == [Event, Garbage, Event]
    assert [m.name for m in out if isinstance(m, Event)] == ["A", "C"]


def test_banner_never_terminated_is_garbage() -> None:
    parser = AmiParser(max_frame=50)
    [garbage] = parser.messages(b"x" * 60)
    assert isinstance(garbage, Garbage)
    assert parser.messages(b"\r\n\r\nEvent: A\r\n\r\n") == [Event((("Event", "A"),))]


def test_message_accessors() -> None:
    [event] = AmiParser(expect_banner=False).messages(
        b"Event: VarSet\r\nActionID: a1\r\nVariable: A=1\r\nVariable: B=2\r\nCallerIDnum: 0812\r\n\r\n"
    )
    assert isinstance(event, Event)
    assert event.name == "VarSet"
    assert event.get("variable") == "A=1"
    assert event.get_all("VARIABLE") == ["A=1", "B=2"]
    assert event["CallerIDNum"] == "0812"  # Asterisk's CEL spells it CallerIDnum
    assert "callerIDNUM" in event and "Missing" not in event and 3 not in event
    assert event.get("Missing") is None and event.get("Missing", "d") == "d"
    with pytest.raises(KeyError):
        event["Missing"]
    assert event.action_id == "a1" and event.is_list_item and not event.is_list_complete
    assert event.as_dict() == {"Event": "VarSet", "ActionID": "a1", "Variable": "A=1", "CallerIDnum": "0812"}
    assert list(event.as_dict()) == ["Event", "ActionID", "Variable", "CallerIDnum"]
    [plain] = AmiParser(expect_banner=False).messages(b"Event: Hangup\r\nUniqueid: 1.0\r\nCause: 16\r\n\r\n")
    assert isinstance(plain, Event)
    assert list(plain.as_dict().items()) == [("Event", "Hangup"), ("Uniqueid", "1.0"), ("Cause", "16")]
    assert event == Event(event.headers) and hash(event) == hash(Event(event.headers))
    assert event != Message(event.headers)
    assert "VarSet" in repr(event)


def test_response_accessors() -> None:
    ok = Response((("Response", "Success"), ("EventList", "start"), ("Message", "Queue status will follow")))
    assert ok.ok and ok.starts_list and ok.status == "Success" and ok.message == "Queue status will follow"
    error = parse_frame(b"Response: Error\r\nMessage: Authentication failed")
    assert isinstance(error, Response) and not error.ok and error.message == "Authentication failed"
    assert Response((("Response", "Goodbye"),)).ok
    complete = Event((("Event", "QueueStatusComplete"), ("EventList", "Complete"), ("ListItems", "13")))
    assert complete.is_list_complete


def test_event_needs_an_event_header() -> None:
    with pytest.raises(ValueError, match="Event header"):
        Event((("Response", "Success"),))


def test_parse_frame_edge_cases() -> None:
    assert parse_frame(b"") == Garbage("empty frame", 0)
    assert parse_frame(b"Event: A") == Event((("Event", "A"),))
    assert isinstance(parse_frame(b"just text"), Garbage)


def test_encode_action_and_message() -> None:
    fields: dict[str, str | int | bool] = {"Queue": "cc-informasi", "Paused": True, "Penalty": 0}
    data = encode_action("QueuePause", "p-1", fields)
    assert data == (
        b"Action: QueuePause\r\nActionID: p-1\r\nQueue: cc-informasi\r\nPaused: true\r\nPenalty: 0\r\n\r\n"
    )
    repeated = encode_action("Originate", "o", [("Variable", "A=1"), ("Variable", "B=Śan")])
    assert repeated.endswith("Variable: A=1\r\nVariable: B=Śan\r\n\r\n".encode())
    with pytest.raises(ValueError, match="CR or LF"):
        encode_action("Ping", "x", {"Bad": "a\r\nAction: Hangup"})
    pairs = (("Event", "Hangup"), ("Uniqueid", "1.0"))
    assert AmiParser(expect_banner=False).messages(encode_message(pairs)) == [Event(pairs)]


def test_next_message_pulls_one_at_a_time(kit: ModuleType) -> None:
    parser = AmiParser()
    parser.receive_data(B + kit.frame(("Event", "A")) + kit.frame(("Event", "B")) + b"Event: C\r\n")
    assert parser.next_message() == Banner("11.0.0")
    assert parser.next_message() == Event((("Event", "A"),))
    assert parser.next_message() == Event((("Event", "B"),))
    assert parser.next_message() is None
    parser.receive_data(b"\r\n")
    assert parser.next_message() == Event((("Event", "C"),))
