"""FastAGI commands as bytes: quoting arguments the way Asterisk's parse_args() reads them.

Every command of every call passes through :func:`encode_command`, so the plain case
(a command name already seen, arguments without a character that needs quoting) is
kept to one set look-up and one regular-expression scan per argument.
"""

from __future__ import annotations

import re
from typing import Final

MAX_COMMAND_BYTES: Final = 2047
"""Asterisk reads a command into a 2048-byte buffer; a longer line would run as two commands."""

# parse_args() in res_agi.c splits on space and tab; '"' toggles grouping (and starts a
# word even when empty, so '""' is an empty argument); '\' makes the next character literal,
# inside or outside quotes. So an argument needs quotes when it is empty or holds one of these.
# CR, LF and NUL cannot be sent at all. One search finds both kinds, so a plain argument
# (the usual case) costs a single scan.
_SPECIAL: Final = re.compile(r'[ \t"\\\r\n\x00]')
_FORBIDDEN: Final = re.compile(r"[\r\n\x00]")
_COMMAND_NAME: Final = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_VALID_NAMES: set[str] = set()


def quote_argument(arg: str | int) -> str:
    """Quote one argument so Asterisk's parse_args() reads it back unchanged."""
    if type(arg) is int:
        return str(arg)
    text = arg if type(arg) is str else str(arg)
    if text and _SPECIAL.search(text) is None:
        return text
    if _FORBIDDEN.search(text):
        raise ValueError(f"AGI argument cannot contain CR, LF or NUL: {text[:40]!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_command(name: str, *args: str | int) -> bytes:
    """``encode_command('STREAM FILE', 'beep', '')`` -> ``b'STREAM FILE beep ""\\n'``.

    ``name`` is the command itself (words of letters, sent as is); every argument is
    quoted as needed. Raises ``ValueError`` for a newline in an argument or a line
    Asterisk could not read whole.
    """
    if name not in _VALID_NAMES:
        if not _COMMAND_NAME.fullmatch(name):
            raise ValueError(f"not an AGI command name: {name!r}")
        if len(_VALID_NAMES) < 256:  # the set of command names in use is small
            _VALID_NAMES.add(name)
    text = name + " " + " ".join(map(quote_argument, args)) + "\n" if args else name + "\n"
    try:
        line = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a badly decoded source
        raise ValueError(f"AGI command is not valid Unicode: {exc.reason}") from None
    if len(line) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command of {len(line)} bytes exceeds Asterisk's {MAX_COMMAND_BYTES}")
    return line


__all__ = ["MAX_COMMAND_BYTES", "encode_command", "quote_argument"]
