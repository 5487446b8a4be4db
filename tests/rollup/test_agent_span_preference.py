"""One source per stretch of time, decided on whole spans: every window counts a span alike.

A queue_log login or pause counts, whole, unless an AMI span of the same PBX, agent and kind
overlaps it anywhere, also outside the window asked (:func:`hotline.rollup.agent_store.load_spans`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kpi import facts
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan
from hotline.rollup import agent_store

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _span(
    kind: str, start: float, end: float | None, *, pbx: str = "jkt", queue_log: bool = False
) -> AgentSpan:
    source = facts.SOURCE_QUEUE_LOG if queue_log else facts.SOURCE_AMI
    reason = "break" if kind == PAUSE else None
    ended = None if end is None else T0 + end
    return AgentSpan(pbx, "ani", kind, T0 + start, ended, reason, str(int(T0 + start)), source=source)


async def _store(engine: AsyncEngine, *spans: AgentSpan) -> None:
    async with engine.begin() as connection:
        await agent_store.write_spans(connection, spans)


async def _sources(
    engine: AsyncEngine, since: float | None, until: float | None, **kw: str
) -> list[tuple[str, str, float]]:
    spans = await agent_store.load_spans(engine, None if since is None else T0 + since,
                                         None if until is None else T0 + until, **kw)  # fmt: skip
    return sorted((s.source, s.kind, s.started_at - T0) for s in spans)


async def test_an_ami_span_outside_the_window_still_decides(engine: AsyncEngine) -> None:
    await _store(engine, _span(LOGIN, 0, 7200, queue_log=True), _span(LOGIN, 3600, 5400))
    assert await _sources(engine, 0, 1800) == []  # the AMI login lies after the window
    assert await _sources(engine, 6000, 7200) == []  # ... and before this one
    assert await _sources(engine, 3000, 4000) == [("ami", LOGIN, 3600)]
    assert await _sources(engine, None, 1800) == []
    assert await _sources(engine, 6000, None) == []
    assert await _sources(engine, None, None) == [("ami", LOGIN, 3600)]
    # One source asked: that source's spans as they are.
    assert await _sources(engine, 0, 1800, source=facts.SOURCE_QUEUE_LOG) == [("queue_log", LOGIN, 0)]


async def test_a_queue_log_span_no_ami_span_overlaps_counts(engine: AsyncEngine) -> None:
    await _store(
        engine,
        _span(LOGIN, 0, 1000, queue_log=True),
        _span(LOGIN, 2000, 3000),
        _span(LOGIN, 500, 800, pbx="yog"),  # another PBX's AMI login decides nothing here
        _span(PAUSE, 100, 900, queue_log=True),  # another kind: an AMI pause would decide
        _span(PAUSE, 2500, 2600),
    )
    assert await _sources(engine, 0, 400, pbx="jkt") == [("queue_log", LOGIN, 0), ("queue_log", PAUSE, 100)]
    assert await _sources(engine, 0, 400) == [("queue_log", LOGIN, 0), ("queue_log", PAUSE, 100)]


async def test_an_open_queue_log_span_and_a_later_ami_span(engine: AsyncEngine) -> None:
    await _store(engine, _span(PAUSE, 0, None, queue_log=True), _span(PAUSE, 86400, 90000))
    assert await _sources(engine, 0, 3600) == []
    await _store(engine, _span(PAUSE, 0, None, queue_log=True, pbx="yog"))
    assert await _sources(engine, 0, 3600) == [("queue_log", PAUSE, 0)]


async def test_a_queue_log_call_gives_way_to_amis_copy_just_outside_the_window(engine: AsyncEngine) -> None:
    """queue_log's whole seconds can put its copy of a call a second before AMI's: at a window's
    edge, AMI's copy lies outside and must still keep queue_log's out."""
    ref = "1767225000.15#1"

    def call(start: float, end: float, source: str) -> AgentSpan:
        return AgentSpan("jkt", "ani", CALL, T0 + start, T0 + end, "hotline", ref, source=source)

    await _store(engine, call(3599, 3700, facts.SOURCE_QUEUE_LOG), call(3600.5, 3700, facts.SOURCE_AMI))
    assert await _sources(engine, 0, 3600) == []  # AMI's copy starts after the window
    assert await _sources(engine, 3600, 7200) == [("ami", CALL, 3600.5)]
    assert await _sources(engine, 0, 3600, source=facts.SOURCE_QUEUE_LOG) == [("queue_log", CALL, 3599)]
    # Another PBX's call of the same reference decides nothing here.
    await _store(engine, AgentSpan("yog", "ani", CALL, T0 + 10, T0 + 20, "hotline", ref,
                                   source=facts.SOURCE_QUEUE_LOG))  # fmt: skip
    assert await _sources(engine, 0, 3600) == [("queue_log", CALL, 10)]
