"""``GET /api/kpi`` and ``GET /api/reports/{period}``: the KPIs and reports over HTTP, role-checked.

- ``/api/kpi?from=&to=&interval=&by=&pbx=``: the object ``hotline kpi --json`` prints, computed
  the same way (:mod:`hotline.reports.kpis`: the rollups when they can answer, else the attempts).
- ``/api/reports/{day|week|month}?date=&by=&format=html|csv&table=&interval=&pbx=``: the report
  ``hotline report`` writes (HTML page with charts, or one of its CSV tables).

Who sees what (tokens from ``POST /api/login``; every refusal is one log line):

- ``qa``, ``qc``, ``admin``: everything;
- ``team_leader``: their own team's agents only (:mod:`hotline.reports.team_view`), so ``by=agent``
  (or ``by=team`` for a report); what cannot be filtered by team is refused with 403 and the reason;
- ``agent``: nothing (403); no or a bad token: 401.

The user is looked up at each request (``require_active``): a disabled user's token stops working
at once, and a team leader moved to another team needs a fresh token to see it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import date
from typing import Final

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.guard import forbidden, require_active
from hotline.auth.model import ADMIN, QA, QC, TEAM_LEADER, Principal, same_name
from hotline.config import Config, ConfigError
from hotline.kpi.agent_spans import AgentSpan
from hotline.kpi.cli import parse_time
from hotline.kpi.definitions import BY_AGENT, GROUPINGS
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import parse_interval, zone
from hotline.kpi.report import ReportOptions
from hotline.reports import model
from hotline.reports.attempts import load_window
from hotline.reports.csvfiles import BUCKETS, GROUPS, TABLES, csv_tables
from hotline.reports.facts import load_facts
from hotline.reports.html import render
from hotline.reports.kpis import (
    kpi_json,
    normalized,
    rollups_refusal,
    store_kpis,
    with_agent_times,
    with_period_agent_time,
)
from hotline.reports.openapi import FRAGMENT
from hotline.reports.team_view import NOT_A_TEAM_FIGURE, team_kpis, team_report
from hotline.reports.teams import TeamDirectory, load_team_directory
from hotline.web.app import add_openapi
from hotline.wfm.forecast import day_bounds

KPI_ROLES: Final = (QA, QC, ADMIN, TEAM_LEADER)
"""Roles that may ask; all but team leaders see every call."""
MAX_ATTEMPTS_WINDOW_S: Final = 32 * 86400
"""Longest window computed from the raw attempts over HTTP (a month): the rollups have no limit."""
_KPI_PARAMS: Final = frozenset({"from", "to", "interval", "by", "pbx"})
_REPORT_PARAMS: Final = frozenset({"date", "by", "format", "table", "interval", "pbx"})
CONFIG_KEY: Final = web.AppKey("hotline.reports.config", Config)
ENGINE_KEY: Final = web.AppKey("hotline.reports.engine", AsyncEngine)


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message)


def _check_params(query: Mapping[str, str], known: frozenset[str]) -> None:
    unknown = sorted(set(query) - known)
    if unknown:
        raise _bad(f"unknown query parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def _team(request: web.Request, principal: Principal) -> str:
    if not principal.team:
        raise forbidden(request, principal, "a team leader without a team sees no KPIs")
    return principal.team


def _options(request: web.Request, cfg: Config) -> ReportOptions:
    query = request.query
    tz = zone(cfg.kpi.timezone)
    try:
        since = parse_time(query.get("from"), tz, "from")
        until = parse_time(query.get("to"), tz, "to")
        interval = parse_interval(query["interval"]) if "interval" in query else None
    except ConfigError as exc:
        raise _bad(str(exc)) from None
    if since is not None and until is not None and until <= since:
        raise _bad("to must be after from")
    by = query.get("by")
    if by is not None and by not in GROUPINGS:
        raise _bad(f"by must be one of {', '.join(GROUPINGS)}")
    sites = {pbx.name: pbx.site for pbx in cfg.pbx}
    return ReportOptions(
        tz=tz,
        service_level_s=cfg.kpi.service_level_seconds,
        short_abandon_s=cfg.kpi.short_abandon_seconds,
        since=since,
        until=until,
        interval=interval,
        by=by,
        site_of=lambda pbx: sites.get(pbx, pbx),
    )


def _check_attempts_window(options: ReportOptions, why: str) -> None:
    """Refuse (400) a window too long to be summed from the raw attempts within a request."""
    since, until = options.since, options.until
    if since is None or until is None or until - since > MAX_ATTEMPTS_WINDOW_S:
        raise _bad(f"{why}: give from and to at most 32 days apart")


async def _kpi(request: web.Request) -> web.Response:
    principal = await require_active(request, KPI_ROLES)
    cfg, engine = request.app[CONFIG_KEY], request.app[ENGINE_KEY]
    _check_params(request.query, _KPI_PARAMS)
    options = _options(request, cfg)
    pbx = request.query.get("pbx")
    label = options.interval.label if options.interval is not None else None
    if principal.role == TEAM_LEADER:
        team = _team(request, principal)
        if options.by != BY_AGENT:
            raise forbidden(request, principal, NOT_A_TEAM_FIGURE)
        _check_attempts_window(options, "a team's KPIs are summed from its agents' calls")
        window = await load_window(engine, options.since, options.until, pbx)
        directory = await load_team_directory(engine)
        rows = directory.handled_by(window.inside, team)
        report = await asyncio.to_thread(team_kpis, rows, options, team)

        def in_team(span: AgentSpan) -> bool:
            return same_name(directory.team_of(span.agent, span.interface, span.pbx), team)

        report = normalized(await with_agent_times(engine, report, options, pbx=pbx, keep=in_team))
        body = {
            **kpi_json(report, timezone=cfg.kpi.timezone, interval_label=label, source="ami"),
            "team": team,
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})
    reason = rollups_refusal(options)
    if reason is not None:
        _check_attempts_window(options, f"{reason}, so the KPIs are summed from the attempts")
    result = await store_kpis(engine, options, pbx=pbx)
    body = kpi_json(result.report, timezone=cfg.kpi.timezone, interval_label=label, source="ami")
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def _period(request: web.Request) -> model.Period:
    query = request.query
    kind = request.match_info["period"]
    if kind not in model.PERIODS:
        raise web.HTTPNotFound(text=f"no report period {kind!r}; periods: {', '.join(model.PERIODS)}")
    if "date" not in query:
        raise _bad("date (YYYY-MM-DD, a day in the period) is required")
    try:
        day = date.fromisoformat(query["date"])
        minutes = int(query.get("interval", "30"))
        return model.period_of(kind, day, minutes)
    except ValueError as exc:
        raise _bad(f"date must be YYYY-MM-DD and interval whole minutes dividing an hour: {exc}") from None


async def _report(request: web.Request) -> web.Response:
    principal = await require_active(request, KPI_ROLES)
    cfg, engine = request.app[CONFIG_KEY], request.app[ENGINE_KEY]
    query = request.query
    _check_params(query, _REPORT_PARAMS)
    period = _period(request)
    by, fmt = query.get("by"), query.get("format", "html")
    if by is not None and by not in (*GROUPINGS, model.BY_TEAM):
        raise _bad(f"by must be one of {', '.join((*GROUPINGS, model.BY_TEAM))}")
    if fmt not in ("html", "csv"):
        raise _bad("format must be html or csv")
    table = query.get("table", GROUPS if by else BUCKETS)
    if table not in TABLES or (table != BUCKETS and by is None):
        raise _bad(f"table must be one of {', '.join(TABLES)} (groups and group_buckets need by)")
    team = None
    if principal.role == TEAM_LEADER:
        team = _team(request, principal)
        if by not in (BY_AGENT, model.BY_TEAM):
            raise forbidden(request, principal, NOT_A_TEAM_FIGURE + " (by=agent or by=team)")
    tz = zone(cfg.kpi.timezone)
    since, _ = day_bounds(period.first_day, tz)
    _, until = day_bounds(period.days[-1], tz)
    attempts = await load_facts(engine, since, until, pbx=query.get("pbx"))
    # The user directory is read only when teams matter (one query).
    directory = await load_team_directory(engine) if team or by == model.BY_TEAM else TeamDirectory(())
    report = await asyncio.to_thread(_build, cfg, period, attempts, directory, by, team)
    if report.by == BY_AGENT:

        def in_team(span: AgentSpan) -> bool:
            return same_name(directory.team_of(span.agent, span.interface, span.pbx), team)

        keep = in_team if team is not None else None
        await with_period_agent_time(engine, report, tz, pbx=query.get("pbx"), keep=keep)
    stem = f"{period.kind}-{period.label}"
    if fmt == "html":
        page = await asyncio.to_thread(render, report, time.time(), tz)
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})
    name, text = csv_tables(report, stem, tz)[table]
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return web.Response(text=text, content_type="text/csv", headers=headers)


def _build(
    cfg: Config,
    period: model.Period,
    attempts: list[QueueAttempt],
    directory: TeamDirectory,
    by: str | None,
    team: str | None,
) -> model.Report:
    tz = zone(cfg.kpi.timezone)
    targets = model.Targets(
        scr=cfg.kpi.scr_target,
        aht=cfg.kpi.aht_target,
        service_level_s=cfg.kpi.service_level_seconds,
        short_abandon_s=cfg.kpi.short_abandon_seconds,
    )
    if team is not None:
        rows = directory.handled_by(attempts, team)
        return team_report(
            rows, period, tz, team, timezone=cfg.kpi.timezone, targets=targets, by=by or BY_AGENT
        )
    sites = {pbx.name: pbx.site for pbx in cfg.pbx}
    return model.build_report(
        attempts,
        period,
        tz,
        timezone=cfg.kpi.timezone,
        targets=targets,
        by=by,
        site_of=lambda pbx: sites.get(pbx, pbx),
        team_of=lambda agent: directory.team_of(agent),
    )


def setup(app: web.Application, *, config: Config, engine: AsyncEngine) -> None:
    """Add ``/api/kpi`` and ``/api/reports/{period}`` to ``app`` (after ``hotline.auth.web.setup``)."""
    app[CONFIG_KEY] = config
    app[ENGINE_KEY] = engine
    app.router.add_get("/api/kpi", _kpi, name="api-kpi", allow_head=False)
    app.router.add_get("/api/reports/{period}", _report, name="api-report", allow_head=False)
    add_openapi(app, FRAGMENT)


__all__ = ["KPI_ROLES", "MAX_ATTEMPTS_WINDOW_S", "setup"]
