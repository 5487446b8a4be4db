"""Sessions are independent: a stuck one never holds the others back; stop() ends them all."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hotline.agi import AgiRouter, AgiSession
from hotline.names import AGI_IVR_MAIN

SESSIONS = 100
COMMANDS = 5


async def test_hundred_sessions_with_stuck_ones_do_not_block_each_other(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    never = asyncio.Event()
    finished: list[str] = []

    async def handler(session: AgiSession) -> None:
        if session.env.uniqueid == "stuck-handler":
            await never.wait()  # a handler waiting on something that never comes
        for i in range(COMMANDS):
            await session.set_variable("STEP", i)
        finished.append(session.env.uniqueid)

    router = AgiRouter()
    router.add(AGI_IVR_MAIN, handler)
    server = await start_server(router, command_timeout=60.0)

    # A peer that never answers the first command: its session waits on the socket.
    silent = await asterisk.connect(server.port, env_block(uniqueid="stuck-peer"))
    stuck = await asterisk.connect(server.port, env_block(uniqueid="stuck-handler"))
    assert await silent.read_command() == b"SET VARIABLE STEP 0\n"

    started = time.monotonic()
    peers = [
        await asterisk.connect(server.port, env_block(uniqueid=f"call-{n}")) for n in range(SESSIONS - 2)
    ]
    transcripts = await asyncio.wait_for(asyncio.gather(*(p.finish() for p in peers)), timeout=10)
    elapsed = time.monotonic() - started

    assert all(len(t) == COMMANDS + 1 for t in transcripts)
    assert sorted(finished) == sorted(f"call-{n}" for n in range(SESSIONS - 2))
    assert elapsed < 5.0
    assert server.stats.sessions_active == 2

    # stop(): the two stuck sessions are cancelled after the grace period and their sockets closed.
    await server.stop(grace=0.1)
    await silent.expect_closed(within=2.0)
    await stuck.expect_closed(within=2.0)
    assert server.stats.sessions_active == 0
    assert server.stats.sessions_total == SESSIONS
