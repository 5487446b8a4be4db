"""``GET /api/reports/{period}``: the report hotline report writes, as HTML or CSV, role-checked."""

from __future__ import annotations

import csv
import io
import re

from .conftest import TEAM_A_AGENTS, Api


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_qa_gets_the_html_report_with_its_charts(api: Api) -> None:
    status, page, headers = await api.get("/api/reports/day", "qa1", date="2026-01-02", by="queue")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Daily report 2026-01-02" in page and page.count("<svg") >= 3
    assert "cc-informasi" in page and "Scope:" not in page
    status, page, _ = await api.get("/api/reports/week", "admin1", date="2026-01-02")
    assert status == 200 and "Weekly report 2026-W01" in page


async def test_csv_tables_are_the_files_the_cli_writes(api: Api) -> None:
    status, text, headers = await api.get("/api/reports/day", "qc1", date="2026-01-02", format="csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert 'filename="day-2026-01-02.csv"' in headers["Content-Disposition"]
    rows = _rows(text)
    assert len(rows) == 48 + 1 and rows[-1]["start"] == "total"  # 30-minute intervals, then the day
    assert int(rows[-1]["offered"]) == sum(int(r["offered"]) for r in rows[:-1]) > 0
    status, text, headers = await api.get(
        "/api/reports/month", "qa1", date="2026-01-02", format="csv", by="site"
    )
    assert 'filename="month-2026-01-by-site.csv"' in headers["Content-Disposition"]
    assert [r["site"] for r in _rows(text)] == ["jakarta", "yogyakarta", "total"]
    status, text, _ = await api.get(
        "/api/reports/month", "qa1", date="2026-01-02", format="csv", by="team", table="groups"
    )
    assert status == 200 and [r["team"] for r in _rows(text)] == ["A", "B", "total"]


async def test_bad_report_requests_say_what_is_wrong(api: Api) -> None:
    for path, params, status_words in (
        ("/api/reports/year", {"date": "2026-01-02"}, (404, "period")),
        ("/api/reports/day", {}, (400, "date")),
        ("/api/reports/day", {"date": "02/01/2026"}, (400, "YYYY-MM-DD")),
        ("/api/reports/day", {"date": "2026-01-02", "format": "pdf"}, (400, "format")),
        ("/api/reports/day", {"date": "2026-01-02", "format": "csv", "table": "groups"}, (400, "need by")),
        ("/api/reports/day", {"date": "2026-01-02", "interval": "7"}, (400, "interval")),
    ):
        status, body, _ = await api.get(path, "qa1", **params)
        assert (status, status_words[1] in body["message"]) == (status_words[0], True), (path, params, body)


async def test_a_team_leader_report_holds_their_team_only(api: Api) -> None:
    status, text, _ = await api.get(
        "/api/reports/day", "tl-a", date="2026-01-02", by="agent", format="csv", table="groups"
    )
    assert status == 200, text
    rows = _rows(text)
    agents = {r["agent"] for r in rows} - {"total"}
    assert agents and agents <= TEAM_A_AGENTS
    total = rows[-1]
    assert int(total["offered"]) == sum(int(r["offered"]) for r in rows[:-1])  # the team, not the center
    assert total["abandoned"] == "0"
    status, page, _ = await api.get("/api/reports/day", "tl-a", date="2026-01-02", by="agent")
    assert status == 200 and "Scope: team A" in page
    assert not re.search(r"agent-(yog|jkt)-[5-9]", page)
    status, text, _ = await api.get(
        "/api/reports/week", "tl-b", date="2026-01-02", by="team", format="csv", table="groups"
    )
    assert status == 200 and [r["team"] for r in _rows(text)] == ["B", "total"]


async def test_what_cannot_be_filtered_by_team_is_refused_to_team_leaders(api: Api) -> None:
    for by in (None, "queue", "site"):
        params = {"date": "2026-01-02", **({"by": by} if by else {})}
        status, body, _ = await api.get("/api/reports/day", "tl-a", **params)
        assert status == 403 and "belong to no team" in body["message"], (by, body)
