"""AMI parse + dispatch throughput: hotline against panoramisk 1.4, same bytes, same run.

Input: every ``tests/fixtures/asterisk22/*/ami.raw`` capture (real Asterisk 22.10.1 bytes) with its
banner removed, concatenated and repeated until the stream holds about 200k events, then cut in
64 KiB chunks (the size of a typical socket read). Each figure is the best of ``--rounds`` runs.

What is measured, per side:

hotline
  ``AmiParser.messages(chunk)`` for every chunk, and for every ``Event`` a ``PbxEvent`` is built
  and handed to ``EventDispatcher.publish`` -- exactly what ``AmiClient``'s reader does. The loop
  yields after each chunk (as the reader does while awaiting the socket) and the clock stops when
  the subscribers' tasks have consumed every event. Three subscriber set-ups:
  * ``*``: one ``'*'`` subscriber whose callback does nothing;
  * ``routed``: five subscribers on event names (Newchannel, Hangup, QueueCallerJoin, AgentConnect,
    AgentComplete) doing nothing, plus the ``'*'`` counter that tells when all went through;
  * ``* + fields``: one ``'*'`` subscriber calling ``event.as_dict()``, which splits every header.
    hotline splits headers lazily (first access), so this is the figure to compare with
    panoramisk's, which always splits every header while parsing.

panoramisk
  ``AMIProtocol.data_received(chunk)`` on a protocol wired to a real ``panoramisk.Manager`` (its
  ``factory``, encoding utf8, as ``Manager.connect`` sets it up), with no pending action: this is
  its whole receive path -- decode, split frames, ``Message.from_line`` (a CaseInsensitiveDict of
  every header), ``handle_message``, ``Manager.dispatch`` (fnmatch patterns, callbacks called
  synchronously). The Manager's own FullyBooted callback is removed so only the benchmark's run.
  * ``*``: ``register_event('*', noop)``;
  * ``routed``: ``register_event(name, noop)`` for the same five names, plus the same ``'*'`` counter.

Ratios are hotline events/s divided by panoramisk events/s for the matching set-up; the
``* + fields`` ratio is against panoramisk's ``*``.

Run: ``.venv/bin/python bench/bench_ami.py [--events 200000] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.ami.dispatch import EventDispatcher, PbxEvent
from hotline.ami.protocol import AmiParser, Event

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "asterisk22"
ROUTED = ("Newchannel", "Hangup", "QueueCallerJoin", "AgentConnect", "AgentComplete")
CHUNK = 64 * 1024


def build_stream(target_events: int) -> tuple[list[bytes], int]:
    """Chunks of the repeated captures, and how many events they hold."""
    one_copy = b""
    for path in sorted(FIXTURES.glob("*/ami.raw")):
        raw = path.read_bytes()
        if raw.startswith(b"Asterisk Call Manager/"):
            raw = raw[raw.index(b"\r\n") + 2 :]
        one_copy += raw
    per_copy = sum(isinstance(m, Event) for m in AmiParser(expect_banner=False).messages(one_copy))
    copies = -(-target_events // per_copy)
    stream = one_copy * copies
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)], per_copy * copies


async def run_hotline(chunks: list[bytes], expected: int, setup: str) -> float:
    dispatcher = EventDispatcher()
    consumed = 0
    done = asyncio.Event()

    def count(_: PbxEvent) -> None:
        nonlocal consumed
        consumed += 1
        if consumed == expected:
            done.set()

    def count_fields(item: PbxEvent) -> None:
        item.event.as_dict()
        count(item)

    if setup == "*":
        dispatcher.subscribe("*", count, name="noop")
    elif setup == "* + fields":
        dispatcher.subscribe("*", count_fields, name="fields")
    else:
        for name in ROUTED:
            dispatcher.subscribe(name, lambda _: None, name=f"noop-{name}")
        dispatcher.subscribe("*", count, name="counter")  # to know when every event went through
    await dispatcher.start()
    parser = AmiParser(expect_banner=False)
    publish = dispatcher.publish
    clock = time.time
    seq = 0
    started = time.perf_counter()
    for chunk in chunks:
        for message in parser.messages(chunk):
            if type(message) is Event:
                seq += 1
                publish(PbxEvent("bench", 1, seq, clock(), message))
        await asyncio.sleep(0)
    await done.wait()
    elapsed = time.perf_counter() - started
    await dispatcher.stop()
    assert seq == expected and sum(s.dropped for s in dispatcher.stats()) == 0
    return expected / elapsed


async def run_panoramisk(chunks: list[bytes], expected: int, setup: str) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from panoramisk.ami_protocol import AMIProtocol
        from panoramisk.manager import Manager

    manager = Manager(loop=asyncio.get_running_loop())
    manager.callbacks.clear()
    manager.patterns.clear()
    dispatched = 0

    def count(_manager: Any, _event: Any) -> None:
        nonlocal dispatched
        dispatched += 1

    noop: Callable[[Any, Any], None] = lambda _m, _e: None  # noqa: E731 - a named no-op reads best here
    if setup == "*":
        manager.register_event("*", count)
    else:
        for name in ROUTED:
            manager.register_event(name, noop)
        manager.register_event("*", count)
    protocol = AMIProtocol()
    protocol.connection_made(None)
    protocol.factory = manager
    protocol.encoding = "utf8"
    protocol.version = "11.0.0"
    started = time.perf_counter()
    for chunk in chunks:
        protocol.data_received(chunk)
    elapsed = time.perf_counter() - started
    assert dispatched == expected, (dispatched, expected)
    return expected / elapsed


async def best_of(rounds: int, runner: Callable[..., Any], *args: Any) -> float:
    best = 0.0
    for _ in range(rounds):
        gc.collect()
        best = max(best, await runner(*args))
    return best


async def main(target: int, rounds: int) -> None:
    chunks, events = build_stream(target)
    size = sum(map(len, chunks))
    print(f"stream: {events} events, {size / 1e6:.1f} MB, {len(chunks)} chunks of {CHUNK // 1024} KiB")
    pano = {s: await best_of(rounds, run_panoramisk, chunks, events, s) for s in ("*", "routed")}
    ours = {s: await best_of(rounds, run_hotline, chunks, events, s) for s in ("*", "routed", "* + fields")}
    print(f"{'set-up':<12} {'hotline ev/s':>14} {'panoramisk ev/s':>16} {'ratio':>7}")
    for setup, rate in ours.items():
        peer = pano["routed" if setup == "routed" else "*"]
        print(f"{setup:<12} {rate:>14,.0f} {peer:>16,.0f} {rate / peer:>6.2f}x")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    cli.add_argument("--events", type=int, default=200_000)
    cli.add_argument("--rounds", type=int, default=3)
    options = cli.parse_args()
    asyncio.run(main(options.events, options.rounds))
