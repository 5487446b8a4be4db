"""Recording search: filters from a query string (API) or flags (CLI) to one indexed SELECT.

Every filter is optional and they combine with AND. Times are ISO 8601 (``2025-01-10``,
``2025-01-10T08:00``, with or without offset; without one, the PBX's time zone) or epoch
seconds. Paging is ``limit``/``offset`` with ``has_more`` (a COUNT over a year of calls would
cost more than the page itself); sorting is one key, ``-`` for descending.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.logs import mask_number
from recording.repo import transaction
from recording.tables import STATUSES, recording

MAX_LIMIT: Final = 500
DEFAULT_LIMIT: Final = 50
SORT_KEYS: Final = {
    "started_at": recording.c.started_at,
    "duration": recording.c.duration_s,
    "agent": recording.c.agent,
    "queue": recording.c.queue,
    "score": recording.c.qc_score,
}


class FilterError(ValueError):
    """A filter value is wrong; the message names the parameter and what it should be."""


@dataclass(frozen=True)
class Filters:
    since: float | None = None
    until: float | None = None
    agent: str | None = None
    team: str | None = None
    queue: str | None = None
    site: str | None = None
    pbx: str | None = None
    caller: str | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    disposition: str | None = None
    scored: bool | None = None
    status: str | None = None
    sort: str = "-started_at"
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    nothing: bool = False
    """Match no row (a team leader whose token names no team)."""

    def limited_to_team(self, team: str | None) -> Filters:
        """The same search, restricted to one team (a team leader sees only theirs)."""
        return replace(self, team=team) if team is not None else replace(self, nothing=True)


def parse_time(text: str, name: str, tz: zoneinfo.ZoneInfo) -> float:
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"{name}: {value[:40]!r} is neither ISO 8601 (2025-01-10T08:00) nor epoch seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FilterError(f"{name} must be a number of seconds, not {text[:40]!r}") from None
    if value < 0:
        raise FilterError(f"{name} must be >= 0")
    return value


def _whole(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FilterError(f"{name} must be a whole number, not {text[:40]!r}") from None
    if not low <= value <= high:
        raise FilterError(f"{name} must be between {low} and {high}")
    return value


def _bool(text: str, name: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes"):
        return True
    if low in ("0", "false", "no"):
        return False
    raise FilterError(f"{name} must be true or false, not {text[:20]!r}")


_TEXT: Final = ("agent", "team", "queue", "site", "pbx", "caller", "disposition")
KNOWN_PARAMETERS: Final = frozenset(
    {"from", "to", "min_duration", "max_duration", "scored", "status", "sort", "limit", "offset", *_TEXT}
)


def parse_filters(params: Mapping[str, str], tz: zoneinfo.ZoneInfo) -> Filters:
    """Filters from query parameters (unknown parameters are an error, not silently ignored)."""
    unknown = sorted(set(params) - KNOWN_PARAMETERS)
    if unknown:
        raise FilterError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(KNOWN_PARAMETERS))})")
    values: dict[str, Any] = {}
    for name in _TEXT:
        text = (params.get(name) or "").strip()
        if text:
            if len(text) > 64:
                raise FilterError(f"{name} is longer than 64 characters")
            values[name] = text
    if params.get("from"):
        values["since"] = parse_time(params["from"], "from", tz)
    if params.get("to"):
        values["until"] = parse_time(params["to"], "to", tz)
    if "since" in values and "until" in values and values["since"] >= values["until"]:
        raise FilterError("from must be before to")
    for name in ("min_duration", "max_duration"):
        if params.get(name):
            values[name] = _number(params[name], name)
    if params.get("scored"):
        values["scored"] = _bool(params["scored"], "scored")
    if params.get("status"):
        if params["status"] not in STATUSES:
            raise FilterError(f"status must be one of {', '.join(STATUSES)}")
        values["status"] = params["status"]
    if params.get("sort"):
        key = params["sort"].lstrip("-+")
        if key not in SORT_KEYS:
            raise FilterError(f"sort must be one of {', '.join(SORT_KEYS)} (prefix - for descending)")
        values["sort"] = params["sort"]
    if params.get("limit"):
        values["limit"] = _whole(params["limit"], "limit", 1, MAX_LIMIT)
    if params.get("offset"):
        values["offset"] = _whole(params["offset"], "offset", 0, 10_000_000)
    return Filters(**values)


def build_query(filters: Filters, *, columns: Any = None) -> sa.Select[Any]:
    """The SELECT for ``filters`` (one row more than the limit, to tell whether there is more)."""
    table = recording
    query = sa.select(*(columns if columns is not None else (table,)))
    conditions: list[Any] = [sa.false()] if filters.nothing else []
    if filters.since is not None:
        conditions.append(table.c.started_at >= filters.since)
    if filters.until is not None:
        conditions.append(table.c.started_at < filters.until)
    for name, column in (
        ("agent", table.c.agent),
        ("team", table.c.team),
        ("queue", table.c.queue),
        ("site", table.c.site),
        ("pbx", table.c.pbx),
        ("caller", table.c.caller_number),
        ("disposition", table.c.disposition),
        ("status", table.c.status),
    ):
        value = getattr(filters, name)
        if value is not None:
            conditions.append(column == value)
    if filters.min_duration is not None:
        conditions.append(table.c.duration_s >= filters.min_duration)
    if filters.max_duration is not None:
        conditions.append(table.c.duration_s <= filters.max_duration)
    if filters.scored is not None:
        conditions.append(table.c.qc_score.is_not(None) if filters.scored else table.c.qc_score.is_(None))
    if conditions:
        query = query.where(*conditions)
    key = filters.sort.lstrip("-+")
    column = SORT_KEYS[key]
    descending = filters.sort.startswith("-")
    # The id breaks ties so pages never overlap or skip rows with equal keys.
    order = (column.desc(), table.c.id.desc()) if descending else (column.asc(), table.c.id.asc())
    return query.order_by(*order).limit(filters.limit + 1).offset(filters.offset)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    has_more: bool
    limit: int
    offset: int


async def search(engine: AsyncEngine, filters: Filters) -> Page:
    async with transaction(engine, "search recordings") as connection:
        rows = [dict(row) for row in (await connection.execute(build_query(filters))).mappings()]
    return Page(rows[: filters.limit], len(rows) > filters.limit, filters.limit, filters.offset)


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


PUBLIC_FIELDS: Final = (
    "id",
    "call_id",
    "pbx",
    "site",
    "queue",
    "agent",
    "agent_name",
    "team",
    "direction",
    "duration_s",
    "talk_s",
    "hold_s",
    "disposition",
    "status",
    "problem",
    "format",
    "size_bytes",
    "sha256",
    "qc_score",
)


def public(row: Mapping[str, Any], *, reveal_caller: bool = False) -> dict[str, Any]:
    """A row as the API and the CLI show it: the caller's number masked, no file path."""
    item = {name: row.get(name) for name in PUBLIC_FIELDS}
    number = row.get("caller_number")
    item["caller_number"] = number if reveal_caller else (mask_number(number) if number else None)
    item["started_at"] = iso(row.get("started_at"))
    item["ended_at"] = iso(row.get("ended_at"))
    item["purged_at"] = iso(row.get("purged_at"))
    return item


def filter_names() -> list[str]:
    return [f.name for f in fields(Filters)]
