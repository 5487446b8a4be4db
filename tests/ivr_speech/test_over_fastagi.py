"""A menu listening through hotline's real FastAGI server and AgiSession.

Asterisk's side plays both of its parts: the FastAGI connection, where it receives
``EXEC AudioSocket <uuid>,<host:port>``, and the AudioSocket stream that this EXEC
opens, whose end (the server's hangup message) lets it answer ``200 result=0``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from hotline.agi import AgiRouter, AgiServer
from hotline.config import SpeechConfig
from ivr.speech import MenuListener, Recognition

from .asterisk_double import AudioSocketCall, run_audiosocket
from .conftest import ScriptedEngine, vosk_json

pytestmark = pytest.mark.timeout(20)

ENV = (
    b"agi_network: yes\nagi_network_script: ivr/main\nagi_request: agi://127.0.0.1/ivr/main\n"
    b"agi_channel: PJSIP/provider-00000001\nagi_uniqueid: 1795514684.7\nagi_version: 22.10.1\n"
    b"agi_callerid: 081298765432\nagi_context: from-provider\nagi_extension: 1500569\n\n"
)
EXEC_AUDIOSOCKET = re.compile(rb"^EXEC AudioSocket ([0-9a-f-]{36}),(\S+)\n$")


async def test_listen_runs_audiosocket_through_agi_exec() -> None:
    engine = ScriptedEngine(endpoint_after=16000, endpoint_result=vosk_json(("pembayaran", 0.9)))
    listener = MenuListener(SpeechConfig(enabled=True, audiosocket_port=0), engine)
    await listener.start()
    heard: list[Recognition | None] = []

    async def menu(session: Any) -> None:
        heard.append(await listener.listen(session, {"informasi": "1", "pembayaran": "5"}))

    router = AgiRouter()
    router.add("ivr/main", menu)
    server = AgiServer(router, port=0)
    port = await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(ENV)
        command = await asyncio.wait_for(reader.readline(), 5)
        found = EXEC_AUDIOSOCKET.match(command)
        assert found, command
        stream, address = found.group(1).decode(), found.group(2).decode()
        assert address == listener.address
        assert await run_audiosocket(address, stream, AudioSocketCall()) == 0
        writer.write(b"200 result=0\n")
        await writer.drain()
        # The handler is done: answer what the server still sends (its status) until it closes.
        later = []
        while line := await asyncio.wait_for(reader.readline(), 5):
            later.append(line)
            writer.write(b"200 result=1\n")
            await writer.drain()
        assert all(line.startswith(b"SET VARIABLE") for line in later), later
        writer.close()
    finally:
        await server.stop(grace=1.0)
        await listener.stop()
    assert heard == [Recognition("5", "pembayaran", 0.9, "speech")]
