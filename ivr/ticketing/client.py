"""Async client of Ariana (Jira REST API v2): create complaint tickets and read their status.

Creating an issue is not idempotent in Jira, so it is never retried blindly: every complaint
ticket carries a dedupe label derived from the call id, and before any repeated attempt the
client searches for that label. If the earlier attempt did create the ticket (only its answer
was lost) that ticket is returned; if the search itself fails the client gives up rather than
risk a duplicate. Reads are retried with backoff. A circuit breaker (:mod:`ivr.breaker`)
makes calls fail fast while Ariana is down. The token is only ever in a header.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import aiohttp

from hotline.logs import get_logger, mask_number
from ivr.breaker import CircuitBreaker
from ivr.ticketing.models import (
    Complaint,
    TicketingError,
    TicketingSettings,
    TicketingUnavailable,
    TicketNotFound,
    TicketRef,
    TicketRejected,
    TicketStatus,
    dedupe_label,
)
from ivr.upstream import Upstream, UpstreamDown, UpstreamResponse

_log = get_logger(__name__)
_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,19}-[0-9]{1,10}")
_SUMMARY_MAX = 255


def _auth_header(settings: TicketingSettings) -> dict[str, str]:
    token = settings.token.reveal()
    if not token:
        return {}
    if settings.auth == "basic":
        if not settings.username:
            raise ValueError("ticketing: basic auth needs a username")
        pair = base64.b64encode(f"{settings.username}:{token}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    return {"Authorization": f"Bearer {token}"}


class TicketingClient:
    """Complaint tickets and ticket status in Ariana."""

    def __init__(
        self,
        settings: TicketingSettings,
        *,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.breaker = CircuitBreaker(
            "ticketing",
            failure_threshold=settings.breaker_failures,
            reset_timeout_s=settings.breaker_reset_s,
            clock=clock,
        )
        headers = {"Accept": "application/json", "User-Agent": "hotline-ivr", **_auth_header(settings)}
        self._upstream = Upstream(
            "ticketing",
            settings.base_url,
            timeout_s=settings.timeout_s,
            retries=settings.retries,
            backoff_s=settings.backoff_s,
            backoff_max_s=settings.backoff_max_s,
            breaker=self.breaker,
            headers=headers,
            session=session,
        )

    async def close(self) -> None:
        await self._upstream.close()

    async def __aenter__(self) -> TicketingClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def ticket_key(self, key_or_number: str) -> str:
        """'ARN-123' as is; '123' (what a caller can key in) becomes '<project>-123'."""
        candidate = key_or_number.strip().upper()
        if candidate.isdigit():
            candidate = f"{self.settings.project_key}-{int(candidate)}"
        if not _KEY.fullmatch(candidate):
            raise TicketRejected(f"not a ticket key or number: {key_or_number[:30]!r}")
        return candidate

    async def create_complaint(
        self, complaint: Complaint, *, check_existing: bool = False, timeout: float | None = None
    ) -> TicketRef:
        """Create the complaint ticket of a call, at most once per call id (see the module docstring).

        ``check_existing`` searches first: use it when this call may already have asked (the
        IVR handler was retried, hotline restarted). Raises TicketRejected,
        TicketingUnavailable or TicketingError.
        """
        label = dedupe_label(complaint.call_id)
        if check_existing and (found := await self._find(label, timeout)) is not None:
            return found
        payload = self._issue_payload(complaint, label)
        attempts = 1 + self.settings.retries
        last: UpstreamDown | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._upstream.backoff_delay(attempt - 1))
                # The previous attempt may have created the ticket and lost only its answer.
                if (found := await self._find(label, timeout)) is not None:
                    _log.info("ticket_found_after_failed_create", ticket=found.key, call_id=complaint.call_id)
                    return found
            try:
                resp = await self._upstream.request(
                    "POST", "/rest/api/2/issue", log_path="/rest/api/2/issue", retry=False, json_body=payload,
                    timeout=timeout,
                )  # fmt: skip
            except UpstreamDown as exc:
                if exc.circuit_open:
                    raise TicketingUnavailable(
                        f"ticketing unavailable: {exc.reason}", circuit_open=True
                    ) from None
                last = exc
                _log.warning("ticket_create_failed", attempt=attempt + 1, of=attempts, reason=exc.reason)
                continue
            doc = self._expect(resp, {200, 201}, "/rest/api/2/issue")
            ref = self._ref(doc, created=True)
            _log.info(
                "ticket_created",
                ticket=ref.key,
                call_id=complaint.call_id,
                caller=mask_number(complaint.caller_number),
            )
            return ref
        assert last is not None
        raise TicketingUnavailable(f"ticketing unavailable: {last.reason}")

    async def find_by_call(self, call_id: str, *, timeout: float | None = None) -> TicketRef | None:
        """The complaint ticket already created for this call, if any."""
        return await self._find(dedupe_label(call_id), timeout)

    async def ticket_status(self, key_or_number: str, *, timeout: float | None = None) -> TicketStatus:
        """A ticket's status; raises TicketNotFound, TicketRejected or TicketingUnavailable."""
        key = self.ticket_key(key_or_number)
        path = f"/rest/api/2/issue/{key}"
        resp = await self._get(path, {"fields": "status,summary"}, timeout)
        doc = self._expect(resp, {200}, path)
        try:
            fields = doc["fields"]
            status = fields["status"]
            return TicketStatus(
                key=str(doc["key"]),
                status=str(status["name"]),
                category=str(status.get("statusCategory", {}).get("key", "")),
                summary=str(fields.get("summary", "")),
            )
        except (KeyError, TypeError, AttributeError):
            raise TicketingError(f"malformed issue from the ticketing system ({path})") from None

    def _issue_payload(self, complaint: Complaint, label: str) -> dict[str, Any]:
        summary = " ".join(complaint.summary.split())[:_SUMMARY_MAX]
        if not summary:
            raise TicketRejected("a complaint ticket needs a summary")
        return {
            "fields": {
                "project": {"key": self.settings.project_key},
                "issuetype": {"name": self.settings.issue_type},
                "summary": summary,
                "description": complaint.description(),
                "labels": ["hotline", "ivr-complaint", label],
            }
        }

    async def _find(self, label: str, timeout: float | None) -> TicketRef | None:
        jql = f'project = {self.settings.project_key} AND labels = "{label}" ORDER BY created ASC'
        params = {"jql": jql, "fields": "summary", "maxResults": "1"}
        resp = await self._get("/rest/api/2/search", params, timeout)
        doc = self._expect(resp, {200}, "/rest/api/2/search")
        issues = doc.get("issues") if isinstance(doc, dict) else None
        if not isinstance(issues, list):
            raise TicketingError("malformed search result from the ticketing system")
        return self._ref(issues[0], created=False) if issues else None

    async def _get(self, path: str, params: Mapping[str, str], timeout: float | None) -> UpstreamResponse:
        try:
            return await self._upstream.request(
                "GET", path, log_path=path, retry=True, params=params, timeout=timeout
            )
        except UpstreamDown as exc:
            raise TicketingUnavailable(
                f"ticketing unavailable: {exc.reason}", circuit_open=exc.circuit_open
            ) from None

    def _ref(self, doc: Any, *, created: bool) -> TicketRef:
        if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) for k in ("id", "key")):
            raise TicketingError("malformed issue reference from the ticketing system")
        url = f"{self.settings.base_url.rstrip('/')}/browse/{doc['key']}"
        return TicketRef(doc["id"], doc["key"], url, created)

    @staticmethod
    def _expect(resp: UpstreamResponse, ok: set[int], path: str) -> Any:
        if resp.status in ok:
            return resp.body
        body = resp.body if isinstance(resp.body, dict) else {}
        messages, errors = body.get("errorMessages"), body.get("errors")
        reasons = [str(m) for m in messages] if isinstance(messages, list) else []
        if isinstance(errors, dict):
            reasons += [f"{field}: {why}" for field, why in errors.items()]
        detail = f"{path}: {resp.status}" + (f" ({'; '.join(map(str, reasons))})" if reasons else "")
        if resp.status == 404:
            raise TicketNotFound(f"no such ticket ({path})")
        if resp.status == 400:
            raise TicketRejected(f"the ticketing system refused the request ({detail})")
        if resp.status in (401, 403):
            raise TicketingError(
                f"the ticketing system refused hotline's credentials ({path}: {resp.status})"
            )
        raise TicketingError(f"unexpected answer from the ticketing system ({detail})")
