"""The team directory behind the team leaders' views, and the store's choice between its two paths."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hotline.auth.model import User
from hotline.kpi import facts
from hotline.kpi.intervals import parse_interval, zone
from hotline.kpi.report import ReportOptions
from hotline.reports.kpis import FROM_ATTEMPTS, FROM_ROLLUPS, rollups_refusal, store_kpis
from hotline.reports.teams import TeamDirectory
from hotline.store import create_engine, migrate, repo

from .conftest import DAY0, generated_days

TZ = zone("Asia/Jakarta")


def _user(
    username: str, display: str, team: str, iface: str | None, pbx: str | None = None, role: str = "agent"
) -> User:
    return User(1, username, display, role, team, None, iface, pbx, "hash", True, 0.0, 0.0)  # type: ignore[arg-type]


def test_an_agent_is_found_by_interface_then_username_then_display_name() -> None:
    directory = TeamDirectory(
        [
            _user("1001", "Siti Rahma", "A", "PJSIP/1001", pbx="jakarta"),
            _user("y1001", "Budi Santoso", "B", "PJSIP/1001", pbx="yogyakarta"),
            _user("1002", "Dewi", "C", None),
            _user("tl-a", "Siti Rahma", "A", None, role="team_leader"),  # not an agent: never matched
        ]
    )
    # Both sites have an extension 1001: the PBX tells them apart.
    assert directory.team_of("Siti Rahma", "PJSIP/1001-0000002a", "jakarta") == "A"
    assert directory.team_of("Budi Santoso", "pjsip/1001", "yogyakarta") == "B"
    assert directory.team_of("siti rahma") == "A"  # display name, any case
    assert directory.team_of("1002", "PJSIP/1002") == "C"  # username
    assert directory.team_of("Somebody Else", "PJSIP/1099") is None
    answered = facts.QueueAttempt(
        "jakarta", "c1", 1, "q", None, None, DAY0, 1, facts.ANSWERED, None, 3.0,
        "Siti Rahma", "PJSIP/1001", DAY0 + 3, 30.0, 0.0, facts.BY_CALLER, None, 0, facts.SOURCE_AMI,
    )  # fmt: skip
    abandoned = replace(answered, call_id="c2", outcome=facts.ABANDONED, agent=None, agent_interface=None)
    assert directory.handled_by([answered, abandoned], "a") == [answered]
    assert directory.handled_by([answered, abandoned], "B") == []


def test_what_the_rollups_can_answer() -> None:
    def options(**values: object) -> ReportOptions:
        return ReportOptions(tz=TZ, **values)  # type: ignore[arg-type]

    assert rollups_refusal(options()) is None
    assert rollups_refusal(options(since=DAY0, until=DAY0 + 900, interval=parse_interval("60"))) is None
    assert rollups_refusal(options(interval=parse_interval("month"))) is None
    assert "start" in str(rollups_refusal(options(since=DAY0 + 60)))
    assert "end" in str(rollups_refusal(options(until=DAY0 + 1)))
    assert "20-minute" in str(rollups_refusal(options(interval=parse_interval("20"))))


async def test_a_store_whose_rollups_were_never_filled_answers_from_its_attempts(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    await migrate(engine)
    try:
        options = ReportOptions(tz=TZ, interval=parse_interval("day"))
        assert (await store_kpis(engine, options)).computed_from == FROM_ROLLUPS  # empty: nothing to miss
        attempts = [a for call in generated_days(3, 50, 1) for a in call]
        await repo.upsert_attempts(engine, attempts)  # attempts written before the rollups existed
        result = await store_kpis(engine, options)
        assert result.computed_from == FROM_ATTEMPTS and result.report.overall["offered"] == 50
    finally:
        await engine.dispose()
