"""The sans-IO FastAGI parser: tables of bytes -> events, fed whole and one byte at a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotline.agi import (
    AgiEnvironment,
    AgiParser,
    AgiProtocolError,
    AgiReply,
    ConnectionClosed,
    HangupNotice,
)
from hotline.agi.events import AgiEvent
from hotline.agi.protocol import MAX_LINE_BYTES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
ENV = b"agi_network: yes\nagi_network_script: ivr/main\nagi_uniqueid: 1.0\n\n"
ENV_EVENT = AgiEnvironment({"agi_network": "yes", "agi_network_script": "ivr/main", "agi_uniqueid": "1.0"})

USAGE_BLOCK = (
    b"520-Invalid command syntax.  Proper usage follows:\n"
    b" Usage: GET DATA <file to be streamed> [timeout] [maxdigits]\n"
    b"\n"
    b"Stream the given file, and receive DTMF data.\n"
    b"520 End of proper usage.\n"
)
USAGE_TEXT = (
    " Usage: GET DATA <file to be streamed> [timeout] [maxdigits]\n"
    "\n"
    "Stream the given file, and receive DTMF data."
)


def events_of(data: bytes, *, bytewise: bool) -> list[AgiEvent]:
    parser = AgiParser()
    out: list[AgiEvent] = []
    chunks = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    for chunk in [*chunks, b""]:
        parser.receive_data(chunk)
        while (event := parser.next_event()) is not None:
            out.append(event)
            if isinstance(event, ConnectionClosed):
                return out
    return out


TABLE: list[tuple[str, bytes, list[AgiEvent]]] = [
    ("environment only", ENV, [ENV_EVENT, ConnectionClosed()]),
    (
        "stream file reply",
        ENV + b"200 result=0 endpos=3404\n",
        [
            ENV_EVENT,
            AgiReply(200, "0", None, {"endpos": "3404"}, text="result=0 endpos=3404"),
            ConnectionClosed(),
        ],
    ),
    (
        "get data timeout with no digit",
        ENV + b"200 result= (timeout)\n",
        [ENV_EVENT, AgiReply(200, "", "timeout", {}, text="result= (timeout)"), ConnectionClosed()],
    ),
    (
        "reply, then HANGUP, then the next reply (agi-hangup fixture order)",
        ENV + b"200 result=-1\nHANGUP\n200 result=1\n",
        [
            ENV_EVENT,
            AgiReply(200, "-1", text="result=-1"),
            HangupNotice(),
            AgiReply(200, "1", text="result=1"),
            ConnectionClosed(),
        ],
    ),
    (
        "HANGUP before the reply",
        ENV + b"HANGUP\n200 result=1\n",
        [ENV_EVENT, HangupNotice(), AgiReply(200, "1", text="result=1"), ConnectionClosed()],
    ),
    (
        "510",
        ENV + b"510 Invalid or unknown command\n",
        [ENV_EVENT, AgiReply(510, text="Invalid or unknown command"), ConnectionClosed()],
    ),
    (
        "511",
        ENV + b"511 Command Not Permitted on a dead channel or intercept routine\n",
        [
            ENV_EVENT,
            AgiReply(511, text="Command Not Permitted on a dead channel or intercept routine"),
            ConnectionClosed(),
        ],
    ),
    (
        "520 usage block is one reply",
        ENV + USAGE_BLOCK + b"200 result=1\n",
        [
            ENV_EVENT,
            AgiReply(520, usage=USAGE_TEXT, text="Invalid command syntax.  Proper usage follows:"),
            AgiReply(200, "1", text="result=1"),
            ConnectionClosed(),
        ],
    ),
    (
        "CRLF line ends are tolerated",
        ENV.replace(b"\n", b"\r\n") + b"200 result=1 (value)\r\n",
        [ENV_EVENT, AgiReply(200, "1", "value", text="result=1 (value)"), ConnectionClosed()],
    ),
]


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize(("name", "data", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_bytes_to_events(name: str, data: bytes, expected: list[AgiEvent], bytewise: bool) -> None:
    assert events_of(data, bytewise=bytewise) == expected


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*/agi/*.jsonl")), ids=lambda p: p.parent.parent.name)
def test_real_asterisk_stream_parses(path: Path, bytewise: bool) -> None:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    data = "".join(r["data"] for r in records if r["dir"] == "asterisk").encode("utf-8")
    events = events_of(data, bytewise=bytewise)
    env = events[0]
    assert isinstance(env, AgiEnvironment)
    assert env.script == "ivr/main"
    assert env.version == "22.10.1"
    assert env.raw["agi_accountcode"] == ""
    replies = [e for e in events if isinstance(e, AgiReply)]
    assert len(replies) == sum(1 for r in records if r["dir"] == "app")
    assert replies[0].extras["endpos"].isdigit()
    assert events[-1] == ConnectionClosed()
    assert (HangupNotice() in events) == (path.parent.parent.name == "agi-hangup")


def test_utf8_name_cut_between_reads_is_kept() -> None:
    data = "agi_calleridname: Śantoso Wibowo\nagi_network_script: ivr/main\n\n".encode()
    cut = data.index("Ś".encode()) + 1  # inside the two-byte character
    parser = AgiParser()
    parser.receive_data(data[:cut])
    assert parser.next_event() is None
    parser.receive_data(data[cut:])
    env = parser.next_event()
    assert isinstance(env, AgiEnvironment)
    assert env.calleridname == "Śantoso Wibowo"


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    parser = AgiParser()
    parser.receive_data(b"agi_calleridname: Bad\xff\xfeName\nagi_network_script: ivr/main\n\n")
    env = parser.next_event()
    assert isinstance(env, AgiEnvironment)
    assert env.calleridname == "Bad\ufffd\ufffdName"


def test_environment_properties() -> None:
    raw = {
        "agi_network_script": "ivr/main?pbx=jkt1&lang=id",
        "agi_request": "agi://10.0.0.5:4573/ivr/main?pbx=jkt1&lang=id",
        "agi_channel": "PJSIP/provider-00000000",
        "agi_language": "id",
        "agi_uniqueid": "1795514684.0",
        "agi_callerid": "unknown",
        "agi_calleridname": "unknown",
        "agi_dnid": "1500569",
        "agi_context": "from-provider",
        "agi_extension": "1500569",
        "agi_priority": "2",
        "agi_version": "22.10.1",
        "agi_arg_1": "menu",
        "agi_arg_2": "",
        "agi_arg_3": "x y",
    }
    env = AgiEnvironment(raw)
    assert env.script == "ivr/main"
    assert env.query == {"pbx": "jkt1", "lang": "id"}
    assert env.callerid is None
    assert env.calleridname is None
    assert env.dnid == "1500569"
    assert env.args == ["menu", "", "x y"]
    assert (env.channel, env.language, env.uniqueid) == ("PJSIP/provider-00000000", "id", "1795514684.0")
    assert (env.context, env.extension, env.priority, env.version) == (
        "from-provider",
        "1500569",
        "2",
        "22.10.1",
    )
    assert env.request.endswith("?pbx=jkt1&lang=id")
    assert env.get("channel") == env.get("agi_channel") == "PJSIP/provider-00000000"
    assert AgiEnvironment({}).script == "" and AgiEnvironment({}).args == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "before the end of the AGI environment"),
        (b"agi_network: yes\nagi_network_script: ivr/main\n", "before the end of the AGI environment"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not an AGI environment line"),
        (b"\n", "empty AGI environment"),
        (ENV + b"200 result=1\n200 res", "inside a line"),
        (ENV + USAGE_BLOCK[:60], "inside a usage block"),
        (ENV + b"hello\n", "not an AGI reply"),
    ],
)
def test_truncated_or_foreign_streams_are_clear_errors(data: bytes, message: str) -> None:
    parser = AgiParser()
    parser.receive_data(data)
    parser.receive_data(b"")
    with pytest.raises(AgiProtocolError, match=message):
        while parser.next_event() is not None:
            pass
    with pytest.raises(AgiProtocolError, match=message):  # sticky: no spin, no second guess
        parser.next_event()


def test_overlong_header_line_fails_without_waiting_for_its_end() -> None:
    parser = AgiParser()
    parser.receive_data(b"agi_calleridname: ")
    assert parser.next_event() is None
    parser.receive_data(b"x" * MAX_LINE_BYTES)
    with pytest.raises(AgiProtocolError, match="line longer than"):
        parser.next_event()


def test_one_megabyte_line_fed_in_small_reads_is_refused_early() -> None:
    parser = AgiParser()
    chunk = b"y" * 1024
    with pytest.raises(AgiProtocolError, match="line longer than"):
        for _ in range(1024):
            parser.receive_data(chunk)
            assert parser.next_event() is None
    # Refused within the first 64 KiB plus one read, not after buffering the whole megabyte.


def test_environment_block_larger_than_limit_fails() -> None:
    parser = AgiParser(max_block=1000)
    parser.receive_data(b"".join(b"agi_arg_%d: %s\n" % (i, b"v" * 50) for i in range(1, 40)))
    with pytest.raises(AgiProtocolError, match="block larger than 1000"):
        parser.next_event()


def test_provisional_reply_is_not_final() -> None:
    parser = AgiParser(expect_environment=False)
    parser.receive_data(b"100 result=0 Trying...\n200 result=0 Gosub complete\n")
    first, second = parser.next_event(), parser.next_event()
    assert isinstance(first, AgiReply) and not first.final and first.data == "Trying..."
    assert isinstance(second, AgiReply) and second.final and second.data == "Gosub complete"
