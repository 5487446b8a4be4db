"""IVR throughput: N concurrent emulated callers through the full hotline menu, core-system simulator behind.

hotline's FastAGI server runs the real IVR handlers (ivr.flows) with the real core-system
client talking HTTP to :class:`ivr.core_system.CoreSystemSimulator`, a SQLite store for the
payment claims and call records, and the in-memory call context. This process plays Asterisk
for every caller: it sends the agi_* block and answers each command at once, keying in what a
caller would (no audio time is emulated, so the round measures hotline, not prompt lengths).

The callers, mixed 40/30/30:
- Informasi: greeting, main menu 1;
- Permintaan with identification: main menu 3, press 1 during the offer, customer number
  (lookup in the core system), birth date (verification, recording mute over AMI faked);
- Pembayaran: main menu 5, contract (bill inquiry), option 2, confirm (payment claim stored,
  then POST /payments), reference read back, end of call.

Figures: calls/s over the round; p50/p99 of the time hotline adds per AGI command (from the
moment the caller's reply was written to the moment the next command arrived - core-system
round trips and store writes included, as the caller hears them). The peer, measured in the
same run, is the FastAGI floor: the same server replaying each call's exact command lines with
no IVR logic; the ratio says what the IVR costs on top of the protocol.

The simulator, the store and the callers share this process and its event loop with hotline,
so the absolute figures are pessimistic; the ratio is the figure to compare across hosts.

Run: ``.venv/bin/python bench/bench_ivr.py [--calls 1000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.agi.server import AgiRouter, AgiServer
from hotline.callcontext import CallContext
from hotline.emulator.agi_commands import parse_args
from hotline.logs import configure
from hotline.store import create_engine, migrate
from ivr import prompts
from ivr.background import Background
from ivr.call import IvrDeps
from ivr.core_system import CoreSystemClient, CoreSystemSettings, CoreSystemSimulator
from ivr.flows import handlers
from ivr.records import IvrStore

CUSTOMER, BIRTH_DATE, CONTRACT = "1000000001", "17081985", "1012311240000001"
MIX = (
    (0.4, "informasi", ["1"], {}),
    (0.3, "permintaan", ["3", CUSTOMER, BIRTH_DATE], {prompts.IDENTIFY_OFFER: "1"}),
    (0.3, "pembayaran", ["5", CONTRACT, "2", "1", "1"], {}),
)
AUDIO = ("STREAM FILE", "GET DATA", "SAY NUMBER", "SAY DIGITS")


@dataclass
class Caller:
    kind: str
    keys: list[str]
    escapes: dict[str, str]
    uniqueid: str
    gaps: list[float] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


class _Ami:
    async def send_action(self, action: str, fields: Any = (), timeout: float | None = None) -> Any:
        return type("Result", (), {"ok": True, "message": ""})()


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
        _share, kind, keys, escapes = chosen
        callers.append(Caller(kind, list(keys), dict(escapes), f"{prefix}.{n}"))
    return callers


async def run_round(port: int, script: str, callers: list[Caller]) -> tuple[float, list[float]]:
    started = time.perf_counter()
    await asyncio.gather(*(play(port, script, c) for c in callers))
    elapsed = time.perf_counter() - started
    return len(callers) / elapsed, [g for c in callers for g in c.gaps]


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


async def main(calls: int, rounds: int) -> None:
    configure("error")
    logging.getLogger().setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder)}/bench.db")
        await migrate(engine)
        async with CoreSystemSimulator() as sim:
            client = CoreSystemClient(CoreSystemSettings(base_url=sim.base_url, timeout_s=10.0))
            deps = IvrDeps(CallContext(), {"bench": _Ami()}, IvrStore(engine), client, None, Background())
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
            ivr_rates, floor_rates, ivr_gaps, floor_gaps = [], [], [], []
            for r in range(rounds + 1):  # round 0 warms up (connections, simulator, SQLite pages)
                callers = make_callers(calls, seed=r, prefix=f"{1700000000 + r}")
                rate, gaps = await run_round(port, "ivr/main?pbx=bench", callers)
                await deps.background.drain(60)
                for c in callers:
                    replay[c.uniqueid] = c.commands
                copies = [Caller(c.kind, [], {}, c.uniqueid) for c in callers]
                frate, fgaps = await run_round(port, "bench/floor", copies)
                if r:
                    ivr_rates.append(rate)
                    floor_rates.append(frate)
                    ivr_gaps += gaps
                    floor_gaps += fgaps
            await server.stop()
            await client.close()
        await engine.dispose()
    commands = len(ivr_gaps) / rounds / calls
    ivr_rate, floor_rate = statistics.median(ivr_rates), statistics.median(floor_rates)
    ivr_p99, floor_p99 = _pct(ivr_gaps, 99), _pct(floor_gaps, 99)
    print(
        f"IVR benchmark: {calls} concurrent callers x {rounds} rounds, {commands:.1f} AGI commands per call"
    )
    print(
        f"  hotline IVR    : {ivr_rate:8.1f} calls/s  p50 {_pct(ivr_gaps, 50):6.2f} ms  p99 {ivr_p99:6.2f} ms"
    )
    print(
        f"  FastAGI floor  : {floor_rate:8.1f} calls/s"
        f"  p50 {_pct(floor_gaps, 50):6.2f} ms  p99 {floor_p99:6.2f} ms"
    )
    print(
        f"  ratio IVR/floor: calls/s x{ivr_rate / floor_rate:.2f}, p99 per command x{ivr_p99 / floor_p99:.2f}"
    )
    print(f"  payments executed by the simulator: {len(sim.payments)} (one per paying caller)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds))
