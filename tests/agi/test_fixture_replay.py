"""Replay every captured Asterisk 22 FastAGI session against the server, byte for byte.

The test client plays Asterisk: it writes the capture's Asterisk-side reads in their
order and chunking, and checks that what the server writes between them equals the
capture's app-side writes. The handler is a small IVR that sends the same commands
as the app that was captured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotline.agi import AgiHangup, AgiRouter, AgiSession
from hotline.names import (
    AGI_IVR_MAIN,
    QUEUE_INFORMASI,
    QUEUE_PENGADUAN,
    QUEUE_SAPA_HELPDESK,
    STATUS_OK,
    VAR_QUEUE,
    VAR_STATUS,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
MENU = {"1": QUEUE_INFORMASI, "2": QUEUE_PENGADUAN, "3": QUEUE_SAPA_HELPDESK}
STATUS_LINE = f"SET VARIABLE {VAR_STATUS} {STATUS_OK}\n".encode()


def load_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def make_ivr(prompt: str, outcome: dict[str, Any]) -> Any:
    async def ivr(session: AgiSession) -> None:
        outcome["prompt"] = await session.stream_file(prompt)
        try:
            choice = await session.get_data("beep", 5000, 1)
            outcome["choice"] = choice
            digits = choice.digits
        except AgiHangup as exc:
            outcome["hangup"] = exc
            digits = ""
        await session.set_variable(VAR_QUEUE, MENU.get(digits, QUEUE_INFORMASI))
        outcome["pbx"] = session.pbx
        outcome["env"] = session.env

    return ivr


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("*/agi/*.jsonl")), ids=lambda p: f"{p.parent.parent.name}/{p.name}"
)
async def test_replay_fixture(path: Path, start_server: Any, asterisk: Any) -> None:
    records = load_records(path)
    first_command = next(r["data"] for r in records if r["dir"] == "app")
    prompt = first_command.split()[2]
    outcome: dict[str, Any] = {}
    router = AgiRouter()
    router.add(AGI_IVR_MAIN, make_ivr(prompt, outcome))
    server = await start_server(router, pbx_for_peer=lambda ip: f"pbx-at-{ip}")

    peer = await asterisk.connect(server.port)
    for record in records:
        data = record["data"].encode("utf-8")
        if record["dir"] == "asterisk":
            await peer.send(data)
        else:
            assert await peer.read_command() == data
    after = await peer.finish()

    hung_up = path.parent.parent.name == "agi-hangup"
    assert after == ([] if hung_up else [STATUS_LINE])
    assert outcome["pbx"] == "pbx-at-127.0.0.1"
    sent_by_asterisk = "".join(r["data"] for r in records if r["dir"] == "asterisk")
    assert outcome["env"].uniqueid == sent_by_asterisk.split("agi_uniqueid: ")[1].split("\n")[0]
    assert outcome["prompt"].digit is None and outcome["prompt"].endpos > 0
    if hung_up:
        assert "choice" not in outcome and isinstance(outcome["hangup"], AgiHangup)
        assert server.stats.hangups_total == 1
    else:
        assert outcome["choice"].digits in MENU and not outcome["choice"].timed_out
        assert server.stats.hangups_total == 0
    assert server.stats.commands_total == 3 + (0 if hung_up else 1)
    assert server.stats.errors_total == {}
