"""Every real capture: the KPIs of the store (AMI) equal the KPIs of its queue_log, and reconcile says so."""

from __future__ import annotations

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

CORE_KEYS = ("offered", "answered", "abandoned", "scr", "aht", "asa", "service_level")
# The AMI session of `actions` logs off while its caller still waits; queue_log goes on to write
# the ABANDON 25 s later. Up to the capture's last event both tell the same story.
CUT_SHORT = "actions"


def _store_kpis(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str, name: str
) -> dict[str, object]:
    if has_ami_events(name):
        assert ingest(name).code == 0
    else:
        # login-failed: the login was refused, so no event came; ingest refuses such a file.
        assert ingest(name).code == 2
    result = hotline_cli("kpi", "--json", "--db", db_url)
    assert result.code == 0, result.err
    data: dict[str, object] = result.json()
    assert data["source"] == "ami"
    return data


def _queue_log_of(name: str, tmp_path: Path) -> Path:
    if name == CUT_SHORT:
        return queue_log_until(name, last_ami_time(name), tmp_path / "queue_log")
    return CAPTURES / name / "queue_log"


@pytest.mark.parametrize("name", WITH_QUEUE_LOG)
def test_store_and_queue_log_give_the_same_kpis(
    name: str, hotline_cli: Run, ingest: Callable[[str], Result], db_url: str, tmp_path: Path
) -> None:
    from_store = _store_kpis(hotline_cli, ingest, db_url, name)
    from_log = hotline_cli("kpi", "--json", "--queue-log", str(_queue_log_of(name, tmp_path)), "--pbx", PBX)
    assert from_log.code == 0 and from_log.err == ""
    log_kpis = from_log.json()
    assert log_kpis["source"] == "queue_log" and log_kpis["queue_log_errors"] == 0
    assert {k: from_store[k] for k in CORE_KEYS} == {k: log_kpis[k] for k in CORE_KEYS}


@pytest.mark.parametrize("name", WITH_QUEUE_LOG)
def test_reconcile_finds_no_difference(
    name: str, hotline_cli: Run, ingest: Callable[[str], Result], db_url: str, tmp_path: Path
) -> None:
    _store_kpis(hotline_cli, ingest, db_url, name)
    queue_log = str(_queue_log_of(name, tmp_path))
    text = hotline_cli("kpi", "--reconcile", "--queue-log", queue_log, "--db", db_url)
    assert text.code == 0, text.out
    assert "agree on all" in text.out
    as_json = hotline_cli("kpi", "--reconcile", "--queue-log", queue_log, "--db", db_url, "--json")
    assert as_json.code == 0
    report = as_json.json()
    assert report["agree"] is True and report["differences"] == [] and report["kpis_differing"] == []
    for key in CORE_KEYS:
        assert report["ami"][key] == report["queue_log"][key]


def test_fixture_list_covers_the_interesting_outcomes() -> None:
    # The comparisons above are only worth something if the captures hold every kind of call.
    assert {"abandon", "answered-hold", "blind-transfer", "queue-timeout", "ringnoanswer"} <= set(
        WITH_QUEUE_LOG
    )
    assert CUT_SHORT in WITH_QUEUE_LOG


def test_the_cut_short_capture_differs_from_its_whole_queue_log(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str
) -> None:
    """The documented difference: the store still sees the caller waiting; queue_log saw the abandon."""
    from_store = _store_kpis(hotline_cli, ingest, db_url, CUT_SHORT)
    whole_log = str(CAPTURES / CUT_SHORT / "queue_log")
    from_log = hotline_cli("kpi", "--json", "--queue-log", whole_log).json()
    assert (from_store["offered"], from_store["abandoned"], from_store["waiting"]) == (1, 0, 1)
    assert (from_log["offered"], from_log["abandoned"], from_log["waiting"]) == (1, 1, 0)

    text = hotline_cli("kpi", "--reconcile", "--queue-log", whole_log, "--db", db_url)
    assert text.code == 1
    assert "call 1795515380.0 attempt 1 (ref): outcome ami=waiting queue_log=abandoned" in text.out
    report = hotline_cli("kpi", "--reconcile", "--queue-log", whole_log, "--db", db_url, "--json").json()
    assert report["agree"] is False
    assert report["kpis_differing"] == ["abandoned"]
    [difference] = report["differences"]
    assert difference["call_id"] == "1795515380.0" and difference["only_in"] is None
    assert difference["fields"] == {
        "outcome": {"ami": "waiting", "queue_log": "abandoned"},
        "wait_s": {"ami": None, "queue_log": 25.0},
    }


def test_reconcile_names_attempts_only_one_side_has(
    hotline_cli: Run, ingest: Callable[[str], Result], db_url: str
) -> None:
    assert ingest("answered-hold").code == 0
    other_log = str(CAPTURES / "abandon" / "queue_log")
    result = hotline_cli("kpi", "--reconcile", "--queue-log", other_log, "--db", db_url, "--json")
    assert result.code == 1
    only = {(d["call_id"], d["only_in"]) for d in result.json()["differences"]}
    assert only == {("1795514646.0", "ami"), ("1795514684.0", "queue_log")}
