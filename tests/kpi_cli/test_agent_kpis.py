"""``hotline kpi --by agent``: login, pause by reason, available time and occupancy, from the store
(AMI), from a queue_log alone and from an imported queue_log; ``--reconcile`` compares them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from hotline.kpi.agent_definitions import AGENT_KEYS

from .conftest import CAPTURES, PBX, Result, Run

# The actions capture: AMI from 17:16:22 (Jakarta) on, queue_log from ...:22 to ...:47.
WINDOW = ("--from", "2026-11-24T17:16:23", "--to", "2026-11-24T17:16:43")
ACTIONS_LOG = str(CAPTURES / "actions" / "queue_log")
DEWI = {
    "login_s": 3.0,
    "pause_s": 1.0,
    "pause_by_reason": {"istirahat": 1.0},
    "available_s": 2.0,
    "occupancy": 0.0,
}


def _agents(result: Result) -> dict[str, dict[str, object]]:
    assert result.code == 0, result.err
    groups: dict[str, dict[str, object]] = result.json()["groups"]
    return {name: {key: figures[key] for key in AGENT_KEYS} for name, figures in groups.items()}


def test_the_store_and_the_queue_log_give_the_same_agent_figures(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str
) -> None:
    assert ingest("actions").code == 0
    from_store = _agents(hotline_cli("kpi", "--json", "--by", "agent", *WINDOW, "--db", db_url))
    from_log = _agents(
        hotline_cli("kpi", "--json", "--by", "agent", *WINDOW, "--queue-log", ACTIONS_LOG, "--pbx", PBX)
    )
    assert from_store == from_log
    assert from_store["Dewi Anggraini"] == DEWI
    for static in ("Siti Rahma", "Budi Santoso", "Rina Wati"):
        assert from_store[static]["login_s"] == 20.0 and from_store[static]["pause_s"] == 0.0


def test_reconcile_compares_the_agents_over_the_time_both_sources_cover(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str
) -> None:
    assert ingest("actions").code == 0
    result = hotline_cli(
        "kpi", "--reconcile", "--json", "--queue-log", ACTIONS_LOG, "--pbx", PBX, "--db", db_url
    )
    # The calls differ (the AMI session logged off before the caller abandoned); the agents agree.
    assert result.code == 1
    agents = result.json()["agents"]
    assert agents["agree"] is True and agents["differences"] == {}
    assert agents["ami"] == agents["queue_log"] and agents["ami"]["Dewi Anggraini"] == DEWI
    text = hotline_cli("kpi", "--reconcile", "--queue-log", ACTIONS_LOG, "--pbx", PBX, "--db", db_url)
    assert "AMI and queue_log agree on every agent." in text.out
    assert "Dewi Anggraini: 3 / 1 (istirahat 1) / 2, 0 | 3 / 1 (istirahat 1) / 2, 0" in text.out


def test_reconcile_reports_an_agent_that_differs(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str, tmp_path: Path
) -> None:
    assert ingest("actions").code == 0
    edited = tmp_path / "queue_log"
    lines = Path(ACTIONS_LOG).read_text(encoding="utf-8").splitlines(keepends=True)
    edited.write_text(
        "".join(line for line in lines if "Dewi Anggraini|UNPAUSE" not in line), encoding="utf-8"
    )
    result = hotline_cli(
        "kpi", "--reconcile", "--json", "--queue-log", str(edited), "--pbx", PBX, "--db", db_url
    )
    agents = result.json()["agents"]
    assert result.code == 1 and agents["agree"] is False
    assert agents["differences"]["Dewi Anggraini"]["pause_s"] == {"ami": 1.0, "queue_log": 2.0}


def test_csv_and_text_show_the_agent_columns(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str
) -> None:
    assert ingest("actions").code == 0
    result = hotline_cli("kpi", "--csv", "--by", "agent", "--interval", "15", *WINDOW, "--db", db_url)
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert result.out.splitlines()[0].endswith(",login_s,pause_s,pause_by_reason,available_s,occupancy")
    dewi = [row for row in rows if row["agent"] == "Dewi Anggraini"]
    assert [(row["start"], row["pause_by_reason"], row["login_s"]) for row in dewi] == [
        ("2026-11-24T17:15:00+07:00", "istirahat=1.0", "3.0")
    ]
    text = hotline_cli("kpi", "--by", "agent", *WINDOW, "--db", db_url)
    heading = next(line for line in text.out.splitlines() if line.startswith("agent "))
    assert heading.split()[-8:] == ["login", "s", "pause", "s", "avail", "s", "occ", "%"]
    assert "  Dewi Anggraini: istirahat 1 s" in text.out


def test_an_imported_queue_log_fills_the_agents_of_a_store_without_ami(
    hotline_cli: Run, db_url: str, tmp_path: Path
) -> None:
    imported = hotline_cli("ingest", "--queue-log", ACTIONS_LOG, "--pbx", PBX, "--db", db_url)
    # 4 logins and Dewi's pause; no call was answered.
    assert imported.code == 0 and "5 agent spans" in imported.out
    from_store = _agents(hotline_cli("kpi", "--json", "--by", "agent", *WINDOW, "--db", db_url))
    assert from_store["Dewi Anggraini"] == DEWI
    # Imported twice: nothing counts twice.
    assert hotline_cli("ingest", "--queue-log", ACTIONS_LOG, "--pbx", PBX, "--db", db_url).code == 0
    assert _agents(hotline_cli("kpi", "--json", "--by", "agent", *WINDOW, "--db", db_url)) == from_store


def test_occupancy_counts_the_calls_handled(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str
) -> None:
    assert ingest("answered-hold").code == 0
    result = hotline_cli("kpi", "--json", "--by", "agent", "--db", db_url)
    groups = result.json()["groups"]
    answered = [name for name, g in groups.items() if g["answered"]]
    assert answered
    for name in answered:
        figures = groups[name]
        # Every second of its ACD calls lies in the agent's logged-in time: busy time > 0.
        assert figures["occupancy"] > 0
        assert figures["login_s"] > 0 and figures["available_s"] == figures["login_s"] - figures["pause_s"]
