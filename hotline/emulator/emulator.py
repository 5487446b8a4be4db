"""The public face of the emulator: start/stop, place scripted calls, run demo traffic."""

from __future__ import annotations

import asyncio
import random

from hotline.emulator.ami_server import AmiServer
from hotline.emulator.calls import CallRunner
from hotline.emulator.pbx import PbxCore
from hotline.emulator.script import CallResult, CallScript
from hotline.emulator.settings import EmulatorSettings
from hotline.logs import get_logger

_log = get_logger(__name__)


class AsteriskEmulator:
    """An emulated Asterisk 22 PBX (AMI server + FastAGI client + app_queue), for tests and ``hotline demo``.

    Never used when a real PBX is configured: nothing in hotline's runtime path creates one.
    """

    def __init__(self, config: EmulatorSettings | None = None) -> None:
        self.settings = config or EmulatorSettings()
        self.core = PbxCore(self.settings)
        self._ami = AmiServer(self.core)
        self._rng = random.Random(self.settings.seed)
        self._calls: set[asyncio.Task[CallResult]] = set()
        self.ami_port: int | None = None

    async def start(self) -> int:
        """Open the AMI port; returns it (useful with ``ami_port=0``)."""
        self.ami_port = await self._ami.start(self.settings.ami_host, self.settings.ami_port)
        _log.info(
            "emulator.started",
            ami_host=self.settings.ami_host,
            ami_port=self.ami_port,
            speed=self.settings.speed,
        )
        return self.ami_port

    async def stop(self) -> None:
        """Cancel the calls in progress and close every AMI session."""
        for task in list(self._calls):
            task.cancel()
        await asyncio.gather(*self._calls, return_exceptions=True)
        await self._ami.stop()

    async def place_call(self, script: CallScript) -> CallResult:
        """Play one call to its end and return what happened."""
        task = asyncio.ensure_future(self._run(script))
        self._calls.add(task)
        try:
            return await task
        finally:
            self._calls.discard(task)

    def start_call(self, script: CallScript) -> asyncio.Task[CallResult]:
        """Like :meth:`place_call` but returns at once (several calls at the same time)."""
        task = asyncio.ensure_future(self._run(script))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        return task

    async def _run(self, script: CallScript) -> CallResult:
        runner = CallRunner(self.core, script, random.Random(self._rng.getrandbits(64)))
        return await runner.run()

    async def run_traffic(
        self, calls_per_second: float, duration: float | None = None, seed: int | None = None
    ) -> list[CallResult]:
        """Place random calls (Poisson arrivals, in emulated seconds) until ``duration`` or cancellation."""
        from hotline.emulator.traffic import TrafficGenerator

        generator = TrafficGenerator(self, calls_per_second, seed if seed is not None else self.settings.seed)
        return await generator.run(duration)

    @property
    def queue_log_lines(self) -> list[str]:
        return list(self.core.queue_log.lines)

    @property
    def cdr_rows(self) -> list[dict[str, str]]:
        return list(self.core.cdr_rows)
