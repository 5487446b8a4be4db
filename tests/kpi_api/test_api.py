"""``GET /api/kpi``: what ``hotline kpi --json`` prints, to the roles that may see it, and no more.

QA, QC and admins see every call; a team leader only their own team's agents (by=agent), anything
else refused with 403 and the reason; agents 403; no or a bad token 401.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import hotline.cli
from hotline.kpi.report import SUMMARY_KEYS

from .conftest import TEAM_A_AGENTS, Api

WINDOW = {"from": "2026-01-01", "to": "2026-01-04"}


CONFIG = """
[[pbx]]
name = "jkt"
site = "jakarta"
ami_secret = "unused"

[[pbx]]
name = "yog"
site = "yogyakarta"
ami_secret = "unused"
"""


def _cli_json(config: Path, db_url: str, *argv: str) -> Any:
    """``hotline kpi --json ARGV`` on the same store, in-process (run in a thread: it has its own loop)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        command = ["kpi", "--json", "--config", str(config), "--db", db_url, *argv, "--log-level", "error"]
        code = hotline.cli.main(command)
    assert code == 0
    return json.loads(out.getvalue())


async def test_no_token_or_a_bad_one_is_401(api: Api) -> None:
    for path in ("/api/kpi", "/api/reports/day"):
        status, body, headers = await api.get(path, None, date="2026-01-02")
        assert status == 401 and "Bearer" in headers["WWW-Authenticate"], body
        async with api.client.get(path, headers={"Authorization": "Bearer v1.forged.token"}) as response:
            assert response.status == 401


async def test_agents_are_refused(api: Api) -> None:
    status, body, _ = await api.get("/api/kpi", "agent-jkt-1", **WINDOW, by="agent")
    assert status == 403 and "role agent" in body["message"]
    status, body, _ = await api.get("/api/reports/day", "agent-jkt-1", date="2026-01-02", by="agent")
    assert status == 403


async def test_a_disabled_user_is_cut_off_at_once(api: Api) -> None:
    from hotline.auth.users import set_active

    token_holder = "qa1"
    assert (await api.get("/api/kpi", token_holder, **WINDOW))[0] == 200
    await set_active(api.engine, token_holder, False)
    assert (await api.get("/api/kpi", token_holder, **WINDOW))[0] == 401


async def test_qa_qc_and_admin_get_what_the_cli_prints(api: Api, tmp_path: Path) -> None:
    db_url = str(api.engine.url)
    config = tmp_path / "hotline.toml"
    config.write_text(CONFIG, encoding="utf-8")
    cases: list[dict[str, str]] = [
        dict(WINDOW),
        {**WINDOW, "interval": "60", "by": "queue"},
        {**WINDOW, "interval": "day", "by": "site"},
        {"from": "2026-01-02T10:00", "to": "2026-01-02T12:00", "interval": "15", "by": "agent", "pbx": "jkt"},
        {"from": "2026-01-02T10:07", "to": "2026-01-02T12:00", "interval": "20"},  # from the attempts
    ]
    for params in cases:
        argv = [f"--{key}={value}" for key, value in params.items()]
        expected = await asyncio.to_thread(_cli_json, config, db_url, *argv)
        for user in ("qa1", "qc1", "admin1"):
            status, body, headers = await api.get("/api/kpi", user, **params)
            assert status == 200, body
            assert body == expected, (user, params)
            assert headers["Cache-Control"] == "no-store"
    assert expected["offered"] > 0 and set(SUMMARY_KEYS) <= set(expected)


async def test_bad_parameters_are_400_with_the_reason(api: Api) -> None:
    for params, words in (
        ({"from": "yesterday"}, "ISO 8601"),
        ({**WINDOW, "interval": "7"}, "interval"),
        ({**WINDOW, "by": "team"}, "by must be"),
        ({"from": "2026-01-03", "to": "2026-01-02"}, "after"),
        ({**WINDOW, "form": "typo"}, "unknown query parameter"),
        ({"from": "2026-01-02T10:07"}, "32 days"),  # the attempts path needs a bounded window
    ):
        status, body, _ = await api.get("/api/kpi", "qa1", **params)
        assert status == 400 and words in body["message"], (params, body)


async def test_team_leaders_see_their_team_agents_only(api: Api) -> None:
    status, everyone, _ = await api.get("/api/kpi", "qa1", **WINDOW, by="agent", interval="day")
    assert status == 200
    status, team_a, _ = await api.get("/api/kpi", "tl-a", **WINDOW, by="agent", interval="day")
    assert status == 200, team_a
    assert team_a["team"] == "A"
    assert set(team_a["groups"]) == TEAM_A_AGENTS
    for agent in TEAM_A_AGENTS:  # each agent's figures are those QA sees
        assert team_a["groups"][agent] == everyone["groups"][agent]
    # The total is the team's agents together (every ACD call one offer), not the center's.
    team_calls = sum(everyone["groups"][a]["offered"] for a in TEAM_A_AGENTS)
    assert team_a["offered"] == team_a["answered"] == team_calls < everyone["offered"]
    assert team_a["abandoned"] == 0
    assert sum(i["offered"] for i in team_a["intervals"]) == team_calls
    assert [i["start"] for i in team_a["intervals"]] == [i["start"] for i in everyone["intervals"]]
    status, team_b, _ = await api.get("/api/kpi", "tl-b", **WINDOW, by="agent")
    assert status == 200 and not set(team_b["groups"]) & TEAM_A_AGENTS
    assert set(team_b["groups"]) | TEAM_A_AGENTS == set(everyone["groups"])


async def test_what_cannot_be_filtered_by_team_is_refused_to_team_leaders(api: Api) -> None:
    for params in (dict(WINDOW), {**WINDOW, "by": "queue"}, {**WINDOW, "by": "site", "interval": "60"}):
        status, body, _ = await api.get("/api/kpi", "tl-a", **params)
        assert status == 403, params
        assert "by=agent" in body["message"] and "belong to no team" in body["message"]
    # A team's KPIs are summed from its agents' calls: the window must be bounded.
    status, body, _ = await api.get("/api/kpi", "tl-a", by="agent")
    assert status == 400 and "from and to" in body["message"]


async def test_openapi_documents_the_routes(api: Api) -> None:
    async with api.client.get("/openapi.json") as response:
        document = await response.json()
    paths = document["paths"]
    for path in ("/api/kpi", "/api/reports/{period}", "/wallboard", "/wallboard/ws", "/wallboard/{name}"):
        assert "get" in paths[path], path
    kpi = paths["/api/kpi"]["get"]
    assert {p["name"] for p in kpi["parameters"]} == {"from", "to", "interval", "by", "pbx"}
    assert {"401", "403"} <= set(kpi["responses"])
    assert "team_leader" in kpi["description"]
