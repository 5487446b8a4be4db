"""FastAGI server benchmark: hotline's AgiServer against panoramisk 1.4's fast_agi.Application.

Each server runs in its own process (so it has a core of its own, as beside Asterisk);
this process plays Asterisk: N concurrent connections, each sends an agi_* block and
answers every command with ``200 result=0`` as soon as it has read it. Every handler
sends the same 20 commands (ANSWER, STREAM FILE / GET DATA / SET VARIABLE in turn,
and SET VARIABLE HOTLINE_STATUS OK last).

Method: both server processes are started once and stay up; each gets one warm-up
round (not counted), then the measured rounds alternate between them (hotline,
panoramisk, hotline, ...) so a load that comes and goes on the host hits both alike.
Every figure is the median over the measured rounds, each taken on its own:

- commands/s over the whole round, connections included;
- p50 / p99 of the latency the server adds per command: from the moment the client
  wrote a reply to the moment the next command arrived (both ends on one host, so this
  includes the client loop's own scheduling, equally for both servers);
- server CPU per command: the server process's CPU time over the round (it reports its
  own ``time.process_time()``) divided by the commands. Unlike the two above, this does
  not depend on what else runs on the host, and it is the figure to trust on a busy one.

The emulated Asterisk is one asyncio process for both servers. It reads with a
BufferedProtocol into one shared buffer and answers from the read callback, so it
costs less per command than either server and the round measures the server, not
the client (a StreamReader client was the bottleneck once the server got faster).

What panoramisk needed to work: the handler must be an ``async def`` (``add_route``
wraps plain functions with ``asyncio.coroutine``, gone in Python 3.11), the
``Application`` is built inside the running loop with ``loop=`` (its default calls
``asyncio.get_event_loop()``), and the listener is ``asyncio.start_server(app.handler,
...)``. The emulated Asterisk never sends HANGUP, 520 blocks or early closes, which
panoramisk does not survive.

Run: ``.venv/bin/python bench/bench_agi.py [--sessions 1000] [--commands 20] [--rounds 5]``
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
    # The parent asks for our CPU time with a "cpu" line, and closes our stdin to stop us.
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        if line.strip() == "cpu":
            print(f"CPU {time.process_time()!r}", flush=True)


# --- the emulated Asterisk ---------------------------------------------------------

REPLY = b"200 result=0\n"


@dataclass
class Round:
    server: str
    seconds: float = 0.0
    commands: int = 0
    sessions_ok: int = 0
    server_cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.commands / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_command(self) -> float:
        return self.server_cpu / self.commands if self.commands else float("nan")

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


class EmulatedCall(asyncio.BufferedProtocol):
    """Asterisk's side of one call: send the agi_* block, answer each command line at once."""

    def __init__(self, n: int, result: Round, read_buffer: memoryview) -> None:
        self.env = environment(n)
        self.result = result
        self.read_buffer = read_buffer
        self.transport: asyncio.Transport | None = None
        self.seen = 0
        self.replied_at: float | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def itself(self) -> EmulatedCall:
        """The protocol factory for ``create_connection``: this call, already set up."""
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.env)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        now = time.perf_counter()
        lines = bytes(self.read_buffer[:nbytes]).count(b"\n")
        if not lines or self.transport is None:
            return
        if self.replied_at is not None:
            self.result.latencies.append(now - self.replied_at)
        self.seen += lines
        self.transport.write(REPLY * lines)
        self.replied_at = time.perf_counter()

    def eof_received(self) -> bool:
        return False  # the server is done with the call: close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def play_round(server: str, port: int, sessions: int, commands: int) -> Round:
    loop = asyncio.get_running_loop()
    result = Round(server)
    read_buffer = memoryview(bytearray(64 * 1024))  # each read is consumed at once: one will do
    calls = [EmulatedCall(n, result, read_buffer) for n in range(sessions)]
    started = time.perf_counter()
    await asyncio.gather(*(loop.create_connection(call.itself, "127.0.0.1", port) for call in calls))
    await asyncio.gather(*(c.done for c in calls))
    result.seconds = time.perf_counter() - started
    result.commands = sum(c.seen for c in calls)
    result.sessions_ok = sum(c.seen == commands for c in calls)
    return result


class ServerProcess:
    """One server in a child process: its port, and its CPU time on demand."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, port: int) -> None:
        self.name, self.proc, self.port = name, proc, port

    @classmethod
    async def start(cls, name: str, commands: int) -> ServerProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--serve", name, "--commands", str(commands),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        return cls(name, proc, int(line.split()[1]))

    async def cpu_seconds(self) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"cpu\n")
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), 5)
        return float(line.split()[1])

    async def run_round(self, sessions: int, commands: int) -> Round:
        cpu_before = await self.cpu_seconds()
        result = await asyncio.wait_for(play_round(self.name, self.port, sessions, commands), ROUND_TIMEOUT)
        result.server_cpu = await self.cpu_seconds() - cpu_before
        return result

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


async def bench(sessions: int, commands: int, rounds: int) -> None:
    servers = [await ServerProcess.start(name, commands) for name in SERVERS]
    results: dict[str, list[Round]] = {name: [] for name in SERVERS}
    try:
        for server in servers:  # warm-up: first-time code paths, caches, the kernel's socket state
            await server.run_round(sessions, commands)
        for _ in range(rounds):
            for server in servers:
                results[server.name].append(await server.run_round(sessions, commands))
    finally:
        for server in servers:
            await server.stop()
    print(f"FastAGI: {sessions} concurrent sessions x {commands} commands, median of {rounds} rounds")
    header = (
        f"{'server':<12}{'commands/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/cmd':>12}{'sessions ok':>13}"
    )
    print(f"{header}  all rounds (commands/s)")
    picked: dict[str, dict[str, float]] = {}
    for name, rs in results.items():
        m = picked[name] = {
            "rate": median([r.rate for r in rs]),
            "p50": median([r.percentile(0.5) for r in rs]),
            "p99": median([r.percentile(0.99) for r in rs]),
            "cpu": median([r.cpu_per_command for r in rs]),
        }
        ok = min(r.sessions_ok for r in rs)
        every = ", ".join(f"{r.rate:,.0f}" for r in rs)
        print(
            f"{name:<12}{m['rate']:>12,.0f}{m['p50'] * 1e3:>9.2f}{m['p99'] * 1e3:>9.2f}"
            f"{m['cpu'] * 1e6:>12.1f}{ok:>8}/{sessions:<4}  {every}"
        )
    ours, theirs = picked["hotline"], picked["panoramisk"]
    print(
        f"ratio hotline/panoramisk: throughput x{ours['rate'] / theirs['rate']:.2f}, "
        f"p50 latency x{ours['p50'] / theirs['p50']:.2f}, p99 latency x{ours['p99'] / theirs['p99']:.2f}, "
        f"CPU per command x{ours['cpu'] / theirs['cpu']:.2f} (latency, CPU: below 1 = hotline faster)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
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
