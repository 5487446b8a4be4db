"""``hotline demo`` as a newcomer runs it: calls flow, the log shows KPI lines, it exits 0."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

HOTLINE = Path(sys.executable).with_name("hotline")
KPI_KEYS = {"offered", "answered", "abandoned", "scr", "aht", "asa"}


def test_demo_runs_shows_kpis_and_exits_cleanly(tmp_path: Path) -> None:
    argv = [str(HOTLINE), "demo", "--duration", "3", "--agi-port", "0", "--http-port", "0"]
    done = subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [*argv, "--kpi-every", "1", "--seed", "5", "--log-format", "json"],
        cwd=tmp_path,  # its SQLite store and folders land in tmp_path/var
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [line for line in lines if line["level"] in ("error", "critical")] == []
    kpis = [line for line in lines if line["event"] == "kpi"]
    assert len(kpis) >= 2 and all(set(line) >= KPI_KEYS for line in kpis)
    assert any(line["event"] == "emulator.call_start" for line in lines), "no call was placed"
    assert any(line["event"] == "AMI connected" for line in lines)
    # stdout: where to look, then the closing KPI summary.
    assert re.search(r"http://127\.0\.0\.1:\d+/health", done.stdout)
    assert re.search(r"ws://127\.0\.0\.1:\d+/cti/ws\?token=\S+", done.stdout)
    summary = re.search(
        r"stopped\. offered (\d+), answered (\d+), SCR (n/a|[\d.]+ %), AHT (n/a|[\d.]+ s)", done.stdout
    )
    assert summary, done.stdout
    assert int(summary[1]) >= int(summary[2])
    assert (tmp_path / "var" / "hotline.db").is_file()
