"""Report periods, grouping (with the team hook), the SVG charts and the HTML page in Chromium."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.kpi.definitions import by_agent, summarize
from hotline.kpi.facts import QueueAttempt
from hotline.reports.cli import write_files
from hotline.reports.html import render
from hotline.reports.model import BY_TEAM, Targets, build_report, period_of
from hotline.reports.progress import Progress
from hotline.reports.svg import Series, _nice_max, bar_chart, line_chart

TZ = ZoneInfo("Asia/Jakarta")
MONDAY = date(2026, 11, 23)
Generate = Callable[..., list[QueueAttempt]]
SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "report-week-by-queue.png"


def test_periods_are_the_day_the_iso_week_and_the_calendar_month() -> None:
    day = period_of("day", date(2026, 11, 26), 15)
    assert (day.first_day, day.end_day, day.bucket.label, day.label) == (
        date(2026, 11, 26), date(2026, 11, 27), "15m", "2026-11-26"
    )  # fmt: skip
    week = period_of("week", date(2026, 11, 29))  # a Sunday belongs to the week of Monday 23
    assert (week.first_day, week.end_day, week.label, week.bucket.label) == (
        MONDAY, date(2026, 11, 30), "2026-W48", "day"
    )  # fmt: skip
    december = period_of("month", date(2026, 12, 31))
    assert (december.first_day, december.end_day, len(december.days)) == (
        date(2026, 12, 1),
        date(2027, 1, 1),
        31,
    )
    with pytest.raises(ValueError, match="period"):
        period_of("year", MONDAY)


def test_buckets_add_up_to_the_period_and_idle_buckets_are_kept(generate: Generate) -> None:
    attempts = generate(MONDAY, 2)
    report = build_report(attempts, period_of("day", MONDAY, 60), TZ, timezone="Asia/Jakarta")
    assert len(report.buckets) == 24
    assert report.buckets[3][1] is None  # 03:00: the generated centre opens at 07:00
    first_day = [a for a in attempts if a.call_id.startswith("1123.")]
    assert (
        sum(k.offered for _, k in report.buckets if k)
        == summarize(first_day).offered
        == report.overall.offered
    )


def test_the_team_hook_groups_agents_and_is_refused_without_a_directory(generate: Generate) -> None:
    attempts = generate(MONDAY, 1)
    period = period_of("day", MONDAY)
    teams = build_report(
        attempts, period, TZ, timezone="Asia/Jakarta", by=BY_TEAM, team_of=lambda agent: agent.split("-")[0]
    )
    assert set(teams.groups) == {"jkt", "yog"}
    jakarta_agents = [a for a in attempts if a.agent and a.agent.startswith("jkt")]
    assert teams.groups["jkt"].acd_calls == sum(k.acd_calls for n, k in by_agent(jakarta_agents).items())
    with pytest.raises(ValueError, match="team"):
        build_report(attempts, period, TZ, timezone="Asia/Jakarta", by=BY_TEAM)
    with pytest.raises(ValueError, match="grouping"):
        build_report(attempts, period, TZ, timezone="Asia/Jakarta", by="floor")


def test_charts_draw_the_target_line_and_colour_points_against_it() -> None:
    svg = line_chart("SCR", ["09:00", "09:30", "10:00"], [95.0, None, 80.0], unit="%", target=90, top=100)
    assert svg.count("<polyline") == 2  # the gap at 09:30 breaks the line
    assert 'stroke-dasharray="8 5"' in svg
    assert svg.count('fill="#1b7f3b"') == 1 and svg.count('fill="#c62828"') == 1
    aht = line_chart("AHT", ["a"], [500.0], target=450, higher_is_better=False)
    assert 'fill="#c62828"' in aht
    bars = bar_chart("calls", ["<b>"], [Series("offered", [3], "#000"), Series("answered", [2], "#111")])
    assert "&lt;b&gt;" in bars and "<b>" not in bars
    judged = bar_chart("SCR", ["a", "b"], [Series("SCR", [95, 80], "#000")], target=90, higher_is_better=True)
    assert judged.count('fill="#1b7f3b"') == 1 and judged.count('fill="#c62828"') == 1
    assert [_nice_max(v) for v in (0, 3, 5, 9, 110, 451 * 1.1)] == [4, 4, 8, 12, 120, 500]


def test_names_are_escaped_in_the_page(generate: Generate) -> None:
    attempts = generate(MONDAY, 1)
    attempts[0].queue = "<script>alert(1)</script>"
    report = build_report(attempts, period_of("day", MONDAY), TZ, timezone="Asia/Jakarta", by="queue")
    page = render(report, 0.0, TZ)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_progress_on_a_pipe_prints_quarters_and_on_a_terminal_redraws() -> None:
    class Stream:
        def __init__(self, tty: bool) -> None:
            self.text, self.tty = "", tty

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return self.tty

    pipe = Stream(False)
    bar = Progress("loading", 31, stream=pipe)  # type: ignore[arg-type]
    for done in range(1, 32):
        bar.update(done)
    bar.close()
    assert pipe.text.count("\n") == 5 and pipe.text.endswith("loading: 31/31 (100 %)\n")
    terminal = Stream(True)
    bar = Progress("loading", 2, stream=terminal)  # type: ignore[arg-type]
    bar.update(1)
    bar.update(2)
    bar.close()
    assert terminal.text == f"\rloading [{'#' * 15}{'.' * 15}] 1/2\rloading [{'#' * 30}] 2/2\n"


async def test_the_weekly_page_is_readable_in_chromium(
    generate: Generate, tmp_path: Path, screenshot: Callable[[Path, str], Awaitable[dict[str, Any]]]
) -> None:
    attempts = generate(MONDAY, 7, per_day=400)
    report = build_report(
        attempts, period_of("week", MONDAY), TZ, timezone="Asia/Jakarta", targets=Targets(), by="queue"
    )
    (page,) = await asyncio.to_thread(write_files, report, tmp_path, {"html"}, TZ)
    facts = await screenshot(page, SCREENSHOT.name)
    assert facts["title"] == "Weekly report 2026-W48"
    assert facts["charts"] == 5 and facts["tables"] == 2
    assert facts["scripts"] == 0  # self-contained: no script, nothing fetched
    assert facts["width"] <= facts["viewport"]  # nothing runs off the right edge
    text = facts["text"]
    assert "SCR (target >= 90 %)" in text and "AHT (target <= 450 s)" in text
    assert f"{report.overall.offered:,}" in text
    assert re.search(r"target 90 %", text) and "Mon 23" in text
    png = await asyncio.to_thread(SCREENSHOT.read_bytes)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
