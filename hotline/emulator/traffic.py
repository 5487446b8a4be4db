"""Random demo traffic: Poisson arrivals of calls with varied behaviour, reproducible with a seed.

Menu digits 1..5 and 0 (as the IVR offers), some callers abandon, some agents do not
answer, some calls are put on hold, talk times vary, a few calls are blind-transferred.
"""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

from hotline.emulator.script import CallResult, CallScript
from hotline.logs import get_logger

if TYPE_CHECKING:
    from hotline.emulator.emulator import AsteriskEmulator

_log = get_logger(__name__)

FIRST_NAMES = ("Agus", "Dewi", "Putri", "Budi", "Sri", "Wahyu", "Rudi", "Yusuf", "Śantoso", "Hendra", "Rina")
LAST_NAMES = ("Pratama", "Lestari", "Ayu", "Santoso", "Mulyani", "Nugroho", "Hartono", "Hidayat", "Wibowo")


def random_script(rng: random.Random, agents: list[str], transfer_queues: list[str]) -> CallScript:
    """One plausible caller: mostly patient and answered, sometimes not."""
    number = "08" + "".join(str(rng.randrange(10)) for _ in range(10))
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    digit = rng.choice("123450")
    ring = {a: (None if rng.random() < 0.1 else round(rng.uniform(1.0, 5.0), 1)) for a in agents}
    talk = round(rng.lognormvariate(4.6, 0.5), 1)  # median about 100 s, like an informasi call
    hold = rng.random() < 0.2
    transfer = transfer_queues and rng.random() < 0.05
    return CallScript(
        caller_number=number,
        caller_name=name,
        digits=digit,
        first_digit_at_s=round(rng.uniform(0.8, 3.0), 1),
        patience_s=round(rng.uniform(5.0, 60.0), 1) if rng.random() < 0.25 else None,
        hangup_during_ivr_at_s=round(rng.uniform(0.5, 2.0), 1) if rng.random() < 0.03 else None,
        caller_hangs_up_after_s=None if rng.random() < 0.5 else talk + 20.0,
        agent_hangs_up_after_s=talk,
        hold_at_s=round(talk * 0.3, 1) if hold else None,
        hold_len_s=round(rng.uniform(5.0, 30.0), 1) if hold else 0.0,
        blind_transfer_to_queue=rng.choice(transfer_queues) if transfer else None,
        blind_transfer_at_s=round(talk * 0.5, 1),
        agent_ring_s=ring,
    )


class TrafficGenerator:
    def __init__(self, emulator: AsteriskEmulator, calls_per_second: float, seed: int | None) -> None:
        if calls_per_second <= 0:
            raise ValueError(f"calls_per_second must be > 0, not {calls_per_second}")
        self.emulator = emulator
        self.rate = calls_per_second
        self.rng = random.Random(seed)
        settings = emulator.settings
        self.agents = [a.extension for a in settings.agents]
        self.transfer_queues = [
            q for q in settings.transfer_extensions.values() if emulator.core.queues.get(q) is not None
        ]

    async def run(self, duration: float | None) -> list[CallResult]:
        """Place calls until ``duration`` emulated seconds have passed (None: until cancelled).

        With a duration, waits for the calls to end and returns their results; without one, keeps
        no results (a demo can run for days) and cancels the calls in progress when cancelled.
        """
        core = self.emulator.core
        end = core.now() + duration if duration is not None else None
        next_at = core.now()
        pending: set[asyncio.Task[CallResult]] = set()
        results: list[CallResult] = []

        def done(task: asyncio.Task[CallResult]) -> None:
            pending.discard(task)
            if task.cancelled():
                return
            if task.exception() is not None:
                # One clear line; the traffic goes on (a broken call must not end the demo).
                _log.error("emulator.call_failed", error=repr(task.exception()))
            elif end is not None:
                results.append(task.result())

        try:
            while True:
                next_at += self.rng.expovariate(self.rate)
                if end is not None and next_at > end:
                    break
                await core.clock.sleep_until(next_at)
                task = self.emulator.start_call(random_script(self.rng, self.agents, self.transfer_queues))
                pending.add(task)
                task.add_done_callback(done)
            while pending:
                await asyncio.wait(set(pending))
            return sorted(results, key=lambda r: r.started_at)
        finally:
            for task in pending:
                task.cancel()
