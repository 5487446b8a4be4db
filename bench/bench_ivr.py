"""IVR throughput: N concurrent emulated callers through the full hotline menu, core-system simulator behind.

Three processes, so the figures are hotline's and not its peers':

- **hotline** (this process), wired as ``hotline serve`` wires it: the FastAGI server running the
  real IVR handlers (ivr.flows), the real core-system client (``[core_system] max_connections``),
  the IVR's SQLite store with its writer on its own connection (payment claims, call rows), and
  the call context persisted to the store by ``hotline.callcontext`` as ``hotline.compose`` does.
  Logs are written at INFO (the production level) to /dev/null, so their cost is counted.
- **the core system**: :class:`ivr.core_system.CoreSystemSimulator`, in its own process;
- **Asterisk**: the emulated callers, in their own process. Each sends the agi_* block and
  answers each command at once, keying in what a caller would (no audio time is emulated, so
  the round measures hotline, not prompt lengths).

The callers, mixed 40/30/30, all start at once:
- Informasi: greeting, main menu 1;
- Permintaan with identification: main menu 3, press 1 during the offer, customer number
  (lookup in the core system), birth date (verification, recording mute over AMI faked);
- Pembayaran: main menu 5, contract (bill inquiry), option 2, confirm (payment claim stored,
  then POST /payments), reference read back, end of call.

Figures: calls/s over the round; p50/p99 of the time hotline adds per AGI command (from the
moment the caller's reply was written to the moment the next command arrived - core-system
round trips and store writes included, as the caller hears them); hotline's CPU time per call
(this process, its threads included, until every row of the round is stored). The peer,
measured in the same run and the same way, is the FastAGI floor: the same server replaying each
call's exact command lines with no IVR logic; the ratio says what the IVR costs on top of the
protocol. On a 2-core machine the three processes share the cores, so absolute figures depend on
the host; the ratios and the CPU per call are the figures to compare across hosts.

Options: ``--context-in-memory`` leaves the call context's store writes out (what they cost);
``--core-latency-ms`` gives the core system a response time; ``--max-connections`` the client's
connection pool; ``--log-level`` hotline's log level.

Run: ``.venv/bin/python bench/bench_ivr.py [--calls 1000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hotline.agi.server import AgiRouter, AgiServer
from hotline.callcontext import CallContext
from hotline.emulator.agi_commands import parse_args
from hotline.logs import configure
from hotline.store import create_engine, migrate, repo
from ivr import prompts
from ivr.background import Background
from ivr.call import IvrDeps
from ivr.core_system import CoreSystemClient, CoreSystemSettings, CoreSystemSimulator
from ivr.flows import handlers
from ivr.records import IvrStore

CUSTOMER, BIRTH_DATE, CONTRACT = "1000000001", "17081985", "1012311240000001"
MIX: tuple[tuple[float, str, list[str], dict[str, str]], ...] = (
    (0.4, "informasi", ["1"], {}),
    (0.3, "permintaan", ["3", CUSTOMER, BIRTH_DATE], {prompts.IDENTIFY_OFFER: "1"}),
    (0.3, "pembayaran", ["5", CONTRACT, "2", "1", "1"], {}),
)


@dataclass
class Caller:
    keys: list[str]
    escapes: dict[str, str]
    uniqueid: str
    gaps: list[float] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


class _Ami:
    async def send_action(self, action: str, fields: Any = (), timeout: float | None = None) -> Any:
        return type("Result", (), {"ok": True, "message": ""})()


# --- Asterisk: the emulated callers (their own process) -------------------------------------------


def _reply(words: list[str], caller: Caller) -> str:
    name = " ".join(w.upper() for w in words[:2])
    if name == "GET DATA":
        return f"200 result={caller.keys.pop(0)}" if caller.keys else "200 result= (timeout)"
    if name == "STREAM FILE":
        key = caller.escapes.pop(words[2], None)
        return f"200 result={ord(key)} endpos=800" if key else "200 result=0 endpos=12000"
    if words[0].upper() == "HANGUP" or name == "SET VARIABLE":
        return "200 result=1"
    return "200 result=0"


async def play(port: int, script: str, caller: Caller) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_channel": f"PJSIP/provider-{caller.uniqueid}",
        "agi_uniqueid": caller.uniqueid,
        "agi_callerid": "081234567890",
        "agi_language": "en",
    }
    writer.write(("".join(f"{k}: {v}\n" for k, v in env.items()) + "\n").encode())
    sent = 0.0
    while line := await reader.readline():
        now = time.perf_counter()
        if sent:
            caller.gaps.append(now - sent)
        text = line.decode().rstrip("\n")
        caller.commands.append(text)
        writer.write((_reply(parse_args(text), caller) + "\n").encode())
        sent = time.perf_counter()
    writer.close()


def make_callers(count: int, seed: int, prefix: str) -> list[Caller]:
    rng = random.Random(seed)
    callers = []
    for n in range(count):
        pick, acc = rng.random(), 0.0
        chosen = MIX[-1]
        for entry in MIX:
            acc += entry[0]
            if pick <= acc:
                chosen = entry
                break
        _share, _kind, keys, escapes = chosen
        callers.append(Caller(list(keys), dict(escapes), f"{prefix}.{n}"))
    return callers


async def _drive_callers(conn: Connection, port: int) -> None:
    """Run each round the hotline process asks for; send back calls/s, gaps and command lines."""
    loop = asyncio.get_running_loop()
    while (job := await loop.run_in_executor(None, conn.recv)) is not None:
        script, callers = job
        started = time.perf_counter()
        await asyncio.gather(*(play(port, script, c) for c in callers))
        rate = len(callers) / (time.perf_counter() - started)
        conn.send((rate, [g for c in callers for g in c.gaps], {c.uniqueid: c.commands for c in callers}))


def _callers_process(conn: Connection, port: int) -> None:
    asyncio.run(_drive_callers(conn, port))


# --- the core system (its own process) -------------------------------------------------------------


async def _serve_simulator(conn: Connection, latency_s: float) -> None:
    async with CoreSystemSimulator() as sim:
        sim.faults.latency_s = latency_s
        conn.send(sim.base_url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        conn.send(len(sim.payments))


def _simulator_process(conn: Connection, latency_s: float) -> None:
    configure("error", stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    asyncio.run(_serve_simulator(conn, latency_s))


# --- hotline (this process) ------------------------------------------------------------------------


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


async def _ask(conn: Connection, message: Any) -> Any:
    """Send a message to a peer process and wait for its answer without blocking the event loop."""
    conn.send(message)
    return await asyncio.get_running_loop().run_in_executor(None, conn.recv)


def _context_store(engine: Any) -> CallContext:
    """The call context as hotline.compose wires it: memory, and the store in the background."""

    async def persist(pbx: str, uniqueid: str, values: Any, linkedid: str | None) -> None:
        await repo.set_call_context(engine, pbx, uniqueid, dict(values), linkedid=linkedid)

    async def load(pbx: str, uniqueid: str) -> dict[str, str]:
        return await repo.get_call_context(engine, pbx, uniqueid)

    return CallContext(persist=persist, load=load)


async def main(opts: argparse.Namespace) -> None:
    calls, rounds = opts.calls, opts.rounds
    spawn = multiprocessing.get_context("spawn")
    sim_conn, sim_end = spawn.Pipe()
    simulator = spawn.Process(
        target=_simulator_process, args=(sim_end, opts.core_latency_ms / 1000), daemon=True
    )
    simulator.start()
    base_url = await asyncio.get_running_loop().run_in_executor(None, sim_conn.recv)
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder)}/bench.db")
        await migrate(engine)
        settings = CoreSystemSettings(base_url=base_url, timeout_s=10.0, max_connections=opts.max_connections)
        client = CoreSystemClient(settings)
        context = CallContext() if opts.context_in_memory else _context_store(engine)
        records = IvrStore.with_own_connection(engine)  # as ivr.feature wires it
        deps = IvrDeps(context, {"bench": _Ami()}, records, client, None, Background())
        router = AgiRouter()
        for name, handler in handlers(deps).items():
            router.add(name, handler)
        replay: dict[str, list[str]] = {}

        async def floor(session: Any) -> None:
            """The same command lines as the IVR call of this uniqueid, no IVR logic."""
            for line in replay.get(session.env.uniqueid, [])[:-1]:
                words = parse_args(line)
                await session.command(" ".join(words[:2]) if len(words) > 1 else words[0], *words[2:])

        router.add("bench/floor", floor)
        server = AgiServer(router, port=0, command_timeout=30.0, backlog=4096)
        port = await server.start()
        callers_conn, callers_end = spawn.Pipe()
        driver = spawn.Process(target=_callers_process, args=(callers_end, port), daemon=True)
        driver.start()
        ivr_rates, floor_rates, ivr_gaps, floor_gaps = [], [], [], []
        ivr_cpus: list[float] = []
        floor_cpus: list[float] = []
        for r in range(rounds + 1):  # round 0 warms up (connections, simulator, SQLite pages)
            callers = make_callers(calls, seed=r, prefix=f"{1700000000 + r}")
            cpu = time.process_time()
            rate, gaps, commands = await _ask(callers_conn, ("ivr/main?pbx=bench", callers))
            await deps.background.drain(60)
            await records.flush()
            await context.drain()
            ivr_cpu = time.process_time() - cpu
            replay.update(commands)
            copies = [Caller([], {}, c.uniqueid) for c in callers]
            cpu = time.process_time()
            frate, fgaps, _ = await _ask(callers_conn, ("bench/floor", copies))
            floor_cpu = time.process_time() - cpu
            if r:
                ivr_cpus.append(ivr_cpu / calls * 1000)
                floor_cpus.append(floor_cpu / calls * 1000)
                ivr_rates.append(rate)
                floor_rates.append(frate)
                ivr_gaps += gaps
                floor_gaps += fgaps
        callers_conn.send(None)
        driver.join(10)
        await server.stop()
        await records.close()
        await client.close()
        await engine.dispose()
    payments = await _ask(sim_conn, "stop")
    simulator.join(10)
    commands_per_call = len(ivr_gaps) / rounds / calls
    ivr_rate, floor_rate = statistics.median(ivr_rates), statistics.median(floor_rates)
    ivr_p99, floor_p99 = _pct(ivr_gaps, 99), _pct(floor_gaps, 99)
    ivr_cpu, floor_cpu = statistics.median(ivr_cpus), statistics.median(floor_cpus)
    kept = "in memory" if opts.context_in_memory else "persisted"
    print(
        f"IVR benchmark: {calls} concurrent callers x {rounds} rounds, {commands_per_call:.1f} AGI commands"
        f" per call; callers and core system in their own processes (core latency"
        f" {opts.core_latency_ms:g} ms, {opts.max_connections} connections), call context {kept}"
    )
    print(
        f"  hotline IVR    : {ivr_rate:8.1f} calls/s  p50 {_pct(ivr_gaps, 50):6.2f} ms"
        f"  p99 {ivr_p99:7.2f} ms  hotline CPU {ivr_cpu:5.2f} ms/call"
    )
    print(
        f"  FastAGI floor  : {floor_rate:8.1f} calls/s  p50 {_pct(floor_gaps, 50):6.2f} ms"
        f"  p99 {floor_p99:7.2f} ms  hotline CPU {floor_cpu:5.2f} ms/call"
    )
    print(
        f"  ratio IVR/floor: calls/s x{ivr_rate / floor_rate:.2f},"
        f" p99 per command x{ivr_p99 / floor_p99:.2f}, CPU per call x{ivr_cpu / floor_cpu:.2f}"
    )
    print(f"  payments executed by the core-system simulator: {payments} (one per paying caller)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--log-level", default="info", help="hotline's log level (lines go to /dev/null)")
    parser.add_argument(
        "--context-in-memory",
        action="store_true",
        help="keep the call context in memory only (what the store's call_context writes cost)",
    )
    parser.add_argument("--core-latency-ms", type=float, default=0.0, help="the core system's response time")
    parser.add_argument("--max-connections", type=int, default=1000, help="[core_system] max_connections")
    args = parser.parse_args()
    configure(args.log_level, fmt="json", stream=open(os.devnull, "w"))  # noqa: SIM115 - the whole run
    asyncio.run(main(args))
