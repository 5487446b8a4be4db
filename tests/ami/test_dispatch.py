"""EventDispatcher: routing, per-subscriber queues, overflow, failing callbacks, stop."""

from __future__ import annotations

import asyncio
from types import ModuleType

from structlog.testing import capture_logs

from hotline.ami.dispatch import EventDispatcher, PbxEvent
from hotline.ami.protocol import Event


def item(name: str, seq: int = 1) -> PbxEvent:
    return PbxEvent("pbx-test", 1, seq, 1.0, Event((("Event", name), ("Seq", str(seq)))))


async def test_routes_by_name_and_star_in_order(kit: ModuleType) -> None:
    dispatcher = EventDispatcher()
    hangups: list[int] = []
    everything: list[str] = []

    async def on_any(ev: PbxEvent) -> None:
        everything.append(ev.event.name)

    dispatcher.subscribe("Hangup", lambda ev: hangups.append(ev.seq), name="hangups")
    dispatcher.subscribe("*", on_any, name="all")
    await dispatcher.start()
    for seq, name in enumerate(["Newchannel", "Hangup", "Newstate", "Hangup"], start=1):
        dispatcher.publish(item(name, seq))
    await kit.eventually(lambda: len(everything) == 4)
    assert hangups == [2, 4]
    assert everything == ["Newchannel", "Hangup", "Newstate", "Hangup"]
    await dispatcher.stop()


async def test_slow_subscriber_blocks_neither_publisher_nor_others(kit: ModuleType) -> None:
    dispatcher = EventDispatcher()
    release = asyncio.Event()
    fast: list[int] = []
    slow: list[int] = []

    async def stuck(ev: PbxEvent) -> None:
        await release.wait()
        slow.append(ev.seq)

    dispatcher.subscribe("*", stuck, name="stuck-db")
    dispatcher.subscribe("*", lambda ev: fast.append(ev.seq), name="cti")
    await dispatcher.start()
    for seq in range(1, 1001):
        dispatcher.publish(item("Newstate", seq))  # synchronous: returns at once
    await kit.eventually(lambda: len(fast) == 1000)
    assert slow == []
    release.set()
    await kit.eventually(lambda: len(slow) == 1000)
    assert slow == list(range(1, 1001))
    await dispatcher.stop()


async def test_overflow_drops_oldest_counts_and_logs_once_per_burst(kit: ModuleType) -> None:
    dispatcher = EventDispatcher()
    got: list[int] = []
    sub = dispatcher.subscribe("*", lambda ev: got.append(ev.seq), name="small", maxsize=3)
    with capture_logs() as logs:
        for seq in range(1, 11):
            dispatcher.publish(item("Newstate", seq))
        await dispatcher.start()
        await kit.eventually(lambda: len(got) == 3)
        dispatcher.publish(item("Newstate", 11))
        await kit.eventually(lambda: len(got) == 4)
    assert got == [8, 9, 10, 11]  # the newest are kept
    assert sub.dropped == 7
    errors = [e for e in logs if e["log_level"] == "error"]
    assert len(errors) == 1 and errors[0]["subscriber"] == "small"
    assert dispatcher.metrics()["dropped_total"] == 7 == dispatcher.dropped_total()
    assert dispatcher.stats()[0].delivered == 4
    await dispatcher.stop()


async def test_failing_callback_is_logged_and_the_subscriber_goes_on(kit: ModuleType) -> None:
    dispatcher = EventDispatcher()
    seen: list[int] = []

    def flaky(ev: PbxEvent) -> None:
        if ev.seq == 2:
            raise RuntimeError("boom")
        seen.append(ev.seq)

    sub = dispatcher.subscribe("*", flaky, name="flaky")
    await dispatcher.start()
    with capture_logs() as logs:
        for seq in (1, 2, 3):
            dispatcher.publish(item("Hangup", seq))
        await kit.eventually(lambda: len(seen) == 2)
    assert seen == [1, 3] and sub.failed == 1
    [error] = [e for e in logs if e["log_level"] == "error"]
    assert error["event"] == "subscriber callback failed" and error["event_name"] == "Hangup"
    assert error["subscriber"] == "flaky" and error["error"] == "RuntimeError: boom"
    await dispatcher.stop()


async def test_stop_drains_queued_items() -> None:
    dispatcher = EventDispatcher()
    got: list[int] = []

    async def slowish(ev: PbxEvent) -> None:
        await asyncio.sleep(0)
        got.append(ev.seq)

    dispatcher.subscribe("*", slowish, name="writer")
    await dispatcher.start()
    for seq in range(1, 51):
        dispatcher.publish(item("Newstate", seq))
    await dispatcher.stop()
    assert got == list(range(1, 51))


async def test_stop_cancels_a_subscriber_that_never_finishes() -> None:
    dispatcher = EventDispatcher()

    async def forever(ev: PbxEvent) -> None:
        await asyncio.Event().wait()

    dispatcher.subscribe("*", forever, name="hung")
    await dispatcher.start()
    dispatcher.publish(item("Newstate"))
    await asyncio.sleep(0)
    with capture_logs() as logs:
        await dispatcher.stop(drain_timeout=0.05)
    assert any(e["event"] == "subscriber did not drain in time" for e in logs)


async def test_close_unsubscribes(kit: ModuleType) -> None:
    dispatcher = EventDispatcher()
    a: list[int] = []
    b: list[int] = []
    sub_a = dispatcher.subscribe("Hangup", lambda ev: a.append(ev.seq), name="a")
    dispatcher.subscribe("Hangup", lambda ev: b.append(ev.seq), name="b")
    await dispatcher.start()
    dispatcher.publish(item("Hangup", 1))
    await kit.eventually(lambda: len(a) == 1 and len(b) == 1)
    sub_a.close()
    dispatcher.publish(item("Hangup", 2))
    await kit.eventually(lambda: len(b) == 2)
    assert a == [1]
    assert [s.name for s in dispatcher.stats()] == ["b"]
    await dispatcher.stop()


async def test_sync_backlog_lets_the_loop_run(kit: ModuleType) -> None:
    """A sync subscriber with a long backlog must give the loop turns (the AMI reader runs there)."""
    dispatcher = EventDispatcher()
    got: list[int] = []
    dispatcher.subscribe("*", lambda ev: got.append(ev.seq), name="sync")
    for seq in range(1, 5001):
        dispatcher.publish(item("Newstate", seq))
    await dispatcher.start()
    turns = 0
    while len(got) < 5000:
        await asyncio.sleep(0)
        turns += 1
        assert len(got) < 5000 or turns > 1
    assert turns > 5  # the backlog was worked through in slices, with the loop free between them
    await dispatcher.stop()
