"""Command quoting (as Asterisk's parse_args() reads it back) and reply line parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.agi import AgiProtocolError, encode_command, quote_argument
from hotline.agi.events import parse_reply_line
from hotline.agi.protocol import MAX_COMMAND_BYTES


def asterisk_parse_args(line: str) -> list[str]:
    """A transcription of res_agi.c parse_args(): how Asterisk splits a command line."""
    argv: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and current is None:
                current = []
                argv.append("")
            continue
        if char in " \t" and not quoted and not escaped:
            if current is not None:
                argv[-1] = "".join(current)
            current = None
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if current is None:
            current = []
            argv.append("")
        current.append(char)
        escaped = False
    if current is not None:
        argv[-1] = "".join(current)
    return argv


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("STREAM FILE", "beep", ""), b'STREAM FILE beep ""\n'),
        (("GET DATA", "beep", 5000, 1), b"GET DATA beep 5000 1\n"),
        (("SET VARIABLE", "HOTLINE_QUEUE", "cc-informasi"), b"SET VARIABLE HOTLINE_QUEUE cc-informasi\n"),
        (("VERBOSE", "hello world", 1), b'VERBOSE "hello world" 1\n'),
        (("SET VARIABLE", "X", 'say "hi"'), b'SET VARIABLE X "say \\"hi\\""\n'),
        (("SET VARIABLE", "X", "C:\\path"), b'SET VARIABLE X "C:\\\\path"\n'),
        (("SET VARIABLE", "X", "tab\there"), b'SET VARIABLE X "tab\there"\n'),
        (("SET VARIABLE", "NAME", "Śantoso"), "SET VARIABLE NAME Śantoso\n".encode()),
        (("EXEC", "Playback", "a,b"), b"EXEC Playback a,b\n"),
        (("ANSWER",), b"ANSWER\n"),
    ],
)
def test_encode_command(args: tuple[str, ...], expected: bytes) -> None:
    assert encode_command(*args) == expected


_SENDABLE = st.characters(blacklist_characters="\r\n\x00", blacklist_categories=["Cs"])


@given(st.lists(st.text(alphabet=_SENDABLE, max_size=30), max_size=6))
def test_every_argument_reads_back_unchanged(args: list[str]) -> None:
    line = encode_command("SET VARIABLE", *args).decode("utf-8").rstrip("\n")
    assert asterisk_parse_args(line) == ["SET", "VARIABLE", *args]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b", "\n"])
def test_newline_in_argument_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        quote_argument(bad)
    with pytest.raises(ValueError):
        encode_command("SET VARIABLE", "X", bad)


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid Unicode"):
        encode_command("SET VARIABLE", "X", "\ud800")


@pytest.mark.parametrize(
    "name", ["", "STREAM\nFILE", "EXEC Playback,1", "SET  VARIABLE", '"ANSWER"', " ANSWER"]
)
def test_bad_command_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not an AGI command name"):
        encode_command(name)


def test_line_longer_than_asterisk_buffer_is_refused() -> None:
    encode_command("VERBOSE", "x" * (MAX_COMMAND_BYTES - len("VERBOSE \n")))
    with pytest.raises(ValueError, match="exceeds"):
        encode_command("VERBOSE", "x" * MAX_COMMAND_BYTES)


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "extras"),
    [
        ("200 result=0 endpos=3404", 200, "0", None, {"endpos": "3404"}),
        ("200 result=49 endpos=1200", 200, "49", None, {"endpos": "1200"}),
        ("200 result=2", 200, "2", None, {}),
        ("200 result=123 (timeout)", 200, "123", "timeout", {}),
        ("200 result= (timeout)", 200, "", "timeout", {}),
        ("200 result=", 200, "", None, {}),
        ("200 result=-1", 200, "-1", None, {}),
        ("200 result=1 (cc-informasi)", 200, "1", "cc-informasi", {}),
        ("200 result=1 (Dewi (Lestari))", 200, "1", "Dewi (Lestari)", {}),
        ("200 result=1 (a) b=c)", 200, "1", "a) b=c", {}),
        ('200 result=1 ("Alice V" <2233>)', 200, "1", '"Alice V" <2233>', {}),
        ("200 result=1 ()", 200, "1", "", {}),
        ("200 result=1 (dtmf) endpos=67890", 200, "1", "dtmf", {"endpos": "67890"}),
        ("200 result=-1 (hangup) endpos=0", 200, "-1", "hangup", {"endpos": "0"}),
        (
            "200 result=1 (speech) endpos=0 results=1 score0=900 text0=satu dua grammar0=menu",
            200,
            "1",
            "speech",
            {"endpos": "0", "results": "1", "score0": "900", "text0": "satu dua", "grammar0": "menu"},
        ),
        ("200 result=0 Gosub complete", 200, "0", "Gosub complete", {}),
        ("503 result=-2 Memory allocation failure", 503, "-2", "Memory allocation failure", {}),
        ("510 Invalid or unknown command", 510, "", None, {}),
        ("520 Invalid command syntax.  Proper usage not available.", 520, "", None, {}),
    ],
)
def test_parse_reply_line(
    line: str, code: int, result: str, data: str | None, extras: dict[str, str]
) -> None:
    reply = parse_reply_line(line)
    assert (reply.code, reply.result, reply.data, reply.extras) == (code, result, data, extras)
    assert reply.text == line[4:]


@pytest.mark.parametrize("line", ["", "20", "OK", "2000 result=1", "abc result=1", "HANGUP now"])
def test_garbage_reply_line_is_a_protocol_error(line: str) -> None:
    with pytest.raises(AgiProtocolError, match="not an AGI reply"):
        parse_reply_line(line)
