"""The QC API over real HTTP: who may read, score, amend, draw and calibrate; each refusal proved."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hotline.auth import audit_entries
from hotline.auth.users import set_active
from hotline.compose import Runtime
from recording.qc.samples import draw_sample
from recording.qc.settings import QcSettings
from tests.qc.helpers import MONDAY, TZ, Client, seed_traffic, token

DAY = MONDAY.isoformat()
RATINGS = {
    "greeting": 100,
    "identification": 100,
    "needs": 100,
    "accuracy": 100,
    "empathy": 50,
    "closing": 100,
    "cross_selling": None,
}


async def _drawn(runtime: Runtime) -> None:
    await seed_traffic(runtime.engine, MONDAY - timedelta(days=7), 7)
    await draw_sample(runtime.engine, QcSettings.from_config(runtime.config), MONDAY)


def _as(runtime: Runtime, username: str, role: str, team: str | None = None) -> Client:
    return Client(runtime, token(runtime, username, role, team))


async def _sample(client: Client) -> list[dict[str, Any]]:
    status, body = await client.get(f"/api/qc/samples?date={DAY}")
    assert status == 200, body
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_agents_and_strangers_are_refused_everywhere(runtime: Runtime) -> None:
    await _drawn(runtime)
    call = (await _sample(_as(runtime, "qc.dewi", "qc")))[0]
    agent = _as(runtime, "1001", "agent", "alpha")
    requests = [
        ("GET", "/api/qc/form", None),
        ("GET", f"/api/qc/samples?date={DAY}", None),
        ("POST", "/api/qc/samples", {"date": DAY}),
        ("GET", f"/api/qc/calls/{call['id']}", None),
        ("POST", f"/api/qc/calls/{call['id']}/scores", {"ratings": RATINGS}),
        ("POST", "/api/qc/scores/1/amendments", {"ratings": RATINGS, "reason": "x"}),
        ("GET", "/api/qc/reports", None),
        ("GET", "/api/qc/calibration", None),
        ("POST", "/api/qc/calibration", {}),
    ]
    for method, path, body in requests:
        assert (await agent.call(method, path, body))[0] == 403, path
        assert (await Client(runtime, None).call(method, path, body))[0] == 401, path
        assert (await Client(runtime, "v1.forged.token").call(method, path, body))[0] == 401, path
    refused = await audit_entries(runtime.engine, actor="1001")
    assert len(refused) == len(requests) and all(
        e.outcome == "refused" and e.action == "qc.access" for e in refused
    )
    await set_active(runtime.engine, "qa.eko", False)
    assert (await _as(runtime, "qa.eko", "qa").get("/api/qc/form"))[0] == 401


async def test_team_leaders_see_and_score_only_their_own_team(runtime: Runtime) -> None:
    await _drawn(runtime)
    leader = _as(runtime, "tl.alpha", "team_leader", "alpha")
    mine = await _sample(leader)
    assert mine and {c["team"] for c in mine} == {"alpha"}
    everyone = await _sample(_as(runtime, "qa.eko", "qa"))
    other = next(c for c in everyone if c["team"] == "beta")
    assert (await leader.get(f"/api/qc/samples?date={DAY}&team=beta"))[0] == 403
    assert (await leader.get("/api/qc/reports?team=beta"))[0] == 403
    for method, path, body in (
        ("GET", f"/api/qc/calls/{other['id']}", None),
        ("POST", f"/api/qc/calls/{other['id']}/scores", {"ratings": RATINGS}),
    ):
        status, reply = await leader.call(method, path, body)
        assert status == 403 and "another team" in reply["message"], path
    status, score = await leader.post(
        f"/api/qc/calls/{mine[0]['id']}/scores", {"ratings": RATINGS, "comment": "ok"}
    )
    assert status == 201 and score["total"] == 91.7 and score["scorer_role"] == "team_leader"
    # Another team's leader cannot amend it; calibration scores are QC's.
    beta = _as(runtime, "tl.beta", "team_leader", "beta")
    assert (await beta.post(f"/api/qc/scores/{score['id']}/amendments", {"ratings": RATINGS, "reason": "x"}))[
        0
    ] == 403
    calib = {"ratings": RATINGS, "kind": "calibration"}
    assert (await leader.post(f"/api/qc/calls/{mine[1]['id']}/scores", calib))[0] == 403
    assert (await leader.get("/api/qc/calibration"))[0] == 403
    assert (await leader.post("/api/qc/samples", {"date": DAY}))[0] == 403
    refused = [e for e in await audit_entries(runtime.engine, actor="tl.alpha") if e.outcome == "refused"]
    assert {e.target for e in refused} >= {f"qc-call:{other['id']}"}


async def test_qa_reads_but_does_not_score_and_admin_draws(runtime: Runtime) -> None:
    await seed_traffic(runtime.engine, MONDAY - timedelta(days=7), 7)
    admin = _as(runtime, "admin", "admin")
    status, summary = await admin.post("/api/qc/samples", {"date": DAY})
    assert status == 201 and summary["drawn"] == 15 and summary["peak_calls"] == 9
    status, again = await admin.post("/api/qc/samples", {"date": DAY})
    assert status == 200 and again["drawn"] == 0
    qa = _as(runtime, "qa.eko", "qa")
    call = (await _sample(qa))[0]
    assert (await qa.get(f"/api/qc/calls/{call['id']}"))[0] == 200
    assert (await qa.post(f"/api/qc/calls/{call['id']}/scores", {"ratings": RATINGS}))[0] == 403
    assert (await admin.post(f"/api/qc/calls/{call['id']}/scores", {"ratings": RATINGS}))[0] == 403
    assert (await admin.get("/api/qc/samples?date=23-11-2026"))[0] == 400
    draws = await audit_entries(runtime.engine, action="qc.sample")
    assert [e.actor for e in draws] == ["admin", "admin"] and draws[0].target == f"sample:{DAY}"


async def test_score_once_then_amend_with_a_reason(runtime: Runtime) -> None:
    await _drawn(runtime)
    qc = _as(runtime, "qc.dewi", "qc")
    call = (await _sample(qc))[0]
    path = f"/api/qc/calls/{call['id']}/scores"
    for bad, message in (
        ({"ratings": {**RATINGS, "greeting": 120}}, "outside 0-100"),
        ({"ratings": {"greeting": 100}}, "not rated"),
        ({"ratings": RATINGS, "kind": "vibes"}, "kind"),
    ):
        status, reply = await qc.post(path, bad)
        assert status == 400 and message in reply["message"]
    status, first = await qc.post(path, {"ratings": RATINGS, "comment": "empati kurang"})
    assert status == 201
    status, reply = await qc.post(path, {"ratings": RATINGS})
    assert status == 409 and "amend" in reply["message"]
    amend = f"/api/qc/scores/{first['id']}/amendments"
    status, reply = await qc.post(amend, {"ratings": {**RATINGS, "empathy": 100}})
    assert status == 400 and "reason" in reply["message"]
    status, fixed = await qc.post(amend, {"ratings": {**RATINGS, "empathy": 100}, "reason": "listened again"})
    assert status == 201 and fixed["amends_id"] == first["id"] and fixed["total"] == 100.0
    status, detail = await qc.get(f"/api/qc/calls/{call['id']}")
    assert [s["total"] for s in detail["scores"]] == [91.7, 100.0] and detail["review"]["amended"] is True
    assert detail["form"]["target"] == 90.0
    assert [e.action for e in await audit_entries(runtime.engine, actor="qc.dewi")] == [
        "qc.score",
        "qc.amend",
    ]
    assert (await qc.post("/api/qc/scores/999999/amendments", {"ratings": RATINGS, "reason": "x"}))[0] == 404
    assert (await qc.get("/api/qc/calls/999999"))[0] == 404


async def test_calibration_and_reports_over_http(runtime: Runtime) -> None:
    await _drawn(runtime)
    leader = _as(runtime, "tl.alpha", "team_leader", "alpha")
    for call in await _sample(leader):
        assert (await leader.post(f"/api/qc/calls/{call['id']}/scores", {"ratings": RATINGS}))[0] == 201
    qc = _as(runtime, "qc.dewi", "qc")
    status, picks = await qc.post("/api/qc/calibration", {"from": "2026-01-01", "to": "2099-12-31"})
    assert status == 200 and picks["team_leaders"]["tl.alpha"]["picked"] == 1
    picked = next(c for c in await _sample(qc) if c["calibration_pick"])
    status, _ = await qc.post(
        f"/api/qc/calls/{picked['id']}/scores",
        {"ratings": {**RATINGS, "empathy": 100}, "kind": "calibration"},
    )
    assert status == 201
    unpicked = next(c for c in await _sample(qc) if not c["calibration_pick"])
    calib = {"ratings": RATINGS, "kind": "calibration"}
    assert (await qc.post(f"/api/qc/calls/{unpicked['id']}/scores", calib))[0] == 409
    today = datetime.now(TZ).date()
    window = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    status, report = await qc.get(f"/api/qc/calibration?{window}")
    assert status == 200 and report["rescored"] == 1
    assert report["criteria"]["empathy"]["mean_deviation"] == -50.0
    status, body = await leader.get("/api/qc/reports?from=2026-11-16&to=2026-11-23")
    assert status == 200 and {r["team"] for r in body["rows"]} == {"alpha"}
    status, csv_text = await qc.get("/api/qc/reports?from=2026-11-16&to=2026-11-23&format=csv")
    assert status == 200 and csv_text.startswith("agent,") and "1001" in csv_text
    status, svg = await qc.get("/api/qc/reports?from=2026-11-16&to=2026-11-23&format=svg&grain=month")
    assert status == 200 and svg.startswith("<svg")
    assert (await qc.get("/api/qc/reports?grain=year"))[0] == 400
    assert (await qc.get("/api/qc/reports?from=2026-12-01&to=2026-11-01"))[0] == 400


async def test_the_page_and_its_files_are_served(runtime: Runtime) -> None:
    anyone = Client(runtime, None)
    status, html = await anyone.get("/qc")
    assert status == 200 and "/qc/static/app.js" in html
    assert (await anyone.get("/qc/static/app.css"))[0] == 200
    assert (await anyone.get("/qc/static/..%2Fhttp.py"))[0] == 404
    assert (await anyone.get("/qc/static/index.html"))[0] == 404
    status, document = await anyone.get("/openapi.json")
    assert "/api/qc/calls/{id}/scores" in document["paths"]
