"""The agents' time (login, pause by reason, available, occupancy) in the reports and the API:
``hotline report --by agent`` (HTML and CSV), ``GET /api/reports/day?by=agent`` and
``GET /api/kpi?by=agent``, for QA and for a team leader (their team's agents only)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.cli import main
from hotline.kpi import facts
from hotline.kpi.agent_definitions import WRAPUP_REASON
from hotline.kpi.agent_spans import LOGIN, PAUSE, AgentSpan
from hotline.kpi.facts import QueueAttempt
from hotline.rollup import agent_store
from hotline.rollup.agent_writer import AgentSessionWriter
from hotline.rollup.writer import RollupWriter
from hotline.store import create_engine, migrate

from .conftest import JAKARTA

DAY = datetime(2026, 1, 2, tzinfo=JAKARTA).timestamp()
H = 3600.0
ANI = {
    "login_s": 4 * H,
    "pause_s": 1860.0,
    "pause_by_reason": {"istirahat": 1800.0, WRAPUP_REASON: 60.0},
    "available_s": 4 * H - 1860,
    # (a 600 s call + 60 s wrap-up) / (available + wrap-up) x 100
    "occupancy": round(660 / (4 * H - 1860 + 60) * 100, 2),
}


def _span(agent: str, kind: str, start: float, end: float | None, reason: str | None = None) -> AgentSpan:
    return AgentSpan("jkt", agent, kind, start, end, reason, str(int(start)), None, facts.SOURCE_AMI)


async def _fill(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate(engine)
        call = QueueAttempt(
            "jkt", "c-1", 1, "cc-informasi", None, "0812", DAY + 9 * H - 10, 1, facts.ANSWERED,
            DAY + 9 * H + 600, 10.0, "Ani", "PJSIP/2001", DAY + 9 * H, 600.0, 0.0, facts.BY_CALLER,
            None, 0, facts.SOURCE_AMI,
        )  # fmt: skip
        await RollupWriter().apply(engine, [call])
        await AgentSessionWriter().project(engine, [], [call])  # its call span, as the live path writes it
        async with engine.begin() as connection:
            await agent_store.write_spans(
                connection,
                [
                    _span("Ani", LOGIN, DAY + 8 * H, DAY + 12 * H),
                    _span("Ani", PAUSE, DAY + 9 * H + 600, DAY + 9 * H + 660, WRAPUP_REASON),
                    _span("Ani", PAUSE, DAY + 10 * H, DAY + 10.5 * H, "istirahat"),
                    _span("Citra", LOGIN, DAY + 13 * H, DAY + 14 * H),  # logged in, no call
                    _span("Budi", LOGIN, DAY + 8 * H, DAY + 9 * H),
                ],
            )
    finally:
        await engine.dispose()


def test_the_day_report_per_agent_has_their_time(db_url: str, tmp_path: Path) -> None:
    asyncio.run(_fill(db_url))
    out = tmp_path / "report"
    argv = ["report", "--period", "day", "--date", "2026-01-02", "--by", "agent", "--out", str(out)]
    assert main([*argv, "--db", db_url, "--log-level", "error"]) == 0
    rows = {
        row["agent"]: row
        for row in csv.DictReader(io.StringIO((out / "day-2026-01-02-by-agent.csv").read_text()))
    }
    assert list(rows) == ["Ani", "Budi", "Citra", "total"]
    assert rows["Ani"]["answered"] == "1" and rows["Citra"]["answered"] == "0"
    assert (rows["Ani"]["login_s"], rows["Ani"]["pause_by_reason"], rows["Ani"]["occupancy"]) == (
        "14400.0", "istirahat=1800.0;wrapup=60.0", str(ANI["occupancy"]),
    )  # fmt: skip
    assert rows["total"]["login_s"] == ""
    buckets = list(csv.DictReader(io.StringIO((out / "day-2026-01-02-by-agent-30m.csv").read_text())))
    ani = [row for row in buckets if row["agent"] == "Ani"]
    assert [row["start"][11:16] for row in ani] == [f"{h:02d}:{m:02d}" for h in range(8, 12) for m in (0, 30)]
    assert sum(float(row["login_s"]) for row in ani) == 4 * H
    assert [row["pause_by_reason"] for row in ani if row["pause_by_reason"]] == [
        "wrapup=60.0",
        "istirahat=1800.0",
    ]
    page = (out / "day-2026-01-02-by-agent.html").read_text()
    assert "<h2>Agent time</h2>" in page and "Occupancy per agent" in page
    assert "<td>Ani</td><td>4:00:00</td><td>0:31:00</td><td>3:29:00</td>" in page


@dataclass
class Client:
    client: Any
    signer: Any

    async def get(self, path: str, user: str, role: str, team: str | None = None, **params: str) -> Any:
        token = self.signer.issue(user, role, extra={"team": team})
        async with self.client.get(
            path, params=params, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status == 200, await response.text()
            return (
                await response.json()
                if response.content_type == "application/json"
                else await response.text()
            )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    from aiohttp.test_utils import TestClient, TestServer

    from hotline.auth import web as auth_web
    from hotline.auth.model import NewUser
    from hotline.auth.passwords import hash_password
    from hotline.auth.users import create_user
    from hotline.config import Config
    from hotline.metrics import Registry
    from hotline.reports import http as reports_http
    from hotline.tokens import TokenSigner
    from hotline.web import create_app

    url = f"sqlite+aiosqlite:///{tmp_path}/api.db"
    await asyncio.to_thread(asyncio.run, _fill(url))
    engine = create_engine(url)
    secret = hash_password("agent time test password")
    people = [
        NewUser("qa1", "Quality", "qa"),
        NewUser("tl-a", "Leader A", "team_leader", team="A"),
        NewUser("ani", "Ani", "agent", team="A", iface="PJSIP/2001"),
        NewUser("citra", "Citra", "agent", team="A", iface="PJSIP/2003"),
        NewUser("budi", "Budi", "agent", team="B", iface="PJSIP/2002"),
    ]
    signer = TokenSigner(b"agent time test key, long enough to sign", default_ttl=3600)
    app = create_app(config=Config(), health_checks={}, metrics=Registry(), openapi_fragments=[])
    auth_web.setup(app, engine, signer)
    reports_http.setup(app, config=Config(), engine=engine)
    try:
        for person in people:
            await create_user(engine, person, secret)
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as test_client:
            yield Client(test_client, signer)
    finally:
        await engine.dispose()


async def test_the_kpi_api_per_agent_has_their_time(client: Client) -> None:
    window = {"from": "2026-01-02", "to": "2026-01-03", "by": "agent"}
    body = await client.get("/api/kpi", "qa1", "qa", **window)
    assert list(body["groups"]) == ["Ani", "Budi", "Citra"]
    assert {k: body["groups"]["Ani"][k] for k in ANI} == ANI
    assert body["groups"]["Citra"]["login_s"] == H and body["groups"]["Citra"]["offered"] == 0
    # A team leader sees the team's agents only, with their time.
    team = await client.get("/api/kpi", "tl-a", "team_leader", "A", **window)
    assert list(team["groups"]) == ["Ani", "Citra"]
    assert {k: team["groups"]["Ani"][k] for k in ANI} == ANI
    # The 15-minute rows of an agent carry the same keys, clipped.
    quarters = await client.get("/api/kpi", "qa1", "qa", **window, interval="15")
    rows = quarters["groups"]["Ani"]["intervals"]
    assert len(rows) == 96 and sum(row["login_s"] for row in rows) == 4 * H


async def test_the_report_api_per_agent_has_their_time(client: Client) -> None:
    text = await client.get(
        "/api/reports/day",
        "tl-a",
        "team_leader",
        "A",
        date="2026-01-02",
        by="agent",
        format="csv",
        table="groups",
    )
    rows = {row["agent"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"Ani", "Citra", "total"}
    assert rows["Citra"]["login_s"] == "3600.0"
