"""QC in the store (SQLite and PostgreSQL): schema, the daily draw, immutable scores, calibration, reports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.auth.model import Principal
from hotline.store import create_engine, migrate
from recording.qc import calibration, reports
from recording.qc.calls import get_call, list_sample
from recording.qc.samples import draw_sample
from recording.qc.scores import ScoreConflict, in_force, scores_of, submit
from recording.qc.tables import CALIBRATION, PEAK, metadata, qc_score, qc_score_item, sampled_call
from recording.tables import recording
from tests.qc.helpers import MONDAY, TZ, add_users, seed_traffic, settings

QC_TABLES = set(metadata.tables)
DEWI = Principal("qc.dewi", "qc")
ANI = Principal("tl.alpha", "team_leader", team="alpha")


def _diff(connection: Connection) -> list[object]:
    def mine(name: str | None, kind: str, parent: object) -> bool:
        return kind != "table" or name in QC_TABLES

    context = MigrationContext.configure(connection, opts={"include_name": mine})
    return list(compare_metadata(context, metadata))


async def test_the_migration_creates_the_tables_the_code_describes(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_monday_sample_per_agent_split_peak_and_offpeak(engine: AsyncEngine) -> None:
    await seed_traffic(engine, MONDAY - timedelta(days=28), 35)
    summary = await draw_sample(engine, settings(), MONDAY)
    assert summary.peak_intervals == ("09:00-10:00", "10:00-11:00", "11:00-12:00")
    assert summary.agents == 3 and summary.drawn == 15 and summary.short == ()
    assert (summary.peak_calls, summary.offpeak_calls) == (9, 6)
    sample = await list_sample(engine, MONDAY)
    assert {c["agent"] for c in sample} == {"1001", "1002", "1003"}
    assert {c["team"] for c in sample} == {"alpha", "beta"}
    assert all(summary.since <= c["started_at"] < summary.until for c in sample)
    for agent in ("1001", "1002", "1003"):
        mine = [c for c in sample if c["agent"] == agent]
        assert len(mine) == 5 and sum(c["stratum"] == PEAK for c in mine) == 3
    assert await list_sample(engine, MONDAY, team="beta") == [c for c in sample if c["team"] == "beta"]


async def test_a_day_drawn_again_adds_nothing_and_no_call_is_ever_drawn_twice(engine: AsyncEngine) -> None:
    await seed_traffic(engine, MONDAY - timedelta(days=3), 2)  # Friday and Saturday only
    big = settings(samples_per_agent=40)
    first = await draw_sample(engine, big, MONDAY)
    again = await draw_sample(engine, big, MONDAY)
    assert first.drawn > 0 and again.drawn == 0 and set(again.already_sampled) == {"1001", "1002", "1003"}
    # A sample of Friday (covering Thursday) drawn late cannot take Monday's calls either.
    async with engine.begin() as connection:
        keys = (await connection.execute(sa.select(sampled_call.c.pbx, sampled_call.c.call_key))).all()
    assert len(keys) == len(set(keys)) == first.drawn
    with pytest.raises(DBAPIError):
        async with engine.begin() as connection:
            row = (await connection.execute(sa.select(sampled_call).limit(1))).mappings().one()
            clone = {k: v for k, v in row.items() if k != "id"} | {"sample_date": date(2026, 12, 1)}
            await connection.execute(sa.insert(sampled_call).values(clone))


async def test_the_same_seed_and_traffic_give_the_same_sample(tmp_path: object, db_url: str) -> None:
    drawn = []
    for name in ("a", "b"):
        url = db_url if name == "a" else f"sqlite+aiosqlite:///{tmp_path}/other.db"
        engine = create_engine(url)
        try:
            await migrate(engine)
            await add_users(engine)
            await seed_traffic(engine, MONDAY - timedelta(days=14), 14)
            await draw_sample(engine, settings(seed=7), MONDAY)
            drawn.append([(c["agent"], c["call_key"]) for c in await list_sample(engine, MONDAY)])
        finally:
            await engine.dispose()
    assert drawn[0] == drawn[1] and len(drawn[0]) == 15


async def _sampled(engine: AsyncEngine) -> list[dict[str, object]]:
    await seed_traffic(engine, MONDAY - timedelta(days=7), 7)
    await draw_sample(engine, settings(), MONDAY)
    return await list_sample(engine, MONDAY)


async def test_scores_are_immutable_and_amendments_keep_both(engine: AsyncEngine) -> None:
    call = (await _sampled(engine))[0]
    form = settings().form
    sheet = form.sheet({c.key: 100 for c in form.criteria} | {"empathy": 0})
    original = await submit(engine, call, ANI, sheet, comment="kurang empati")
    assert original.total == 85.0
    with pytest.raises(ScoreConflict):
        await submit(engine, call, DEWI, sheet)
    for statement in (
        sa.update(qc_score).values(total=100.0),
        sa.delete(qc_score),
        sa.update(qc_score_item).values(rating=100.0),
        sa.delete(qc_score_item),
    ):
        with pytest.raises(DBAPIError, match="immutable"):
            async with engine.begin() as connection:
                await connection.execute(statement)
    better = form.sheet({c.key: 100 for c in form.criteria})
    first_fix = await submit(engine, call, ANI, better, amends=original, reason="re-listened: empathy shown")
    second_fix = await submit(engine, call, DEWI, sheet, amends=first_fix, reason="calibrated with QC")
    assert first_fix.amends_id == second_fix.amends_id == original.id  # both reference the original
    history = await scores_of(engine, [int(call["id"])])
    assert [s.total for s in history] == [85.0, 100.0, 85.0]
    ((chain_original, current),) = in_force(history).values()
    assert chain_original.id == original.id and current.id == second_fix.id
    decorated = await get_call(engine, int(call["id"]))
    assert decorated is not None and decorated["review"] == {
        "id": second_fix.id,
        "total": 85.0,
        "scorer": "tl.alpha",
        "amended": True,
    }


async def test_a_review_score_is_mirrored_on_the_recording_row(engine: AsyncEngine) -> None:
    call = (await _sampled(engine))[0]
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(recording).values(
                pbx=call["pbx"],
                site="jakarta",
                call_id=call["call_key"],
                uniqueid=call["call_id"],
                channel="PJSIP/x-1",
                direction="inbound",
                started_at=1.0,
                status="missing",
                updated_at=1.0,
            )
        )
    form = settings().form
    await submit(engine, call, DEWI, form.sheet({c.key: 50 for c in form.criteria}))
    async with engine.begin() as connection:
        score = (await connection.execute(sa.select(recording.c.qc_score))).scalar_one()
    assert score == 50.0
    listed = await get_call(engine, int(call["id"]))
    assert listed is not None and listed["recording_status"] == "missing" and listed["audio_url"] is None


async def test_calibration_picks_ten_percent_per_leader_and_reports_deviation(engine: AsyncEngine) -> None:
    await seed_traffic(engine, MONDAY - timedelta(days=7), 7)
    await draw_sample(engine, settings(samples_per_agent=12), MONDAY)
    calls = await list_sample(engine, MONDAY, team="alpha")
    assert len(calls) == 24
    form = settings().form
    for i, call in enumerate(calls):
        await submit(engine, call, ANI, form.sheet({c.key: 100 if i % 2 else 50 for c in form.criteria}))
    window = (0.0, 4e9)
    picks = await calibration.select_calls(engine, *window, share=0.1, seed=3)
    assert picks == {"tl.alpha": {"scored": 24, "target": 3, "picked": 3, "added": 3}}
    again = await calibration.select_calls(engine, *window, share=0.1, seed=3)
    assert again["tl.alpha"]["added"] == 0
    report = await calibration.report(engine, *window)
    assert report["picked"] == 3 and report["rescored"] == 0 and len(report["pending"]) == 3
    picked = [c for c in calls if c["id"] in report["pending"]]
    for call in picked:
        await submit(engine, call, DEWI, form.sheet({c.key: 75 for c in form.criteria}), kind=CALIBRATION)
    report = await calibration.report(engine, *window)
    leader_totals = [50.0 if calls.index(c) % 2 == 0 else 100.0 for c in picked]
    expected = round(sum(t - 75 for t in leader_totals) / 3, 1)
    (scorer,) = report["scorers"]
    assert scorer["scorer"] == "tl.alpha" and scorer["total"]["mean_deviation"] == expected
    assert scorer["total"]["mean_abs_deviation"] == 25.0
    assert report["criteria"]["greeting"] == {"n": 3, "mean_deviation": expected, "mean_abs_deviation": 25.0}


async def test_reports_average_criteria_below_target_trend_csv_and_svg(engine: AsyncEngine) -> None:
    await seed_traffic(engine, MONDAY - timedelta(days=14), 14)
    await draw_sample(engine, settings(), MONDAY - timedelta(days=7))
    await draw_sample(engine, settings(), MONDAY)
    form = settings().form
    scored = 0
    for day, empathy in ((MONDAY - timedelta(days=7), 40), (MONDAY, 100)):
        for call in await list_sample(engine, day, agent="1001"):
            ratings = {c.key: 100 for c in form.criteria} | {"empathy": empathy}
            await submit(engine, call, DEWI, form.sheet(ratings))
            scored += 1
    report = await reports.build(engine, MONDAY - timedelta(days=14), MONDAY, TZ, 90.0, agent="1001")
    rows = report.rows
    assert [r["period"] for r in rows] == ["2026-W46", "2026-W47"] and sum(r["calls"] for r in rows) == scored
    assert (
        rows[0]["average_qm"] == 91.0 and rows[0]["below_target"] == ["empathy"] and rows[0]["trend"] is None
    )
    assert rows[1]["average_qm"] == 100.0 and rows[1]["below_target"] == [] and rows[1]["trend"] == 9.0
    assert report.periods == ("2026-W46", "2026-W47", "2026-W48") and report.series[2] is None
    csv_lines = report.csv().splitlines()
    assert csv_lines[0].startswith("agent,agent_name,team,period,calls,average_qm")
    assert csv_lines[1].startswith("1001,Siti Rahma,alpha,2026-W46,5,91.0,90.0,True,empathy,")
    svg = report.svg()
    assert svg.startswith("<svg") and "target 90" in svg and svg.count("<circle") == 2
    monthly = await reports.build(engine, MONDAY - timedelta(days=14), MONDAY, TZ, 90.0, grain="month")
    assert [(r["agent"], r["period"]) for r in monthly.rows] == [("1001", "2026-11")]
