"""Small helpers shared by the AMI action handlers."""

from __future__ import annotations

import datetime as dt

Headers = list[tuple[str, str]]
Reply = list[Headers]


def response(action: dict[str, str], status: str, message: str | None, *extra: tuple[str, str]) -> Headers:
    """``Response:``, the echoed ``ActionID``, ``Message:`` (if any), then ``extra``: manager.c's order."""
    headers: Headers = [("Response", status)]
    if "actionid" in action:
        headers.append(("ActionID", action["actionid"]))
    if message is not None:
        headers.append(("Message", message))
    return [*headers, *extra]


def is_true(value: str) -> bool:
    """ast_true(): yes, true, y, t, 1, on."""
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")


def hms(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def event_tv(instant: float) -> str:
    """Security events' ``EventTV``/``SessionTV``: ``2026-11-24T10:04:03.660+0000``."""
    moment = dt.datetime.fromtimestamp(instant, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
