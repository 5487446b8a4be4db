"""structlog set-up: JSON lines in production, readable lines in a terminal.

Inside a call every line carries ``pbx`` and ``uniqueid``/``linkedid``: bind them
with :func:`bind_call` (contextvars, so concurrent calls never mix). A task that
handles AMI events one after another (a dispatcher subscriber) calls
:func:`bind_ami_event` per event instead: every line it logs then names that
event's PBX and call. Secrets and full customer numbers never reach a log:
:func:`mask_number` keeps the last four digits, and a processor masks known secret
keys whatever a caller passes.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final, Protocol

import structlog

_SECRET_KEYS = frozenset({"secret", "password", "token", "ami_secret", "pin", "otp", "authorization"})
_NUMBER_KEYS = frozenset({"caller", "callerid", "caller_number", "calleridnum", "number", "msisdn"})


def mask_number(number: str | None) -> str:
    """'081234567890' -> '********7890'. Short or empty numbers are masked whole."""
    if not number:
        return ""
    digits = str(number)
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


class _HeaderLookup(Protocol):
    def get(self, key: str) -> str | None: ...


class AmiEventLike(Protocol):
    """An AMI event as received (``hotline.ami.dispatch.PbxEvent``): which PBX, which event."""

    @property
    def pbx(self) -> str: ...

    @property
    def event(self) -> _HeaderLookup: ...


CURRENT_AMI_EVENT: Final[ContextVar[AmiEventLike | None]] = ContextVar("hotline_ami_event", default=None)
"""The AMI event the current task is handling, if any. :func:`bind_ami_event` sets it; a hot loop
may hold ``CURRENT_AMI_EVENT.set`` in a local to save a Python call per event."""


def bind_ami_event(item: AmiEventLike | None) -> None:
    """Make ``item`` (an AMI event of a PBX) the call of every line this task logs from now on.

    Meant for a task that handles one event after another: it costs one context-variable write
    per event and needs no reset (the next event replaces it; ``None`` ends it). ``pbx``,
    ``Uniqueid`` and ``Linkedid`` are read only when a line is logged, and only where the line
    does not name them itself, so the hot path of the AMI reader stays cheap. A task created while
    it is set inherits it (right for work about that call); a long-lived worker started from an
    event callback should begin with ``bind_ami_event(None)``.
    """
    CURRENT_AMI_EVENT.set(item)


def _add_ami_call(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    current = CURRENT_AMI_EVENT.get()
    if current is None:
        return event_dict
    event_dict.setdefault("pbx", current.pbx)
    event = current.event
    for key, header in (("uniqueid", "Uniqueid"), ("linkedid", "Linkedid")):
        if key not in event_dict and (value := event.get(header)):
            event_dict[key] = value
    return event_dict


def _redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        low = key.lower()
        if low in _SECRET_KEYS:
            event_dict[key] = "***"
        elif low in _NUMBER_KEYS and isinstance(event_dict[key], str):
            event_dict[key] = mask_number(event_dict[key])
    return event_dict


def configure(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    """Configure structlog and the stdlib root logger once per process."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if getattr(stream, "isatty", lambda: False)() else "json"
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=getattr(stream, "isatty", lambda: False)())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_ami_call,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Libraries log through the stdlib (alembic, aiohttp, asyncio): render them the same way,
    # so production logs stay one JSON object per line.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Migrations announce every plugin at INFO; only their problems are worth a line.
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


@contextmanager
def bind_call(pbx: str, uniqueid: str | None = None, linkedid: str | None = None) -> Iterator[None]:
    """Bind the call's identity to every log line written inside the block (this task only)."""
    values = {"pbx": pbx}
    if uniqueid:
        values["uniqueid"] = uniqueid
    if linkedid:
        values["linkedid"] = linkedid
    with structlog.contextvars.bound_contextvars(**values):
        yield
