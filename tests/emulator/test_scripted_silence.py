"""CallScript digits: '.' is a caller who keys nothing until the digit-reading command times out."""

from __future__ import annotations

import asyncio

import pytest

from hotline.emulator import AsteriskEmulator, CallScript, EmulatorSettings


def test_silence_is_a_valid_digit_and_others_are_refused() -> None:
    CallScript("0812", digits=".1.#")
    with pytest.raises(ValueError, match="silence"):
        CallScript("0812", digits="1a")


async def test_each_silence_times_out_one_get_data() -> None:
    """A tiny FastAGI server asks four times; the script '.12#.' answers timeout, '12', timeout, timeout."""
    answers: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()).strip():
            pass  # the agi_* environment
        for _ in range(4):
            writer.write(b"GET DATA beep 1000 5\n")
            answers.append((await reader.readline()).decode().strip())
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    emulator = AsteriskEmulator(EmulatorSettings(agi_port=port, speed=200.0, seed=1))
    await emulator.start()
    try:
        await emulator.place_call(CallScript("081234567890", digits=".12#.", hangup_during_ivr_at_s=20.0))
    finally:
        await emulator.stop()
        server.close()
        await server.wait_closed()
    assert answers == [
        "200 result= (timeout)",
        "200 result=12",
        "200 result= (timeout)",
        "200 result= (timeout)",
    ]
