"""CTI screen-pop benchmark: per-agent routing (hotline's hub) against a naive broadcast-to-all.

Two processes, as in production: the *server* runs hotline's own AMI client, event
dispatcher and CTI feature on an aiohttp server; the *load* process plays Asterisk (an
AMI server the AMI client logs in to) and the floor (2,000 websocket clients: 1,900
agents, each with its own phone, and 100 team leaders watching teams of 19).

The load process writes ``AgentCalled`` events to the AMI socket at 50 pops/s, each for
a random agent, and notes the instant it wrote the bytes (CLOCK_MONOTONIC, shared by
both processes). The agent's client notes the instant it has read and parsed the
``call.ringing`` frame. Latency = the two instants apart: AMI bytes in to JSON read out,
through the AMI parser, the dispatcher, the CTI event task, the hub and the websocket.

Baseline, same run, same server code: the hub's ``deliver_local`` is replaced by a naive
broadcast that serialises every message for every connected socket (what a CTI without
routing does; clients would filter). Both runs use send queues of 4,096 so the baseline
is measured, not dropped.

Run: ``.venv/bin/python bench/bench_cti.py [--clients 2000] [--rate 50] [--seconds 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import time
from typing import Any

SECRET = "bench secret, not for production"
TEAM_SIZE = 19


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the server process ---------------------------------------------------------------------------


async def serve(ami_port: int, mode: str) -> None:
    from aiohttp import web

    import cti.hub as hub_module
    from cti.websocket import WsSettings
    from cti.wiring import CtiFeature
    from hotline import logs
    from hotline.ami.client import AmiClient
    from hotline.ami.dispatch import EventDispatcher
    from hotline.callcontext import CallContext
    from hotline.config import Config, CtiConfig, PbxConfig, Secret
    from hotline.feature import Services
    from hotline.metrics import Registry
    from hotline.web import create_app

    logs.configure("critical")  # the AMI link drops at the end of each round; that is no news
    if mode == "broadcast":
        hub_module.AgentHub.deliver_local = _broadcast  # type: ignore[method-assign]
    config = Config(
        pbx=(
            PbxConfig(
                name="bench", site="bench", ami_port=ami_port, ami_secret=Secret("x"), ami_auth="plain"
            ),
        ),
        cti=CtiConfig(token_secret=Secret(SECRET), wrapup_s=0),
    )
    dispatcher = EventDispatcher()
    client = AmiClient(config.pbx[0], on_event=dispatcher.publish, on_resync=lambda snapshot: None)
    app = create_app(config=config, health_checks={}, metrics=Registry(), openapi_fragments=[])
    feature = CtiFeature(WsSettings(queue_size=4096, heartbeat=300.0))
    feature.setup(Services(config, dispatcher, {"bench": client}, None, app, CallContext()))  # type: ignore[arg-type]

    async def stats(request: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        rss = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])  # noqa: ASYNC230, SIM115
        body = {
            "rss_kib": rss,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "dropped": feature.hub.stats.dropped_slow,
        }
        return web.json_response(body)

    app.router.add_get("/bench/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
    await site.start()
    await dispatcher.start()
    await feature.start()
    await client.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the load process ends us


def _broadcast(self: Any, pbx: str, iface: str, message: Any) -> int:
    """The naive baseline: every message, serialised for every socket, whoever it is for."""
    reached = 0
    for conn in self.connections():
        body = {
            "v": message.get("v"),
            "type": message.get("type"),
            "id": self.streams.next_id(conn.agent),
            **message,
        }
        if conn.offer(json.dumps(body, ensure_ascii=False)):
            reached += 1
    return reached


# --- the load process ------------------------------------------------------------------------------


class FakeAsterisk:
    """Just enough AMI for the client to log in and resync; then it writes what it is told to."""

    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.ready = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        while True:
            try:
                block = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # hotline went away (end of the round)
            fields = dict(
                line.split(": ", 1) for line in block.decode().strip().split("\r\n") if ": " in line
            )
            action_id = fields.get("ActionID", "")
            if fields.get("Action") in ("QueueStatus", "CoreShowChannels"):
                done = (
                    "QueueStatusComplete" if fields["Action"] == "QueueStatus" else "CoreShowChannelsComplete"
                )
                writer.write(
                    f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\n\r\n"
                    f"Event: {done}\r\nActionID: {action_id}\r\nEventList: Complete\r\n"
                    "ListItems: 0\r\n\r\n".encode()
                )
                if fields["Action"] == "QueueStatus":
                    self.writer = writer
                    self.ready.set()
            else:
                writer.write(f"Response: Success\r\nActionID: {action_id}\r\nMessage: ok\r\n\r\n".encode())


def agent_called(seq: int, agent: int) -> bytes:
    return (
        f"Event: AgentCalled\r\nPrivilege: agent,all\r\nTimestamp: {time.time():.6f}\r\n"
        f"Channel: PJSIP/provider-{seq % 2**32:08x}\r\nChannelState: 6\r\nCallerIDNum: {seq}\r\n"
        f"CallerIDName: Bench Caller\r\nUniqueid: 1795514646.{seq}\r\nLinkedid: 1795514646.{seq}\r\n"
        f"DestChannel: PJSIP/{agent}-{seq % 2**32:08x}\r\nQueue: cc-informasi\r\n"
        f"Interface: PJSIP/{agent}\r\nMemberName: Agent {agent}\r\n\r\n"
    ).encode()


async def run_mode(mode: str, clients: int, rate: float, seconds: float) -> dict[str, Any]:
    import aiohttp

    from hotline.tokens import TokenSigner

    fake = FakeAsterisk()
    ami = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    ami_port = ami.sockets[0].getsockname()[1]
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        str(ami_port),
        mode,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None and server.stdin is not None
    http_port = int((await server.stdout.readline()).decode())
    await asyncio.wait_for(fake.ready.wait(), 10)
    signer = TokenSigner(SECRET.encode())
    leaders = max(1, clients // 20)
    agents = [10000 + n for n in range(clients - leaders)]
    sent_at: dict[int, int] = {}
    target: dict[int, int] = {}
    latencies: list[float] = []
    frames = [0]
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector)

    async def listen(ws: aiohttp.ClientWebSocketResponse, agent: int | None) -> None:
        async for msg in ws:
            now = time.monotonic_ns()
            frames[0] += 1
            message = json.loads(msg.data)
            if message.get("type") == "call.ringing":
                seq = int(message["caller"]["number"])
                # Only the pop of this socket's own phone counts (broadcast sends it everyone's).
                if seq > 0 and seq in sent_at and target.get(seq) == agent:
                    latencies.append((now - sent_at[seq]) / 1e6)

    async def open_one(token: str) -> aiohttp.ClientWebSocketResponse:
        ws = await session.ws_connect(f"http://127.0.0.1:{http_port}/cti/ws?token={token}", heartbeat=None)
        await ws.receive(timeout=10)  # hello
        return ws

    tokens = [
        signer.issue(str(a), iface=f"PJSIP/{a}", extra={"team": f"t{i // TEAM_SIZE}"})
        for i, a in enumerate(agents)
    ]
    tokens += [signer.issue(f"tl{i}", "team_leader", extra={"team": f"t{i}"}) for i in range(leaders)]
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    for start in range(0, len(tokens), 200):
        sockets += await asyncio.gather(*(open_one(t) for t in tokens[start : start + 200]))
    owners: list[int | None] = [*agents, *([None] * leaders)]
    readers = [asyncio.create_task(listen(ws, owner)) for ws, owner in zip(sockets, owners, strict=True)]
    rnd = random.Random(7)
    warmup = int(rate)  # one second of pops, not counted: imports, first allocations, JIT-less warm caches
    total = int(rate * seconds)
    begin = time.monotonic()
    assert fake.writer is not None
    for seq in range(-warmup + 1, total + 1):
        await asyncio.sleep(max(0.0, begin + (seq + warmup) / rate - time.monotonic()))
        target[seq] = agent = rnd.choice(agents)
        data = agent_called(seq, agent)
        sent_at[seq] = time.monotonic_ns()
        fake.writer.write(data)
    deadline = time.monotonic() + 30
    while len(latencies) < total and time.monotonic() < deadline:  # noqa: ASYNC110  (a bench's simple wait)
        await asyncio.sleep(0.05)
    async with session.get(f"http://127.0.0.1:{http_port}/bench/stats") as response:
        stats = await response.json()
    for task in readers:
        task.cancel()
    await session.close()
    server.stdin.close()
    await server.wait()
    ami.close()
    ordered = sorted(latencies)
    return {
        "mode": mode,
        "pops": total,
        "received": len(latencies),
        "frames": frames[0],
        "p50_ms": statistics.median(ordered) if ordered else float("nan"),
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] if ordered else float("nan"),
        "max_ms": ordered[-1] if ordered else float("nan"),
        "rss_mib": stats["rss_kib"] / 1024,
        "cpu_s": stats["cpu_s"],
        "dropped": stats["dropped"],
    }


async def main(args: argparse.Namespace) -> None:
    results = [
        await run_mode(mode, args.clients, args.rate, args.seconds) for mode in ("routed", "broadcast")
    ]
    print(f"CTI screen-pop: {args.clients} clients, {args.rate:g} pops/s for {args.seconds:g} s")
    header = ("pops", "got", "frames", "p50 ms", "p99 ms", "max ms", "RSS MiB", "CPU s")
    print(f"{'':10} " + " ".join(f"{h:>8}" for h in header))
    for r in results:
        counts = f"{r['mode']:10} {r['pops']:8} {r['received']:8} {r['frames']:8}"
        times = f"{r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.2f}"
        print(f"{counts} {times} {r['rss_mib']:8.1f} {r['cpu_s']:8.1f}")
    routed, naive = results
    ratio = {k: naive[k] / max(routed[k], 1e-9) for k in ("p50_ms", "p99_ms", "cpu_s", "frames", "rss_mib")}
    print(
        f"broadcast / routed: p50 x{ratio['p50_ms']:.1f}, p99 x{ratio['p99_ms']:.1f}, "
        f"server CPU x{ratio['cpu_s']:.1f}, memory x{ratio['rss_mib']:.1f}, frames x{ratio['frames']:.0f}"
    )


if __name__ == "__main__":
    _raise_fd_limit()
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(serve(int(sys.argv[2]), sys.argv[3]))
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
        parser.add_argument("--clients", type=int, default=2000)
        parser.add_argument("--rate", type=float, default=50.0)
        parser.add_argument("--seconds", type=float, default=20.0)
        asyncio.run(main(parser.parse_args()))
