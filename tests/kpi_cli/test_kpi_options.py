"""``hotline kpi`` options on a store holding every capture: --interval, --by, --csv, --queue-log, errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import (
    CAPTURES,
    PBX,
    WITH_QUEUE_LOG,
    Result,
    Run,
    has_ami_events,
    last_ami_time,
    queue_log_until,
)

# Local (Asia/Jakarta) entry times of the captured calls, all on 2026-11-24:
# 17:04 answered-hold, abandon; 17:10 ringnoanswer; 17:11 queue-timeout; 17:12 two-calls (2 calls)
# -> 6 calls in 17:00-17:15; 17:16 actions; 17:23 blind-transfer (2 attempts); 17:27 stopmixmonitor
# -> 3 calls in 17:15-17:30.
WINDOW = ("--from", "2026-11-24T16:30", "--to", "2026-11-24T18:00")


@pytest.fixture
def everything(ingest: Callable[[str], Result]) -> None:
    """Every capture with AMI events, ingested into one store as PBX 'ref'."""
    for name in WITH_QUEUE_LOG:
        if has_ami_events(name):
            assert ingest(name).code == 0


@pytest.fixture
def all_queue_logs(tmp_path: Path) -> Path:
    """Every capture's queue_log in one file, each cut where its AMI capture ends."""
    joined = tmp_path / "all_queue_log"
    parts = [queue_log_until(n, last_ami_time(n), tmp_path / f"{n}.log").read_text() for n in WITH_QUEUE_LOG]
    joined.write_text("".join(parts), encoding="utf-8")
    return joined


def _one_line_error(result: Result) -> str:
    assert result.code == 2
    assert "Traceback" not in result.err
    [line] = result.err.strip().splitlines()
    assert line.startswith("hotline: error: ")
    return line


@pytest.mark.usefixtures("everything")
def test_intervals_of_15_minutes_across_captures(hotline_cli: Run, db_url: str) -> None:
    result = hotline_cli("kpi", "--json", "--interval", "15", *WINDOW, "--db", db_url)
    assert result.code == 0, result.err
    data = result.json()
    assert data["interval"] == "15m" and data["timezone"] == "Asia/Jakarta"
    starts = [row["start"] for row in data["intervals"]]
    assert starts == [
        f"2026-11-24T{t}:00+07:00" for t in ("16:30", "16:45", "17:00", "17:15", "17:30", "17:45")
    ]
    offered = [row["offered"] for row in data["intervals"]]
    assert offered == [0, 0, 6, 3, 0, 0]
    assert sum(offered) == data["offered"] == 9
    for key in ("answered", "abandoned", "acd_calls", "transfers", "ring_no_answer"):
        assert sum(row[key] for row in data["intervals"]) == data[key], key
    empty = data["intervals"][0]
    assert (empty["scr"], empty["aht"], empty["answered"]) == (None, None, 0)
    # An interval holds exactly what the window of the same span holds.
    for row, (since, until) in zip(
        data["intervals"][2:4], [("17:00", "17:15"), ("17:15", "17:30")], strict=True
    ):
        window = hotline_cli(
            "kpi", "--json", "--from", f"2026-11-24T{since}", "--to", f"2026-11-24T{until}", "--db", db_url
        ).json()
        assert {k: row[k] for k in window if k not in ("source", "timezone")} == {
            k: window[k] for k in window if k not in ("source", "timezone")
        }


@pytest.mark.usefixtures("everything")
def test_intervals_without_a_closed_window_list_only_busy_ones(hotline_cli: Run, db_url: str) -> None:
    hourly = hotline_cli("kpi", "--json", "--interval", "1h", "--db", db_url).json()
    assert [(row["start"], row["offered"]) for row in hourly["intervals"]] == [
        ("2026-11-24T17:00:00+07:00", 9)
    ]
    daily = hotline_cli(
        "kpi", "--json", "--interval", "day", "--from", "2026-11-23", "--to", "2026-11-26", "--db", db_url
    )
    assert [(row["start"], row["offered"]) for row in daily.json()["intervals"]] == [
        ("2026-11-23T00:00:00+07:00", 0),
        ("2026-11-24T00:00:00+07:00", 9),
        ("2026-11-25T00:00:00+07:00", 0),
    ]


