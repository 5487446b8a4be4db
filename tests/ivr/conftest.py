"""Fixtures of the IVR tests: the real FastAGI server with the IVR's handlers, fakes, a migrated store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.agi.server import AgiRouter, AgiServer
from hotline.callcontext import CallContext
from hotline.store import create_engine, migrate
from ivr.background import Background
from ivr.call import IvrDeps
from ivr.flows import handlers
from ivr.ports import CoreSystem, Records, Ticketing
from ivr.records import IvrStore

from .fakes import FakeAmi, FakeCoreSystem, FakeTicketing
from .peer import PeerResult, ScriptedCaller

PBX = "jakarta"


@dataclass
class Ivr:
    """hotline's FastAGI server with the IVR's handlers, on a free port."""

    server: AgiServer
    deps: IvrDeps
    context: CallContext
    ami: FakeAmi
    store: IvrStore | None
    core: Any
    ticketing: Any
    calls: list[PeerResult] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    async def call(self, script: str, caller: ScriptedCaller | None = None, **kwargs: Any) -> PeerResult:
        """One call through ``script``; waits for the IVR's background work to finish."""
        result = await (caller or ScriptedCaller(**kwargs)).call(self.port, f"{script}?pbx={PBX}")
        await self.deps.background.drain(5.0)
        self.calls.append(result)
        return result

    async def row(self, script: str, uniqueid: str = "1700000000.1") -> dict[str, Any] | None:
        assert self.store is not None
        return await self.store.call(PBX, uniqueid, script)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite store in the test's folder."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/hotline.db")
    await migrate(engine)
    yield engine
    await engine.dispose()


MakeIvr = Callable[..., Awaitable[Ivr]]


@pytest.fixture
async def make_ivr(engine: AsyncEngine) -> AsyncIterator[MakeIvr]:
    """make_ivr(core=, ticketing=, store=True): a running IVR with fakes unless given."""
    started: list[Ivr] = []

    async def make(
        *,
        core: CoreSystem | str | None = "fake",
        ticketing: Ticketing | str | None = "fake",
        store: bool = True,
        records: Records | None = None,
    ) -> Ivr:
        core_port = FakeCoreSystem() if core == "fake" else core
        ticketing_port = FakeTicketing() if ticketing == "fake" else ticketing
        ivr_store = IvrStore(engine) if store else None
        context = CallContext()
        ami = FakeAmi()
        deps = IvrDeps(
            call_context=context,
            ami={PBX: ami},
            records=records or ivr_store,
            core_system=core_port,  # type: ignore[arg-type]
            ticketing=ticketing_port,  # type: ignore[arg-type]
            background=Background(),
        )
        router = AgiRouter()
        for script, handler in handlers(deps).items():
            router.add(script, handler)
        server = AgiServer(router, port=0, command_timeout=5.0)
        await server.start()
        ivr = Ivr(server, deps, context, ami, ivr_store, core_port, ticketing_port)
        started.append(ivr)
        return ivr

    yield make
    for ivr in started:
        await ivr.server.stop(grace=1.0)
        await ivr.deps.background.drain(2.0)
