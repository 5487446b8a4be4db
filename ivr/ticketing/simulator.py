"""TicketingSimulator: a stand-in for Ariana (Jira REST API v2) for ``hotline demo`` and tests.

It serves the subset of Jira hotline uses - create an issue, read one, search by JQL
(``project``, ``labels``, ``issuetype``, ``status`` joined by AND; ``ORDER BY created``) and
apply a workflow transition - with Jira's JSON shapes and error bodies, and misbehaves on
demand through :class:`ivr.simulation.Faults` (slow, 5xx, hung requests, lost responses).
Tests and operators move tickets along with :meth:`TicketingSimulator.set_status` or the
transitions route, and see every issue at ``GET /_simulator/issues``.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from hotline.logs import get_logger
from ivr.simulation import Faults, SimulatorServer, fault_routes

_log = get_logger(__name__)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_STATUS: Final = {
    "Open": ("1", "new", "To Do"),
    "In Progress": ("3", "indeterminate", "In Progress"),
    "Resolved": ("5", "done", "Done"),
    "Closed": ("6", "done", "Done"),
}
_TRANSITIONS: Final = {"11": "In Progress", "21": "Resolved", "31": "Closed", "41": "Open"}
_TRANSITION_NAMES: Final = {
    "11": "Start Progress",
    "21": "Resolve Issue",
    "31": "Close Issue",
    "41": "Reopen Issue",
}
_CLAUSE = re.compile(r'^\s*(\w+)\s*(=|in)\s*\(?\s*"?([^"()]+?)"?\s*\)?\s*$', re.IGNORECASE)


@dataclass
class SimIssue:
    id: str
    key: str
    summary: str
    description: str
    issue_type: str
    labels: list[str]
    status: str = "Open"
    created: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"))


def _jira_error(status: int, *messages: str, **errors: str) -> web.Response:
    return web.json_response({"errorMessages": list(messages), "errors": errors}, status=status)


class TicketingSimulator:
    """Jira's issue API for one project on 127.0.0.1; ``async with TicketingSimulator() as sim``."""

    def __init__(
        self,
        *,
        project_key: str = "ARN",
        issue_types: tuple[str, ...] = ("Pengaduan", "Complaint"),
        username: str = "hotline",
        token: str = "",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.project_key = project_key
        self.issue_types = issue_types
        self.issues: dict[str, SimIssue] = {}
        self.faults = Faults()
        self._username = username
        self._token = token
        self._next_id = 10000
        app = web.Application(middlewares=[self.faults.middleware, self._auth])
        app.add_routes(
            [
                web.post("/rest/api/2/issue", self._create),
                web.get("/rest/api/2/issue/{key}", self._read),
                web.post("/rest/api/2/issue/{key}/transitions", self._transition),
                web.get("/rest/api/2/search", self._search),
                web.get("/_simulator/issues", self._inspect),
                *fault_routes(self.faults),
            ]
        )
        self.app = app
        self._server = SimulatorServer(app, self.faults, host=host, port=port)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    async def start(self) -> str:
        return await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()

    async def __aenter__(self) -> TicketingSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def set_status(self, key: str, status: str) -> None:
        """Move a ticket to Open, In Progress, Resolved or Closed (what an Ariana agent would do)."""
        if status not in _STATUS:
            raise ValueError(f"unknown status {status!r} (known: {', '.join(_STATUS)})")
        self.issues[key].status = status

    def issues_labelled(self, label: str) -> list[SimIssue]:
        return [issue for issue in self.issues.values() if label in issue.labels]

    def _accepts(self, authorization: str) -> bool:
        if not self._token:
            return True
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.encode(), self._token.encode())
        if scheme.lower() == "basic":
            expected = base64.b64encode(f"{self._username}:{self._token}".encode()).decode()
            return hmac.compare_digest(value.encode(), expected.encode())
        return False

    @web.middleware
    async def _auth(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if not request.path.startswith("/_simulator/") and not self._accepts(
            request.headers.get("Authorization", "")
        ):
            return _jira_error(
                401, "You are not authenticated. Authentication required to perform this operation."
            )
        return await handler(request)

    def _issue_json(self, request: web.Request, issue: SimIssue, wanted: set[str] | None) -> dict[str, Any]:
        status_id, category, category_name = _STATUS[issue.status]
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "description": issue.description,
            "labels": issue.labels,
            "created": issue.created,
            "issuetype": {"name": issue.issue_type},
            "project": {"key": self.project_key},
            "status": {
                "id": status_id,
                "name": issue.status,
                "statusCategory": {"key": category, "name": category_name},
            },
        }
        if wanted is not None:
            fields = {k: v for k, v in fields.items() if k in wanted}
        origin = str(request.url.origin())
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{origin}/rest/api/2/issue/{issue.id}",
            "fields": fields,
        }

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            fields = body["fields"]
            project = fields.get("project", {}).get("key")
            issue_type = fields.get("issuetype", {}).get("name")
        except (ValueError, KeyError, TypeError, AttributeError):
            return _jira_error(400, "Could not parse the request: a JSON object with 'fields' is required.")
        errors: dict[str, str] = {}
        if project != self.project_key:
            errors["project"] = "valid project is required"
        if issue_type not in self.issue_types:
            errors["issuetype"] = "valid issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or any(not isinstance(x, str) or not x or " " in x for x in labels):
            errors["labels"] = "Labels cannot contain spaces."
        if errors:
            return _jira_error(400, **errors)
        self._next_id += 1
        key = f"{self.project_key}-{len(self.issues) + 1}"
        description = fields.get("description") or ""
        issue = SimIssue(str(self._next_id), key, summary, str(description), issue_type, list(labels))
        self.issues[key] = issue
        _log.info("simulator_ticket_created", ticket=key)
        return web.json_response(
            {"id": issue.id, "key": key, "self": f"{request.url.origin()}/rest/api/2/issue/{issue.id}"},
            status=201,
        )

    def _lookup(self, key_or_id: str) -> SimIssue | None:
        return self.issues.get(key_or_id) or next(
            (i for i in self.issues.values() if i.id == key_or_id), None
        )

    async def _read(self, request: web.Request) -> web.Response:
        issue = self._lookup(request.match_info["key"])
        if issue is None:
            return _jira_error(404, "Issue does not exist or you do not have permission to see it.")
        wanted = request.query.get("fields")
        fields = None if wanted in (None, "", "*all") else set(str(wanted).split(","))
        return web.json_response(self._issue_json(request, issue, fields))

    async def _transition(self, request: web.Request) -> web.Response:
        issue = self._lookup(request.match_info["key"])
        if issue is None:
            return _jira_error(404, "Issue does not exist or you do not have permission to see it.")
        try:
            transition_id = str((await request.json())["transition"]["id"])
        except (ValueError, KeyError, TypeError):
            return _jira_error(400, "A transition id is required.")
        if transition_id not in _TRANSITIONS:
            known = ", ".join(f"{k} ({v})" for k, v in _TRANSITION_NAMES.items())
            return _jira_error(400, f"Transition id '{transition_id}' is not valid (known: {known}).")
        issue.status = _TRANSITIONS[transition_id]
        return web.Response(status=204)

    async def _search(self, request: web.Request) -> web.Response:
        jql = request.query.get("jql", "")
        parts = re.split(r"\s+order\s+by\s+", jql, maxsplit=1, flags=re.IGNORECASE)
        where, order = parts[0], (parts[1] if len(parts) > 1 else "")
        matches = list(self.issues.values())
        for clause in filter(None, re.split(r"\s+and\s+", where.strip(), flags=re.IGNORECASE)):
            parsed = _CLAUSE.match(clause)
            if parsed is None:
                return _jira_error(400, f"Error in the JQL Query: cannot parse {clause.strip()!r}.")
            name, value = parsed.group(1).lower(), parsed.group(3).strip()
            if name == "labels":
                matches = [i for i in matches if value in i.labels]
            elif name == "project":
                matches = [i for i in matches if value.upper() == self.project_key]
            elif name == "status":
                matches = [i for i in matches if i.status.lower() == value.lower()]
            elif name == "issuetype":
                matches = [i for i in matches if i.issue_type.lower() == value.lower()]
            else:
                return _jira_error(
                    400, f"Field '{name}' does not exist or you do not have permission to view it."
                )
        matches.sort(key=lambda i: int(i.id), reverse=" desc" in f" {order.lower()}")
        limit = (
            int(request.query.get("maxResults", "50"))
            if request.query.get("maxResults", "").isdigit()
            else 50
        )
        wanted = request.query.get("fields")
        fields = None if wanted in (None, "", "*all") else set(str(wanted).split(","))
        return web.json_response(
            {
                "startAt": 0,
                "maxResults": limit,
                "total": len(matches),
                "issues": [self._issue_json(request, i, fields) for i in matches[:limit]],
            }
        )

    async def _inspect(self, _request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"key": i.key, "status": i.status, "summary": i.summary, "labels": i.labels}
                for i in self.issues.values()
            ]
        )
