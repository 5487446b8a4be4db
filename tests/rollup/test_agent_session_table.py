"""``agent_session``: written from committed batches (idempotent, restart-proof), rebuilt from the
event log, read back per window; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.ami.protocol import Event
from hotline.cli import main
from hotline.kpi import facts
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan
from hotline.kpi.facts import QueueAttempt
from hotline.rollup import agent_store
from hotline.rollup.agent_tables import agent_session
from hotline.rollup.agent_writer import AgentSessionWriter
from hotline.store import create_engine, migrate

T0 = 1_795_600_000
CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
Row = tuple[str, str, str, float, float | None, str | None]


@dataclass(frozen=True)
class Stored:
    """What the event log hands the projection: an event and its PBX."""

    pbx: str
    event: Event

    @property
    def name(self) -> str:
        return self.event.name

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return self.event.headers

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.event.get(key, default)


def member(name: str, queue: str, at: float, *, login: int = T0, paused: bool = False, reason: str = "",
           last_pause: int = 0) -> Stored:  # fmt: skip
    headers = (
        ("Event", name), ("Timestamp", f"{at:.6f}"), ("Queue", queue), ("MemberName", "Ani"),
        ("Interface", "PJSIP/2001"), ("LastPause", str(last_pause)), ("LoginTime", str(login)),
        ("Paused", "1" if paused else "0"), ("PausedReason", reason),
    )  # fmt: skip
    return Stored("jkt", Event(headers))


async def rows(engine: AsyncEngine) -> list[Row]:
    table = agent_session
    query = select(
        table.c.source, table.c.agent, table.c.kind, table.c.started_at, table.c.ended_at, table.c.reason
    )
    async with engine.connect() as connection:
        found = (await connection.execute(query)).all()
    return sorted(
        (str(a), str(b), str(c), float(d), None if e is None else float(e), f) for a, b, c, d, e, f in found
    )


async def test_batches_write_spans_once_however_often_they_come(engine: AsyncEngine) -> None:
    writer = AgentSessionWriter()
    opening = [member("QueueMemberAdded", "q1", T0 + 0.5), member("QueueMemberPause", "q1", T0 + 60.2,
               paused=True, reason="makan", last_pause=T0 + 60)]  # fmt: skip
    assert await writer.project(engine, opening, []) == 2
    assert await writer.project(engine, opening, []) == 0  # nothing new: nothing written
    assert await rows(engine) == [
        ("ami", "Ani", LOGIN, T0, None, None),
        ("ami", "Ani", PAUSE, T0 + 60, None, "makan"),
    ]
    closing = [member("QueueMemberPause", "q1", T0 + 900.1, last_pause=T0 + 60),
               member("QueueMemberRemoved", "q1", T0 + 3600.7)]  # fmt: skip
    await writer.project(engine, closing, [])
    await writer.project(engine, [*opening, *closing], [])
    assert await rows(engine) == [
        ("ami", "Ani", LOGIN, T0, T0 + 3600, None),
        ("ami", "Ani", PAUSE, T0 + 60, T0 + 900, "makan"),
    ]


async def test_a_span_that_turns_out_wrong_is_deleted(engine: AsyncEngine) -> None:
    writer = AgentSessionWriter()
    await writer.project(engine, [member("QueueMemberPause", "q1", T0 + 60.2, paused=True, reason="makan",
                                         last_pause=T0 + 60)], [])  # fmt: skip
    assert ("ami", "Ani", PAUSE, T0 + 60, None, "makan") in await rows(engine)
    # Ani turns out to be in q2 too, not paused there: a per-queue pause, no pause of the agent.
    await writer.project(engine, [member("QueueMemberStatus", "q2", T0 + 70.0)], [])
    assert await rows(engine) == [("ami", "Ani", LOGIN, T0, None, None)]


async def test_a_restarted_service_closes_what_it_left_open(engine: AsyncEngine) -> None:
    first = AgentSessionWriter()
    await first.project(engine, [member("QueueMemberAdded", "q1", T0 + 0.5),
                                 member("QueueMemberPause", "q1", T0 + 60.2, paused=True, reason="makan",
                                        last_pause=T0 + 60)], [])  # fmt: skip
    after_restart = AgentSessionWriter()
    await after_restart.project(
        engine, [member("QueueMemberPause", "q1", T0 + 1200.3, last_pause=T0 + 60)], []
    )
    assert await rows(engine) == [
        ("ami", "Ani", LOGIN, T0, None, None),
        ("ami", "Ani", PAUSE, T0 + 60, T0 + 1200, "makan"),
    ]


def _call(**changes: object) -> QueueAttempt:
    attempt = QueueAttempt(
        "jkt", "c-1", 1, "q1", None, "0812", T0 + 100.0, 1, facts.ANSWERED, None, 4.0, "Ani",
        "PJSIP/2001", T0 + 104.3, None, None, None, None, 0, facts.SOURCE_AMI,
    )  # fmt: skip
    return replace(attempt, **changes)  # type: ignore[arg-type]


async def test_call_spans_follow_their_attempt(engine: AsyncEngine) -> None:
    writer = AgentSessionWriter()
    await writer.project(engine, [], [_call()])
    assert await rows(engine) == [("ami", "Ani", CALL, T0 + 104, None, "q1")]
    await writer.project(
        engine, [], [_call(handle_s=120.0, ended_at=T0 + 224.9, completed_by=facts.BY_CALLER)]
    )
    assert await rows(engine) == [("ami", "Ani", CALL, T0 + 104, T0 + 224, "q1")]


async def test_a_window_reads_its_spans_and_prefers_ami(engine: AsyncEngine) -> None:
    def span(kind: str, start: float, end: float | None, source: str = facts.SOURCE_AMI) -> AgentSpan:
        return AgentSpan("jkt", "Ani", kind, start, end, None, str(int(start)), "PJSIP/2001", source)

    async with engine.begin() as connection:
        await agent_store.write_spans(
            connection,
            [
                span(LOGIN, T0 - 86400, T0 - 80000),  # a day before: not in the window
                span(LOGIN, T0 - 100, T0 + 100),  # crosses the window's start
                span(LOGIN, T0 + 500, T0 + 1000),
                span(PAUSE, T0 + 600, None),  # still open
                span(LOGIN, T0 + 490, T0 + 700, facts.SOURCE_QUEUE_LOG),  # AMI has it
                span(LOGIN, T0 + 2000, T0 + 2500, facts.SOURCE_QUEUE_LOG),  # a gap AMI missed
                span(PAUSE, T0 + 5000, T0 + 5100),  # after the window
            ],
        )
    found = await agent_store.load_spans(engine, T0, T0 + 3600)
    assert sorted((s.kind, s.started_at, s.source) for s in found) == [
        (LOGIN, T0 - 100, "ami"),
        (LOGIN, T0 + 500, "ami"),
        (LOGIN, T0 + 2000, "queue_log"),
        (PAUSE, T0 + 600, "ami"),
    ]
    assert await agent_store.interface_names(engine) == {"PJSIP/2001": "Ani"}
    assert len(await agent_store.open_spans(engine)) == 1


def test_rebuild_gives_the_spans_the_live_projection_wrote(db_url: str) -> None:
    for name in ("actions", "answered-hold", "blind-transfer"):
        trace = str(CAPTURES / name / "ami.raw")
        assert (
            main(["ingest", "--ami-trace", trace, "--pbx", "ref", "--db", db_url, "--log-level", "error"])
            == 0
        )

    async def read() -> list[Row]:
        engine = create_engine(db_url)
        try:
            await migrate(engine)
            return await rows(engine)
        finally:
            await engine.dispose()

    live = asyncio.run(read())
    assert ("ami", "Dewi Anggraini", PAUSE, 1795515392.0, 1795515393.0, "istirahat") in live
    assert len([r for r in live if r[2] == CALL]) == 3
    assert main(["rebuild", "--db", db_url, "--log-level", "error"]) == 0
    assert asyncio.run(read()) == live
