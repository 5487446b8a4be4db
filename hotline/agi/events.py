"""What the FastAGI parser hands out: the environment block, replies and hangup notices.

All are frozen dataclasses and carry text only (decoded, no bytes), so handlers and
tests compare them with ``==``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from urllib.parse import parse_qsl

from hotline.agi.errors import AgiProtocolError

_UNKNOWN: Final = "unknown"
NO_EXTRAS: Final[Mapping[str, str]] = MappingProxyType({})
"""The ``extras`` of every short reply: read-only, so one reply object can be shared."""


def _known(value: str | None) -> str | None:
    # Asterisk writes the literal "unknown" when a caller ID / DNID is absent.
    if value is None or value == "" or value == _UNKNOWN:
        return None
    return value


@dataclass(frozen=True)
class AgiEnvironment:
    """The ``agi_*`` block Asterisk sends when it connects. ``raw`` keeps every key as sent."""

    raw: dict[str, str]

    def get(self, key: str, default: str | None = None) -> str | None:
        """``get('channel')`` and ``get('agi_channel')`` are the same."""
        if not key.startswith("agi_"):
            key = "agi_" + key
        return self.raw.get(key, default)

    def _text(self, key: str) -> str:
        return self.raw.get("agi_" + key, "")

    @property
    def network_script(self) -> str:
        """``ivr/main?pbx=jkt1``: the part of ``agi://host:port/...`` after the port."""
        return self._text("network_script")

    @property
    def script(self) -> str:
        """The route: ``network_script`` without its ``?query``."""
        return self.network_script.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        """Parameters of ``network_script``'s query (first value wins), e.g. ``{'pbx': 'jkt1'}``."""
        out: dict[str, str] = {}
        query = self.network_script.partition("?")[2]
        if not query:
            return out
        for key, value in parse_qsl(query, keep_blank_values=True):
            out.setdefault(key, value)
        return out

    @property
    def request(self) -> str:
        return self._text("request")

    @property
    def channel(self) -> str:
        return self._text("channel")

    @property
    def language(self) -> str:
        return self._text("language")

    @property
    def uniqueid(self) -> str:
        return self._text("uniqueid")

    @property
    def callerid(self) -> str | None:
        """Caller number, ``None`` when Asterisk says ``unknown``. Log it only through ``mask_number``."""
        return _known(self.raw.get("agi_callerid"))

    @property
    def calleridname(self) -> str | None:
        return _known(self.raw.get("agi_calleridname"))

    @property
    def dnid(self) -> str | None:
        return _known(self.raw.get("agi_dnid"))

    @property
    def context(self) -> str:
        return self._text("context")

    @property
    def extension(self) -> str:
        return self._text("extension")

    @property
    def priority(self) -> str:
        return self._text("priority")

    @property
    def version(self) -> str:
        return self._text("version")

    @property
    def args(self) -> list[str]:
        """``AGI(agi://...,a,b)`` arguments: ``agi_arg_1`` .. ``agi_arg_N``, in order."""
        out: list[str] = []
        while (value := self.raw.get(f"agi_arg_{len(out) + 1}")) is not None:
            out.append(value)
        return out


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One reply: ``200 result=1 (value) endpos=42``, ``510 ...``, or a whole 520 usage block.

    ``data`` is the text in parentheses (or trailing free text such as ``Gosub complete``);
    ``extras`` the ``key=value`` pairs after it (read-only); ``usage`` the usage text of a 520 block;
    ``text`` everything after the code, as sent.
    """

    code: int
    result: str = ""
    data: str | None = None
    extras: Mapping[str, str] = field(default_factory=dict)
    usage: str | None = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def final(self) -> bool:
        """False for ``100 result=0 Trying...`` (GOSUB): the real reply follows."""
        return self.code >= 200

    @property
    def result_int(self) -> int | None:
        try:
            return int(self.result)
        except ValueError:
            return None


@dataclass(frozen=True)
class HangupNotice:
    """The ``HANGUP`` line Asterisk writes when the caller hangs up (not a reply to any command)."""


@dataclass(frozen=True)
class ConnectionClosed:
    """The peer closed the connection cleanly, between two replies."""


AgiEvent = AgiEnvironment | AgiReply | HangupNotice | ConnectionClosed

_RESULT_RE: Final = re.compile(r"result=(\S*)")
_PAIRS_RE: Final = re.compile(r"(?:\s+[A-Za-z_][\w-]*=\S*)*\s*")
_PAIR_START_RE: Final = re.compile(r"\s+[A-Za-z_][\w-]*=")
_KEY_RE: Final = re.compile(r"[A-Za-z_][\w-]*")


def _data_end(tail: str) -> int:
    """Index of the ')' that closes the data of ``tail`` (which starts with '(')."""
    # GET VARIABLE returns the value verbatim, so it may contain ')' itself: prefer the
    # rightmost ')' after which only key=value pairs follow, then the first one that
    # is followed by a pair (SPEECH RECOGNIZE puts free text inside its pairs).
    pos = tail.rfind(")")
    while pos > 0:
        if _PAIRS_RE.fullmatch(tail, pos + 1):
            return pos
        pos = tail.rfind(")", 0, pos)
    pos = tail.find(")")
    while pos > 0:
        if _PAIR_START_RE.match(tail, pos + 1):
            return pos
        pos = tail.find(")", pos + 1)
    return tail.rfind(")")


def _pairs(tail: str) -> tuple[dict[str, str], str]:
    extras: dict[str, str] = {}
    free: list[str] = []
    last: str | None = None
    for token in tail.split():
        key, eq, value = token.partition("=")
        if eq and _KEY_RE.fullmatch(key):
            extras[key] = value
            last = key
        elif last is not None:
            # "text0=hello world": a value with spaces continues until the next key=.
            extras[last] += " " + token
        else:
            free.append(token)
    return extras, " ".join(free)


def parse_reply_line(line: str) -> AgiReply:
    """Parse one complete reply line (no newline). Raises :class:`AgiProtocolError` on garbage."""
    code_text = line[:3]
    if not (len(line) >= 3 and code_text.isdigit() and (len(line) == 3 or line[3] in " -")):
        raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")
    rest = line[4:]
    if rest.startswith("result=") and " " not in rest:
        # The common short reply.
        return AgiReply(code=int(code_text), result=rest[7:], extras=NO_EXTRAS, text=rest)
    match = _RESULT_RE.match(rest)
    if match is None:
        return AgiReply(code=int(code_text), text=rest)
    tail = rest[match.end() :].lstrip(" ")
    data: str | None = None
    if tail.startswith("("):
        end = _data_end(tail)
        if end < 0:
            data, tail = tail[1:], ""
        else:
            data, tail = tail[1:end], tail[end + 1 :]
    extras, free = _pairs(tail)
    if data is None and free:
        data = free
    return AgiReply(code=int(code_text), result=match.group(1), data=data, extras=extras, text=rest)