@pytest.mark.usefixtures("everything")
def test_by_queue_from_the_store_and_from_queue_log_agree(
    hotline_cli: Run, db_url: str, all_queue_logs: Path
) -> None:
    from_store = hotline_cli("kpi", "--json", "--by", "queue", "--db", db_url).json()
    from_log = hotline_cli("kpi", "--json", "--by", "queue", "--queue-log", str(all_queue_logs), "--pbx", PBX)
    assert from_log.code == 0 and from_log.err == ""
    groups = from_store["groups"]
    assert {q: g["offered"] for q, g in groups.items()} == {
        "cc-informasi": 6,
        "cc-pengaduan": 2,
        "sapa-helpdesk": 2,
    }
    # A queue counts every attempt it was offered: the blind transfer counts in both queues.
    assert groups["cc-informasi"]["transfers"] == 1 and groups["sapa-helpdesk"]["answered"] == 1
    assert groups["sapa-helpdesk"]["timed_out"] == 1 and groups["cc-pengaduan"]["abandoned"] == 1
    keys = ("offered", "answered", "abandoned", "scr", "aht", "asa", "service_level", "longest_wait")
    for queue, figures in from_log.json()["groups"].items():
        assert {k: figures[k] for k in keys} == {k: groups[queue][k] for k in keys}, queue


@pytest.mark.usefixtures("everything")
def test_by_agent_and_by_site(hotline_cli: Run, db_url: str, tmp_path: Path) -> None:
    agents = hotline_cli("kpi", "--json", "--by", "agent", "--db", db_url).json()["groups"]
    # Every agent logged in is listed (login time, occupancy), those who answered no call too.
    assert {a: g["answered"] for a, g in agents.items()} == {
        "Budi Santoso": 3,
        "Dewi Anggraini": 0,
        "Rina Wati": 0,
        "Siti Rahma": 4,
    }
    # Without a [[pbx]] entry the site is the PBX's own name.
    assert list(hotline_cli("kpi", "--json", "--by", "site", "--db", db_url).json()["groups"]) == [PBX]
    config = tmp_path / "hotline.toml"
    config.write_text('[[pbx]]\nname = "ref"\nsite = "Jakarta"\n', encoding="utf-8")
    sites = hotline_cli("kpi", "--json", "--by", "site", "--config", str(config), "--db", db_url).json()
    assert list(sites["groups"]) == ["Jakarta"]
    assert sites["groups"]["Jakarta"]["offered"] == sites["offered"] == 9


@pytest.mark.usefixtures("everything")
def test_csv_has_a_header_and_one_row_per_interval(hotline_cli: Run, db_url: str) -> None:
    as_json = hotline_cli("kpi", "--json", "--interval", "15m", *WINDOW, "--db", db_url).json()
    result = hotline_cli("kpi", "--csv", "--interval", "15m", *WINDOW, "--db", db_url)
    assert result.code == 0
    rows = list(csv.DictReader(io.StringIO(result.out)))
    header = result.out.splitlines()[0].split(",")
    assert header[:5] == ["start", "offered", "answered", "abandoned", "short_abandoned"]
    assert len(rows) == len(as_json["intervals"]) == 6
    for row, expected in zip(rows, as_json["intervals"], strict=True):
        assert row["start"] == expected["start"]
        assert int(row["offered"]) == expected["offered"]
        assert (row["scr"] == "") == (expected["scr"] is None)
        if expected["aht"] is not None:
            assert float(row["aht"]) == expected["aht"]


@pytest.mark.usefixtures("everything")
def test_csv_by_queue_and_overall(hotline_cli: Run, db_url: str) -> None:
    by_queue = list(csv.reader(io.StringIO(hotline_cli("kpi", "--csv", "--by", "queue", "--db", db_url).out)))
    assert by_queue[0][0] == "queue"
    assert [row[0] for row in by_queue[1:]] == ["cc-informasi", "cc-pengaduan", "sapa-helpdesk"]
    overall = list(csv.DictReader(io.StringIO(hotline_cli("kpi", "--csv", "--db", db_url).out)))
    assert len(overall) == 1 and overall[0]["offered"] == "9"
    both = list(
        csv.DictReader(
            io.StringIO(hotline_cli("kpi", "--csv", "--by", "queue", "--interval", "1h", "--db", db_url).out)
        )
    )
    assert [(r["queue"], r["start"], r["offered"]) for r in both] == [
        ("cc-informasi", "2026-11-24T17:00:00+07:00", "6"),
        ("cc-pengaduan", "2026-11-24T17:00:00+07:00", "2"),
        ("sapa-helpdesk", "2026-11-24T17:00:00+07:00", "2"),
    ]


