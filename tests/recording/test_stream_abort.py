"""Listeners who leave: an ``<audio>`` element drops its request at every seek; that is not an error.

Over real sockets against a running hotline: the client aborts (TCP reset) in the middle of a
long answer, or before the answer starts. The server logs it at debug level, records the
listen in the audit log, and keeps serving; no "unhandled error" is ever logged.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from structlog.testing import capture_logs

from hotline.auth import audit_entries
from hotline.compose import Runtime
from recording.tables import recording
from recording.wav import pcm_header
from tests.recording.helpers import Client, seed, token

BIG = 8 * 1024 * 1024
"""Larger than loopback socket buffers, so the server is still writing when the client leaves."""


async def _big_recording(runtime: Runtime) -> int:
    archive = Path(runtime.config.recording.archive_dir)
    rec_id = await seed(runtime.engine, archive, 1)
    async with runtime.engine.connect() as connection:
        relpath = (
            await connection.execute(sa.select(recording.c.file_path).where(recording.c.id == rec_id))
        ).scalar_one()
    (archive / relpath).write_bytes(pcm_header(BIG) + bytes(BIG))
    return rec_id


async def _request_then_reset(runtime: Runtime, rec_id: int, bearer: str, *, read_first: int) -> None:
    """Ask for the whole file with ``bytes=0-``, read ``read_first`` bytes, then reset the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", runtime.http_port)
    writer.write(
        f"GET /api/recordings/{rec_id}/audio HTTP/1.1\r\nHost: hotline\r\n"
        f"Authorization: Bearer {bearer}\r\nRange: bytes=0-\r\n\r\n".encode()
    )
    await writer.drain()
    if read_first:
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 206")
        await reader.readexactly(read_first)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
    writer.transport.abort()


async def _until_logged(logs: list[MutableMapping[str, Any]], event: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(entry["event"] == event for entry in logs):
        assert time.monotonic() < deadline, f"{event!r} was never logged: {[e['event'] for e in logs]}"
        await asyncio.sleep(0.01)


def _errors(logs: list[MutableMapping[str, Any]]) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["log_level"] in ("error", "critical", "exception")]


async def test_a_listener_who_leaves_mid_answer_is_routine_not_an_error(runtime: Runtime) -> None:
    rec_id = await _big_recording(runtime)
    bearer = token(runtime, "qc.dewi", "qc")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    with capture_logs() as logs:
        await _request_then_reset(runtime, rec_id, bearer, read_first=64 * 1024)
        await _until_logged(logs, "listener went away")
    assert _errors(logs) == []
    gone = next(entry for entry in logs if entry["event"] == "listener went away")
    assert gone["range"] == "bytes=0-"
    listens = await audit_entries(runtime.engine, actor="qc.dewi", action="recording.listen")
    assert [e.target for e in listens] == [f"recording:{rec_id}"]
    status, headers, body = await Client(runtime, bearer).get(
        f"/api/recordings/{rec_id}/audio", Range="bytes=100-199"
    )
    assert status == 206 and headers["Content-Range"] == f"bytes 100-199/{BIG + 44}" and body == bytes(100)


async def test_a_listener_who_leaves_before_the_answer_is_routine_not_an_error(runtime: Runtime) -> None:
    rec_id = await _big_recording(runtime)
    bearer = token(runtime, "qc.dewi", "qc")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    with capture_logs() as logs:
        await _request_then_reset(runtime, rec_id, bearer, read_first=0)
        await _until_logged(logs, "listener went away")
    assert _errors(logs) == []
    status, _, body = await Client(runtime, bearer).get(f"/api/recordings/{rec_id}/audio")
    assert status == 200 and len(body) == BIG + 44


async def test_whole_and_ranged_answers_are_byte_exact_across_chunks(runtime: Runtime) -> None:
    """Answers span several 256 KiB chunks: every chunk boundary must land where it should."""
    rec_id = await _big_recording(runtime)
    archive = Path(runtime.config.recording.archive_dir)
    async with runtime.engine.connect() as connection:
        relpath = (
            await connection.execute(sa.select(recording.c.file_path).where(recording.c.id == rec_id))
        ).scalar_one()
    content = bytes(range(256)) * ((BIG + 44) // 256) + bytes(range((BIG + 44) % 256))
    (archive / relpath).write_bytes(content)
    client = Client(runtime, token(runtime, "qc.dewi", "qc"))
    status, _, body = await client.get(f"/api/recordings/{rec_id}/audio")
    assert status == 200 and body == content
    for start, end in ((262_143, 262_144 * 3 + 1), (5, 5), (BIG - 10, BIG + 43)):
        status, _, body = await client.get(f"/api/recordings/{rec_id}/audio", Range=f"bytes={start}-{end}")
        assert status == 206 and body == content[start : end + 1], (start, end)
    status, _, body = await client.get(f"/api/recordings/{rec_id}/audio", Range="bytes=1000000-")
    assert status == 206 and body == content[1_000_000:]
