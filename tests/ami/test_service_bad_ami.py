"""A running service (Runtime) whose PBX sends bad AMI: garbage, a 1 MB header line, non-UTF-8
bytes, then a link cut mid-frame. One clear log line each, the link comes back, and every complete
event read is in the event log, in order, nothing lost and nothing invented."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp

from hotline import logs
from hotline.ami.protocol import AmiParser, Event
from hotline.compose import Runtime
from hotline.config import AgiConfig, Config, HttpConfig, StoreConfig
from hotline.store.events import iter_events

GARBAGE = b"not AMI at all\r\n\r\n"
HUGE = b"Event: VarSet\r\nValue: " + b"x" * (1024 * 1024 + 100) + b"\r\n\r\n"
LATIN1 = b"Event: Newchannel\r\nCallerIDName: Budi \xff Santoso\r\nUniqueid: 9.9\r\nLinkedid: 9.9\r\n\r\n"


def _names(data: bytes) -> list[str]:
    return [m.name for m in AmiParser(expect_banner=False).messages(data) if isinstance(m, Event)]


async def test_bad_ami_costs_one_log_line_each_and_no_stored_event(
    fake_ami: Any, kit: ModuleType, tmp_path: Path
) -> None:
    body = kit.without_banner(kit.fixture_bytes("answered-hold"))
    after_login = body[body.index(b"\r\n\r\n") + 4 :]  # the capture's own login response is the fake's
    cut = after_login.index(b"Event: Hold\r\n") + 30  # inside the Hold event
    server = fake_ami()

    def misbehave_then_recover(conn: Any, action: dict[str, str]) -> bytes | None:
        # The last action of the client's login resync: from now on it only reads (the cut below
        # is the PBX's doing, not a write of ours failing on a closed socket).
        refusal = kit.frame(("Response", "Error"), ("ActionID", action["ActionID"]), ("Message", "No"))
        if conn.number == 1:
            conn.send(refusal + GARBAGE + HUGE + LATIN1 + after_login[:cut])
            conn.close()
            return None
        conn.send(refusal + after_login)
        return None

    server.responders["queuestatus"] = misbehave_then_recover
    await server.start()
    stream = io.StringIO()
    logs.configure("info", "json", stream)
    cfg = Config(
        pbx=(server.pbx(),),
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(url=f"sqlite+aiosqlite:///{tmp_path}/h.db", spool_dir=str(tmp_path / "spool")),
    )
    runtime = Runtime(cfg, features=[])
    await runtime.start()
    first = _names(LATIN1) + _names(after_login[:cut])
    second = _names(after_login)
    try:
        client = runtime.ami_clients["pbx-test"]
        await kit.eventually(lambda: client.status.events_received == len(first) + len(second), within=5)
        assert runtime.eventlog is not None
        await runtime.eventlog.flush()
        url = f"http://127.0.0.1:{runtime.http_port}/health"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            health = await response.json()
        stored = [event async for event in iter_events(runtime.engine, pbx="pbx-test")]
    finally:
        await runtime.stop()

    assert health["pbx"]["pbx-test"]["status"] == "ok" and health["database"]["status"] == "ok"
    assert [(e.connection, e.seq) for e in stored] == [(1, n) for n in range(1, len(first) + 1)] + [
        (2, n) for n in range(1, len(second) + 1)
    ]
    assert [e.name for e in stored] == first + second
    assert "Hold" not in first and stored[0].get("CallerIDName") == "Budi \ufffd Santoso"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    skipped = [line for line in lines if line["event"] == "AMI sent bytes that are not AMI; skipped"]
    assert len(skipped) == 2 and {line["level"] for line in skipped} == {"error"}
    assert all(line["pbx"] == "pbx-test" for line in skipped)
    cut_lines = [line for line in lines if line["event"].startswith("AMI link closed mid-frame")]
    assert len(cut_lines) == 1
