"""Agent KPIs from spans: clipping to intervals (midnight Asia/Jakarta too), states, occupancy."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.kpi import facts
from hotline.kpi.agent_definitions import MAX_OPEN_CALL_S, WRAPUP_REASON, agent_times, totals
from hotline.kpi.agent_report import add_agent_times
from hotline.kpi.agent_spans import CALL, LOGIN, PAUSE, AgentSpan, call_span, prefer_ami
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.intervals import parse_interval
from hotline.kpi.report import KpiReport, ReportOptions

JAKARTA = ZoneInfo("Asia/Jakarta")
MIDNIGHT = datetime(2026, 11, 25, tzinfo=JAKARTA).timestamp()  # 2026-11-24T17:00:00Z


def span(kind: str, start: float, end: float | None, reason: str | None = None, **other: str) -> AgentSpan:
    return AgentSpan(
        pbx=other.get("pbx", "jkt"),
        agent=other.get("agent", "Ani"),
        kind=kind,
        started_at=start,
        ended_at=end,
        reason=reason,
        ref=other.get("ref", str(int(start))),
        source=other.get("source", facts.SOURCE_AMI),
    )


def test_states_and_occupancy_over_a_window() -> None:
    t = MIDNIGHT - 7200
    spans = [
        span(LOGIN, t, t + 3600),
        span(CALL, t + 100, t + 400, "q1", ref="c1#1"),
        span(PAUSE, t + 400, t + 460, WRAPUP_REASON),
        # Paused 'istirahat' during the second call: the break counts from the call's end.
        span(PAUSE, t + 1900, t + 2600, "istirahat"),
        span(CALL, t + 1800, t + 2000, "q1", ref="c2#1"),
        span(PAUSE, t + 3000, t + 3100, ""),
    ]
    figures = totals(agent_times(spans, t - 50, t + 4000))["Ani"]
    assert figures.login_s == 3600
    assert figures.handle_s == 500
    assert figures.pause_by_reason == {WRAPUP_REASON: 60, "istirahat": 600, "": 100}
    assert figures.as_dict() == {
        "login_s": 3600.0,
        "pause_s": 760.0,
        "pause_by_reason": {"": 100.0, "istirahat": 600.0, WRAPUP_REASON: 60.0},
        "available_s": 2840.0,
        # (handle 500 + wrap-up 60) / (available 2840 + wrap-up 60) x 100
        "occupancy": round(560 / 2900 * 100, 2),
    }


def test_spans_are_clipped_to_each_interval_across_midnight_in_jakarta() -> None:
    # Logged in 23:50 -> 00:20 local time, paused 23:58 -> 00:05.
    spans = [
        span(LOGIN, MIDNIGHT - 600, MIDNIGHT + 1200),
        span(PAUSE, MIDNIGHT - 120, MIDNIGHT + 300, "makan"),
    ]
    days = agent_times(spans, MIDNIGHT - 86400, MIDNIGHT + 86400, starts=[MIDNIGHT - 86400, MIDNIGHT])["Ani"]
    assert {start: (t.login_s, t.pause_s) for start, t in days.items()} == {
        MIDNIGHT - 86400: (600, 120),
        MIDNIGHT: (1200, 300),
    }
    quarters = [MIDNIGHT - 900 + 900 * n for n in range(4)]  # 23:45, 00:00, 00:15, 00:30
    per_quarter = agent_times(spans, MIDNIGHT - 900, MIDNIGHT + 2700, starts=quarters)["Ani"]
    assert {start - MIDNIGHT: (t.login_s, t.pause_s) for start, t in per_quarter.items()} == {
        -900: (600, 120),
        0: (900, 300),
        900: (300, 0),
    }
    # The buckets add up to the whole window.
    assert totals({"Ani": per_quarter})["Ani"].login_s == 1800


def test_open_spans_end_at_the_window_and_an_open_call_is_capped() -> None:
    t = MIDNIGHT
    spans = [span(LOGIN, t, None), span(CALL, t + 10, None, "q1", ref="c#1")]
    short = totals(agent_times(spans, t, t + 100))["Ani"]
    assert (short.login_s, short.handle_s, short.occupancy) == (100, 90, 90.0)
    long = totals(agent_times(spans, t, t + MAX_OPEN_CALL_S * 2))["Ani"]
    assert long.handle_s == MAX_OPEN_CALL_S


def test_no_login_no_occupancy() -> None:
    figures = totals(
        agent_times([span(CALL, MIDNIGHT, MIDNIGHT + 60, "q1", ref="c#1")], MIDNIGHT, MIDNIGHT + 600)
    )
    assert figures["Ani"].as_dict()["occupancy"] is None
    assert figures["Ani"].login_s == 0


def _answered(**changes: object) -> QueueAttempt:
    attempt = QueueAttempt(
        "jkt", "1795515380.0", 1, "cc-informasi", None, "0812", 1000.0, 1, facts.ANSWERED, 1100.4, 20.0,
        "Siti Rahma", "PJSIP/1001", 1020.2, 80.0, 5.0, facts.BY_CALLER, None, 0, facts.SOURCE_AMI,
    )  # fmt: skip
    return replace(attempt, **changes)  # type: ignore[arg-type]


def test_a_call_span_is_the_attempts_handle_time() -> None:
    ended = call_span(_answered())
    assert ended is not None
    assert (ended.agent, ended.started_at, ended.ended_at, ended.reason, ended.ref) == (
        "Siti Rahma", 1020.0, 1100.0, "cc-informasi", "1795515380.0#1",
    )  # fmt: skip
    talking = call_span(_answered(handle_s=None, ended_at=None, completed_by=None))
    assert talking is not None and (talking.started_at, talking.ended_at) == (1020.0, None)
    assert call_span(_answered(outcome=facts.ABANDONED, agent=None)) is None


def test_ami_wins_where_both_sources_have_the_agent() -> None:
    ami = [span(LOGIN, 1000, 2000), span(CALL, 1100, 1200, "q", ref="c1#1")]
    log = [
        span(LOGIN, 990, 2010, source=facts.SOURCE_QUEUE_LOG),  # the same session: AMI's counts
        span(LOGIN, 5000, 6000, source=facts.SOURCE_QUEUE_LOG),  # a gap AMI missed: counts
        span(CALL, 1100, 1200, "q", ref="c1#1", source=facts.SOURCE_QUEUE_LOG),
        span(CALL, 5100, 5200, "q", ref="c2#1", source=facts.SOURCE_QUEUE_LOG),
    ]
    kept = prefer_ami([*ami, *log])
    assert sorted((s.kind, s.started_at, s.source) for s in kept) == [
        (CALL, 1100, facts.SOURCE_AMI),
        (CALL, 5100, facts.SOURCE_QUEUE_LOG),
        (LOGIN, 1000, facts.SOURCE_AMI),
        (LOGIN, 5000, facts.SOURCE_QUEUE_LOG),
    ]


def test_a_report_by_agent_gains_the_session_figures_and_keeps_its_keys() -> None:
    calls = {"offered": 1, "answered": 1, "aht": 80.0}
    report = KpiReport(overall={"offered": 1}, groups={"Siti Rahma": dict(calls)})
    options = ReportOptions(tz=JAKARTA, since=MIDNIGHT, until=MIDNIGHT + 3600, by="agent")
    spans = [
        span(LOGIN, MIDNIGHT - 60, None, agent="Dewi"),
        span(LOGIN, MIDNIGHT + 600, MIDNIGHT + 1200, agent="Siti Rahma"),
    ]
    add_agent_times(report, spans, options, until=MIDNIGHT + 1800)
    assert report.groups is not None and list(report.groups) == ["Dewi", "Siti Rahma"]
    assert report.groups["Siti Rahma"] == {**calls, "login_s": 600.0, "pause_s": 0.0, "pause_by_reason": {},
                                           "available_s": 600.0, "occupancy": 0.0}  # fmt: skip
    # Dewi answered nothing: no call, and her open login counts until the store's last moment.
    assert report.groups["Dewi"]["answered"] == 0 and report.groups["Dewi"]["login_s"] == 1800.0
    assert report.overall == {"offered": 1}


def test_report_intervals_list_each_agents_time() -> None:
    report = KpiReport(overall={}, intervals=[], groups={})
    options = ReportOptions(
        tz=JAKARTA, since=MIDNIGHT - 1800, until=MIDNIGHT + 1800, by="agent", interval=parse_interval("30")
    )
    add_agent_times(report, [span(LOGIN, MIDNIGHT - 600, MIDNIGHT + 300)], options, until=MIDNIGHT + 1800)
    rows = report.group_intervals["Ani"]
    assert [(row["start"], row["login_s"]) for row in rows] == [
        ("2026-11-24T23:30:00+07:00", 600.0),
        ("2026-11-25T00:00:00+07:00", 300.0),
    ]
