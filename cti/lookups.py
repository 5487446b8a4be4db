"""The two lookups of the screen-pop's late enrichment, with short-lived caches.

- the verified caller's identity: ``GET {core_system.base_url}/customers/{customer_no}``
  (docs/core-system.openapi.json, header ``X-API-Key``);
- a ticket's status: ``GET {ticketing.base_url}/rest/api/2/issue/{key}?fields=status,summary``
  (Jira REST API v2, docs/ticketing.md; bearer or basic authentication).

The CTI has its own small client rather than the IVR's: features never import each other,
and the pop wants different guards (one attempt, no retries; see :mod:`cti.upstream`).
Answers are cached for ``cache_s``: with a ring-all queue, or an agent who lets it ring and
the next one who answers, one caller's lookup is made once.
"""

from __future__ import annotations

import base64
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, TypeVar

from cti.masking import customer_from_core
from cti.upstream import NotFound, Unavailable, Upstream, UpstreamSettings
from hotline.config import CoreSystemConfig, TicketingConfig

CUSTOMER_NO: Final = re.compile(r"^[0-9]{1,20}$")
TICKET_KEY: Final = re.compile(r"^[A-Z][A-Z0-9_]{0,19}-[0-9]{1,12}$")
DEFAULT_CACHE_S: Final = 60.0
MAX_CACHED: Final = 5_000

V = TypeVar("V")


class TtlCache(Generic[V]):
    """A bounded map whose entries are forgotten after ``ttl`` seconds."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl, clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        found = self._items.get(key)
        if found is None or self._clock() - found[0] > self._ttl:
            return None
        return found[1]

    def put(self, key: str, value: V) -> None:
        self._items[key] = (self._clock(), value)
        self._items.move_to_end(key)
        while len(self._items) > MAX_CACHED:
            self._items.popitem(last=False)


class CoreSystemLookup:
    """Who a verified caller is: name, customer number, products (contracts masked)."""

    def __init__(self, upstream: Upstream, *, cache_s: float = DEFAULT_CACHE_S) -> None:
        self.upstream = upstream
        self.cache: TtlCache[dict[str, Any]] = TtlCache(cache_s)

    async def customer(self, customer_no: str) -> dict[str, Any]:
        """The pop's ``customer``; :class:`NotFound` or :class:`Unavailable` when there is none to show."""
        if not CUSTOMER_NO.match(customer_no):
            raise NotFound("not a customer number")  # never put a malformed value into a URL
        cached = self.cache.get(customer_no)
        if cached is not None:
            return cached
        body = await self.upstream.get_json(f"/customers/{customer_no}")
        try:
            customer = customer_from_core(body)
        except ValueError as exc:
            raise Unavailable(f"core_system: {exc}") from None
        self.cache.put(customer_no, customer)
        return customer

    def cached(self, customer_no: str) -> dict[str, Any] | None:
        return self.cache.get(customer_no)

    async def close(self) -> None:
        await self.upstream.close()


class TicketLookup:
    """A ticket's status and summary in Ariana (Jira)."""

    def __init__(self, upstream: Upstream, *, cache_s: float = DEFAULT_CACHE_S) -> None:
        self.upstream = upstream
        self.cache: TtlCache[dict[str, Any]] = TtlCache(cache_s)

    async def status(self, key: str) -> dict[str, Any]:
        """``{key, status, category, summary}``; :class:`NotFound` or :class:`Unavailable`."""
        if not TICKET_KEY.match(key):
            raise NotFound("not a ticket key")
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        body = await self.upstream.get_json(f"/rest/api/2/issue/{key}", {"fields": "status,summary"})
        fields = body.get("fields") if isinstance(body, Mapping) else None
        status = fields.get("status") if isinstance(fields, Mapping) else None
        if not isinstance(status, Mapping):
            raise Unavailable("ticketing: the answer has no status")
        category = status.get("statusCategory")
        assert isinstance(fields, Mapping)  # (a status was found inside it)
        ticket = {
            "key": key,
            "status": _text(status.get("name"), 40),
            "category": _text(category.get("key"), 20) if isinstance(category, Mapping) else None,
            "summary": _text(fields.get("summary"), 255),
        }
        self.cache.put(key, ticket)
        return ticket

    def cached(self, key: str) -> dict[str, Any] | None:
        return self.cache.get(key)

    async def close(self) -> None:
        await self.upstream.close()


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] or None if value is not None else None


def core_system_lookup(
    config: CoreSystemConfig, max_in_flight: int, max_waiting: int, cache_s: float, max_timeout_s: float
) -> CoreSystemLookup | None:
    """The lookup for ``[core_system]``, or None when it has no base_url (not configured)."""
    if not config.base_url.strip():
        return None
    key = config.api_key.reveal()
    settings = UpstreamSettings(
        name="core_system",
        base_url=config.base_url.strip(),
        headers={"X-API-Key": key, "Accept": "application/json"} if key else {"Accept": "application/json"},
        timeout_s=min(config.timeout_s, max_timeout_s),
        breaker_failures=config.breaker_failures,
        breaker_reset_s=config.breaker_reset_s,
        max_in_flight=max_in_flight,
        max_waiting=max_waiting,
    )
    return CoreSystemLookup(Upstream(settings), cache_s=cache_s)


def ticket_lookup(
    config: TicketingConfig, max_in_flight: int, max_waiting: int, cache_s: float, max_timeout_s: float
) -> TicketLookup | None:
    """The lookup for ``[ticketing]``, or None when it has no base_url (not configured)."""
    if not config.base_url.strip():
        return None
    headers = {"Accept": "application/json"}
    token = config.token.reveal()
    if token and config.auth == "basic":
        pair = base64.b64encode(f"{config.username}:{token}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    settings = UpstreamSettings(
        name="ticketing",
        base_url=config.base_url.strip(),
        headers=headers,
        timeout_s=min(config.timeout_s, max_timeout_s),
        breaker_failures=config.breaker_failures,
        breaker_reset_s=config.breaker_reset_s,
        max_in_flight=max_in_flight,
        max_waiting=max_waiting,
    )
    return TicketLookup(Upstream(settings), cache_s=cache_s)