@pytest.mark.usefixtures("everything")
def test_table_output_shows_intervals_and_groups(hotline_cli: Run, db_url: str) -> None:
    result = hotline_cli("kpi", "--interval", "15", "--by", "queue", *WINDOW, "--db", db_url)
    assert result.code == 0
    assert "SCR" in result.out and "(target >= 90 %)" in result.out
    assert "2026-11-24T17:15:00+07:00" in result.out and "cc-pengaduan" in result.out


def test_queue_log_alone_needs_no_database(
    hotline_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = hotline_cli("kpi", "--json", "--queue-log", str(CAPTURES / "blind-transfer" / "queue_log"))
    assert result.code == 0
    data = result.json()
    assert (data["offered"], data["answered"], data["transfers"], data["aht"]) == (1, 1, 1, 5.0)
    assert not (tmp_path / "var").exists()  # the default SQLite file was never created


def test_malformed_queue_log_lines_are_reported_and_skipped(hotline_cli: Run, tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    good = (CAPTURES / "answered-hold" / "queue_log").read_text(encoding="utf-8").splitlines()
    log.write_text(
        "\n".join([good[0], "garbage without pipes", good[1], "1795514655|x|q|A|CONNECT|soon|y|1", good[2]])
        + "\n",
        encoding="utf-8",
    )
    result = hotline_cli("kpi", "--json", "--queue-log", str(log))
    assert result.code == 0
    assert "Traceback" not in result.err
    warnings = result.err.strip().splitlines()
    assert len(warnings) == 3
    assert "queue_log line 2:" in warnings[0] and "queue_log line 4:" in warnings[1]
    assert "holdtime 'soon' is not a number" in warnings[1]
    assert "2 malformed line(s) skipped" in warnings[2]
    data = result.json()
    assert data["queue_log_errors"] == 2
    assert (data["offered"], data["answered"], data["aht"]) == (1, 1, 11.0)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--interval", "7"], "--interval: '7' is not an interval"),
        (["--interval", "fortnight"], "--interval: 'fortnight' is not an interval"),
        (["--queue-log", "no/such/queue_log"], "--queue-log: file not found: no/such/queue_log"),
        (["--json", "--csv"], "choose one output format"),
        (["--reconcile"], "--reconcile needs --queue-log FILE"),
        (["--reconcile", "--queue-log", "q", "--interval", "15"], "takes no --interval"),
        (["--from", "2026-11-24T18:00", "--to", "2026-11-24T17:00"], "--to must be after --from"),
        (["--by", "team"], "argument --by: invalid choice: 'team'"),
    ],
)
def test_bad_values_are_one_clear_line(argv: list[str], expected: str, hotline_cli: Run, db_url: str) -> None:
    if argv[:2] == ["--by", "team"]:
        with pytest.raises(SystemExit) as stop:  # argparse's own choice check
            hotline_cli("kpi", *argv, "--db", db_url)
        assert stop.value.code == 2
        return
    assert expected in _one_line_error(hotline_cli("kpi", *argv, "--db", db_url))


def test_unknown_timezone_is_one_clear_line(hotline_cli: Run, tmp_path: Path, db_url: str) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text('[kpi]\ntimezone = "Asia/Atlantis"\n', encoding="utf-8")
    line = _one_line_error(hotline_cli("kpi", "--config", str(config), "--db", db_url))
    assert "unknown time zone 'Asia/Atlantis'" in line


def test_reconcile_asks_which_pbx_when_the_store_has_several(hotline_cli: Run, db_url: str) -> None:
    for name, pbx in (("abandon", "jkt"), ("answered-hold", "yog")):
        trace = str(CAPTURES / name / "ami.raw")
        assert hotline_cli("ingest", "--ami-trace", trace, "--pbx", pbx, "--db", db_url).code == 0
    queue_log = str(CAPTURES / "abandon" / "queue_log")
    line = _one_line_error(hotline_cli("kpi", "--reconcile", "--queue-log", queue_log, "--db", db_url))
    assert "several PBXs (jkt, yog)" in line and "--pbx" in line
    assert (
        hotline_cli("kpi", "--reconcile", "--queue-log", queue_log, "--pbx", "jkt", "--db", db_url).code == 0
    )
