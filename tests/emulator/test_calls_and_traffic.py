"""Time scale, queue_log output, concurrency rules and the demo traffic generator."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

from hotline import names
from hotline.emulator import AgentSpec, CallScript, EmulatorSettings
from hotline.emulator.settings import demo_agents
from hotline.emulator.traffic import random_script

MENU = {
    "1": names.QUEUE_INFORMASI,
    "2": names.QUEUE_PENGADUAN,
    "3": names.QUEUE_PERMINTAAN,
    "4": names.QUEUE_SARAN,
    "5": names.QUEUE_PEMBAYARAN,
    "0": names.QUEUE_AGENT,
}


async def menu_app(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A tiny IVR: one GET DATA, the digit picks the queue (as hotline's ivr/main does)."""
    while (await reader.readline()) not in (b"\n", b""):
        pass
    writer.write(b"GET DATA beep 5000 1\n")
    reply = (await reader.readline()).decode()
    if reply.startswith("200 result=") and reply[11:12] in MENU:
        writer.write(f"SET VARIABLE {names.VAR_QUEUE} {MENU[reply[11:12]]}\n".encode())
        await reader.readline()
    writer.close()


async def test_a_14_second_call_takes_a_fiftieth_of_that(
    kit: Any, emulator_factory: Any, tmp_path: Path
) -> None:
    server = await asyncio.start_server(menu_app, "127.0.0.1", 0)
    path = tmp_path / "queue_log"
    settings = EmulatorSettings(
        agi_port=server.sockets[0].getsockname()[1], speed=50, seed=3, queue_log_path=str(path)
    )
    emulator = emulator_factory(settings)
    await emulator.start()
    started = time.monotonic()
    result = await emulator.place_call(
        CallScript("081234567890", "Śantoso Wibowo", "1", caller_hangs_up_after_s=14.0)
    )
    elapsed = time.monotonic() - started
    server.close()
    assert 0.25 <= elapsed < 0.6
    assert 13.9 <= result.ended_at - result.started_at <= 14.3
    assert result.outcome == "answered" and result.completed_by == "caller"
    assert [line.split("|")[4] for line in result.queue_log] == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"]
    complete = result.queue_log[-1].split("|")
    assert 10 <= int(complete[6]) <= 11  # calltime: 14 s minus IVR (~1.3 s) and ringing (2 s)
    assert path.read_text().splitlines() == emulator.queue_log_lines == result.queue_log


async def test_busy_agents_are_not_rung_and_callers_wait_their_turn(kit: Any, emulator_factory: Any) -> None:
    server = await asyncio.start_server(menu_app, "127.0.0.1", 0)
    settings = EmulatorSettings(
        agi_port=server.sockets[0].getsockname()[1],
        speed=50,
        seed=4,
        agents=(AgentSpec("1001", "Siti Rahma", 1.0),),
    )
    emulator = emulator_factory(settings)
    await emulator.start()
    first = emulator.start_call(CallScript("081211112222", "Wahyu Nugroho", "1", agent_hangs_up_after_s=5.0))
    await asyncio.sleep(0.01)
    second = emulator.start_call(CallScript("081233334444", "Sri Mulyani", "1", agent_hangs_up_after_s=5.0))
    results = await asyncio.gather(first, second)
    server.close()
    assert [r.outcome for r in results] == ["answered", "answered"]
    connects = [line.split("|") for line in emulator.queue_log_lines if "|CONNECT|" in line]
    # The second caller waits for the only agent: its talk (5 s) and wrap-up (2 s).
    assert int(connects[1][5]) >= 6
    assert "RINGNOANSWER" not in " ".join(emulator.queue_log_lines)


def test_traffic_scripts_are_reproducible_with_a_seed() -> None:
    scripts = [
        [random_script(rng, ["1001", "1002"], ["sapa-helpdesk"]) for _ in range(50)]
        for rng in (random.Random(11), random.Random(11))
    ]
    assert scripts[0] == scripts[1]
    assert {s.digits for s in scripts[0]} <= set("123450")
    assert any(s.patience_s is not None for s in scripts[0]) and any(
        s.hold_at_s is not None for s in scripts[0]
    )


async def test_run_traffic_places_poisson_calls_and_logs_them(emulator_factory: Any) -> None:
    server = await asyncio.start_server(menu_app, "127.0.0.1", 0)
    agents = tuple(AgentSpec(str(1001 + i), f"Agent {i}") for i in range(6))
    settings = EmulatorSettings(agi_port=server.sockets[0].getsockname()[1], speed=600, seed=5, agents=agents)
    emulator = emulator_factory(settings)
    await emulator.start()
    results = await emulator.run_traffic(calls_per_second=0.25, duration=120)
    server.close()
    assert 10 <= len(results) <= 60
    outcomes = {r.outcome for r in results}
    assert "answered" in outcomes
    entered = [line for line in emulator.queue_log_lines if "|ENTERQUEUE|" in line]
    assert len({line.split("|")[1] for line in entered}) == sum(1 for r in results if r.queues)


def test_demo_agents_are_numbered_from_1001() -> None:
    agents = demo_agents(12)
    assert [a.extension for a in agents[:3]] == ["1001", "1002", "1003"]
    assert agents[0].name == "Siti Rahma" and len({a.name for a in agents}) == 12
