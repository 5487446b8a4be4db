"""FastAGI server benchmark: hotline's AgiServer against panoramisk 1.4's fast_agi.Application.

Each server runs in its own process (so it has a core of its own, as beside Asterisk);
this process plays Asterisk: N concurrent connections, each sends an agi_* block and
answers every command with ``200 result=0`` as soon as it has read it. Every handler
sends the same 20 commands (ANSWER, STREAM FILE / GET DATA / SET VARIABLE in turn,
and SET VARIABLE HOTLINE_STATUS OK last).

Measured: commands per second over the whole run (connections included), and the
latency the server adds per command: from the moment the client wrote a reply to
the moment the next command arrived (both ends on one host, so this includes the
client loop's own scheduling, equally for both servers).

What panoramisk needed to work: the handler must be an ``async def`` (``add_route``
wraps plain functions with ``asyncio.coroutine``, gone in Python 3.11), the
``Application`` is built inside the running loop with ``loop=`` (its default calls
``asyncio.get_event_loop()``), and the listener is ``asyncio.start_server(app.handler,
...)``. The emulated Asterisk never sends HANGUP, 520 blocks or early closes, which
panoramisk does not survive.

Run: ``.venv/bin/python bench/bench_agi.py [--sessions 1000] [--commands 20] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import Any

SERVERS = ("hotline", "panoramisk")
ROUND_TIMEOUT = 40.0


def command_plan(count: int) -> list[str]:
    """The command lines every handler sends, in order (the last sets HOTLINE_STATUS)."""
    cycle = ['STREAM FILE beep ""', "GET DATA beep 5000 1", "SET VARIABLE BENCH_STEP {i}"]
    middle = [cycle[i % 3].format(i=i) for i in range(max(count - 2, 0))]
    return ["ANSWER", *middle, "SET VARIABLE HOTLINE_STATUS OK"][:count]


# --- server processes --------------------------------------------------------------


async def serve_hotline(commands: int) -> None:
    from hotline.agi import AgiRouter, AgiServer, AgiSession
    from hotline.logs import configure
    from hotline.names import STATUS_OK, VAR_STATUS

    configure(level="warning")

    async def handler(session: AgiSession) -> None:
        await session.answer()
        for i in range(commands - 2):
            step = i % 3
            if step == 0:
                await session.stream_file("beep")
            elif step == 1:
                await session.get_data("beep", 5000, 1)
            else:
                await session.set_variable("BENCH_STEP", i)
        await session.set_variable(VAR_STATUS, STATUS_OK)

    router = AgiRouter()
    router.add("bench", handler)
    server = AgiServer(router, port=0)
    await _announce_and_wait(await server.start())
    await server.stop(grace=1.0)


async def serve_panoramisk(commands: int) -> None:
    from panoramisk.fast_agi import Application

    logging.basicConfig(level=logging.WARNING)
    plan = command_plan(commands)
    app = Application(loop=asyncio.get_running_loop())

    async def handler(request: Any) -> None:
        for line in plan:
            await request.send_command(line)

    app.add_route("bench", handler)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0, backlog=1024)
    await _announce_and_wait(server.sockets[0].getsockname()[1])
    server.close()


async def _announce_and_wait(port: int) -> None:
    print(f"PORT {port}", flush=True)
    # The parent closes our stdin to stop us.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# --- the emulated Asterisk ---------------------------------------------------------


@dataclass
class Round:
    server: str
    seconds: float = 0.0
    commands: int = 0
    sessions_ok: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.commands / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def environment(n: int) -> bytes:
    fields = {
        "network": "yes",
        "network_script": "bench",
        "request": "agi://127.0.0.1/bench",
        "channel": f"PJSIP/provider-{n:08x}",
        "language": "en",
        "type": "PJSIP",
        "uniqueid": f"1795514684.{n}",
        "version": "22.10.1",
        "callerid": "081298765432",
        "calleridname": "Dewi Lestari",
        "context": "from-provider",
        "extension": "1500569",
        "priority": "2",
    }
    return "".join(f"agi_{k}: {v}\n" for k, v in fields.items()).encode() + b"\n"


async def play_call(port: int, n: int, result: Round, expected: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(environment(n))
    seen = 0
    replied_at: float | None = None
    while await reader.readline():
        now = time.perf_counter()
        if replied_at is not None:
            result.latencies.append(now - replied_at)
        seen += 1
        writer.write(b"200 result=0\n")
        replied_at = time.perf_counter()
    result.commands += seen
    result.sessions_ok += seen == expected
    writer.close()


async def run_round(server: str, sessions: int, commands: int) -> Round:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", server, "--commands", str(commands),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        port = int(line.split()[1])
        result = Round(server)
        started = time.perf_counter()
        calls = (play_call(port, n, result, commands) for n in range(sessions))
        await asyncio.wait_for(asyncio.gather(*calls), ROUND_TIMEOUT)
        result.seconds = time.perf_counter() - started
        return result
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def summary(rounds: list[Round]) -> Round:
    """The median round by throughput."""
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]


async def bench(sessions: int, commands: int, rounds: int) -> None:
    results: dict[str, list[Round]] = {name: [] for name in SERVERS}
    for _ in range(rounds):
        for name in SERVERS:
            results[name].append(await run_round(name, sessions, commands))
    print(f"FastAGI: {sessions} concurrent sessions x {commands} commands, median of {rounds} rounds")
    header = f"{'server':<12}{'commands/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'sessions ok':>13}"
    print(f"{header}  all rounds (commands/s)")
    picked = {name: summary(rs) for name, rs in results.items()}
    for name, r in picked.items():
        every = ", ".join(f"{x.rate:,.0f}" for x in results[name])
        print(
            f"{name:<12}{r.rate:>12,.0f}{r.percentile(0.5) * 1e3:>9.2f}{r.percentile(0.99) * 1e3:>9.2f}"
            f"{r.sessions_ok:>8}/{sessions:<4}  {every}"
        )
    ours, theirs = picked["hotline"], picked["panoramisk"]
    print(
        f"ratio hotline/panoramisk: throughput x{ours.rate / theirs.rate:.2f}, "
        f"p50 latency x{ours.percentile(0.5) / theirs.percentile(0.5):.2f}, "
        f"p99 latency x{ours.percentile(0.99) / theirs.percentile(0.99):.2f} (below 1 = hotline faster)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Each side holds one socket per session; make sure the descriptor limit allows it.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.sessions * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if args.serve == "hotline":
        asyncio.run(serve_hotline(args.commands))
    elif args.serve == "panoramisk":
        asyncio.run(serve_panoramisk(args.commands))
    else:
        asyncio.run(bench(args.sessions, args.commands, args.rounds))


if __name__ == "__main__":
    main()
