"""Recording I/O: streaming throughput of ``/api/recordings/{id}/audio`` and transcoding speed.

Streaming. A server process runs hotline (the recording feature on SQLite, users, audit) and,
on another port of the same process, the peer: a plain aiohttp ``web.FileResponse`` of the
same files, no auth, no audit (what a bare static file server does). Three 10-minute call
recordings (8 kHz mono 16-bit WAV, speech-like: syllables and pauses, made with the ``wave``
module) are moved into the archive by hotline's own ``move_to_archive`` and indexed. The load
process logs in as a QC user (``POST /api/login``) and, for 1, 10 and 50 concurrent listeners,
each on keep-alive connections, asks for one random recording after another:

- ``full``: the whole file (a download);
- ``seek``: ``bytes=N-`` read to the end (what ``<audio>`` asks after a seek);
- ``64k``: ``bytes=N-M`` of 64 KiB (players that fetch in pieces).

Every answer's status and length are checked. Bytes count as they arrive, so MB/s (10^6 B/s)
is what crossed the socket within the window; req/s counts completed requests.

Transcoding. A 10-minute recording to MP3 and Opus through :class:`recording.transcode.Transcoder`
(the background job the API starts, with its ``-progress`` pipe), against the same ffmpeg with
the same encoder and bitrate called directly; speed = audio seconds / wall seconds (x real time).

    .venv/bin/python bench/bench_recording_io.py [--seconds 1.5] [--minutes 10] [--repeat 3]

Stops by itself: ``--budget`` (default 110 s) bounds the whole run.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RATE = 8000
FILES = 3
LISTENERS = (1, 10, 50)
MODES = ("full", "seek", "64k")
RANGE_BYTES = 64 * 1024
HEADER = 44
QC_USER, PASSWORD = "qc.bench", "bench password, not for production"
READY = "BENCH-READY "
FIXED_COLUMNS = {"pbx": "jkt", "site": "jakarta", "channel": "PJSIP/provider-1", "direction": "inbound"}


# --- audio ----------------------------------------------------------------------------------------


def _phrase(rng: random.Random, seconds: float) -> array.array[int]:
    """Speech-like PCM: voiced syllables (a few harmonics of a wandering pitch) and short pauses.

    Tone-only test files compress unrealistically well; this keeps the encoders honest.
    """
    out: array.array[int] = array.array("h")
    total = int(seconds * RATE)
    while len(out) < total:
        if rng.random() < 0.25:  # a pause: line noise only
            out.extend(int(rng.gauss(0, 40)) for _ in range(int(rng.uniform(0.15, 0.6) * RATE)))
            continue
        period = int(RATE / rng.uniform(95, 230))
        wave_shape = [
            sum(math.sin(2 * math.pi * h * i / period) / h for h in range(1, 7)) for i in range(period)
        ]
        # Peak: 9000 x (1 + 1/2 + ... + 1/6 = 2.45) ~ 22,000, well inside 16 bits: no clipping needed.
        length, loud = int(rng.uniform(0.12, 0.3) * RATE), rng.uniform(2500, 9000)
        envelope = [loud * math.sin(math.pi * i / length) for i in range(length)]
        out.extend(int(envelope[i] * wave_shape[i % period] + rng.gauss(0, 150)) for i in range(length))
    return out[:total]


def write_call(path: Path, minutes: float, seed: int) -> None:
    """A mono 16-bit 8 kHz WAV of ``minutes``: a 30-second phrase over and over (quick to make)."""
    phrase = _phrase(random.Random(seed), 30.0).tobytes()
    repeats = math.ceil(minutes * 60 / 30)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for _ in range(repeats):
            out.writeframes(phrase)


# --- the server process ---------------------------------------------------------------------------


async def _index(engine: Any, spool: Path, archive: Path) -> list[dict[str, Any]]:
    """Archive every spool file the way the collector does, and add its row."""
    import zoneinfo

    import sqlalchemy as sa

    from recording.archive import archive_relpath, move_to_archive
    from recording.tables import ARCHIVED, recording

    tz, rows = zoneinfo.ZoneInfo("Asia/Jakarta"), []
    sources = await asyncio.to_thread(lambda: sorted(spool.glob("*.wav")))
    for n, source in enumerate(sources):
        started = 1_795_500_000.0 + n * 900
        call_id = f"{started:.0f}.{n}"
        relpath = archive_relpath("jakarta", started, tz, call_id, source)
        done = await asyncio.to_thread(move_to_archive, source, archive, relpath)
        values = {
            **FIXED_COLUMNS,
            **{"call_id": call_id, "uniqueid": call_id, "started_at": started, "updated_at": time.time()},
            **{"duration_s": done.duration_s, "status": ARCHIVED, "file_path": done.relpath},
            **{"format": done.format, "size_bytes": done.size_bytes, "sha256": done.sha256},
        }
        async with engine.begin() as connection:
            result = await connection.execute(sa.insert(recording).values(values).returning(recording.c.id))
            rec_id = int(result.scalar_one())
        path, seconds = str(archive / done.relpath), done.duration_s
        rows.append(
            {"id": rec_id, "size": done.size_bytes, "path": path, "sha256": done.sha256, "seconds": seconds}
        )
    return rows


async def serve(work: Path) -> None:
    """hotline and the peer file server on free ports; runs until stdin closes."""
    from aiohttp import web

    from hotline import logs
    from hotline.auth.model import NewUser
    from hotline.auth.passwords import hash_password
    from hotline.auth.users import create_user
    from hotline.compose import Runtime
    from hotline.config import AgiConfig, Config, HttpConfig, RecordingConfig, StoreConfig
    from recording import RecordingFeature

    logs.configure(level="warning", stream=sys.stderr)
    config = Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(host="127.0.0.1", port=0),
        store=StoreConfig(url=f"sqlite+aiosqlite:///{work}/hotline.db", spool_dir=str(work / "evspool")),
        recording=RecordingConfig(
            spool_dirs=str(work / "incoming"),
            archive_dir=str(work / "archive"),
            cache_dir=str(work / "cache"),
        ),
    )
    runtime = Runtime(config, features=[RecordingFeature()])
    await runtime.start()
    assert runtime.engine is not None
    await create_user(runtime.engine, NewUser(QC_USER, "QC Bench", "qc"), hash_password(PASSWORD))
    rows = await _index(runtime.engine, work / "spool", work / "archive")

    files = {str(row["id"]): Path(row["path"]) for row in rows}

    async def peer_file(request: web.Request) -> web.FileResponse:
        return web.FileResponse(files[request.match_info["id"]])

    peer = web.Application()
    peer.router.add_get("/peer/{id}", peer_file)
    runner = web.AppRunner(peer, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    peer_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ready = {"hotline": runtime.http_port, "peer": peer_port, "recordings": rows}
    print(READY + json.dumps(ready), flush=True)
    try:
        await asyncio.to_thread(sys.stdin.read)  # the load process closes stdin when it is done
    finally:
        await runner.cleanup()
        await runtime.stop()


# --- the load process -----------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    received: int = 0
    wrong: int = 0
    latencies: list[float] = field(default_factory=list)


def _ask(mode: str, size: int, rng: random.Random) -> tuple[dict[str, str], int, int]:
    """(headers, expected status, expected body length) of one request."""
    if mode == "full":
        return {}, 200, size
    start = rng.randrange(HEADER, size - RANGE_BYTES) & ~1  # a sample boundary, as a player seeks
    if mode == "seek":
        return {"Range": f"bytes={start}-"}, 206, size - start
    return {"Range": f"bytes={start}-{start + RANGE_BYTES - 1}"}, 206, RANGE_BYTES


async def _listener(
    session: Any, urls: list[str], sizes: list[int], mode: str, seed: int, tally: Tally
) -> None:
    rng = random.Random(seed)
    while True:
        n = rng.randrange(len(urls))
        headers, status, length = _ask(mode, sizes[n], rng)
        started = time.perf_counter()
        got = 0
        async with session.get(urls[n], headers=headers) as response:
            async for chunk in response.content.iter_any():
                got += len(chunk)
                tally.received += len(chunk)
        if response.status != status or got != length:
            tally.wrong += 1
            continue
        tally.requests += 1
        tally.latencies.append(time.perf_counter() - started)


async def measure(
    urls: list[str], sizes: list[int], auth: dict[str, str], mode: str, listeners: int, seconds: float
) -> tuple[float, float, float, int]:
    """(MB/s, req/s, p95 ms, wrong answers) of ``listeners`` clients for ``seconds``."""
    import aiohttp

    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, headers=auth, auto_decompress=False) as session:
        tasks = [
            asyncio.create_task(_listener(session, urls, sizes, mode, seed, tally))
            for seed in range(listeners)
        ]
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - started
        for task in tasks:
            task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [
        o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, asyncio.CancelledError)
    ]
    if failures:
        raise RuntimeError(f"{mode} x{listeners}: a listener failed: {failures[0]!r}")
    lat = sorted(tally.latencies) or [math.nan]
    p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000
    await asyncio.sleep(0.3)  # let the server finish the responses the cancelled listeners left
    return tally.received / elapsed / 1e6, tally.requests / elapsed, p95, tally.wrong


async def start_server(work: Path) -> tuple[asyncio.subprocess.Process, dict[str, Any]]:
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, __file__, "--serve", str(work)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdout is not None
    async with asyncio.timeout(60):
        while line := (await server.stdout.readline()).decode():
            if line.startswith(READY):
                return server, json.loads(line[len(READY) :])
    raise RuntimeError(f"the server process ended before it was ready (exit {await server.wait()})")


async def login(port: int) -> dict[str, str]:
    import aiohttp

    body = {"username": QC_USER, "password": PASSWORD}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/api/login", json=body) as response,
    ):
        response.raise_for_status()
        return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def streaming(work: Path, seconds: float) -> dict[str, Any]:
    server, ready = await start_server(work)
    try:
        recordings = ready["recordings"]
        sizes = [int(r["size"]) for r in recordings]
        targets = {
            "hotline": [
                f"http://127.0.0.1:{ready['hotline']}/api/recordings/{r['id']}/audio" for r in recordings
            ],
            "peer": [f"http://127.0.0.1:{ready['peer']}/peer/{r['id']}" for r in recordings],
        }
        auth = await login(ready["hotline"])
        mb = sizes[0] / 1e6
        print(
            f"\nstreaming: {len(sizes)} recordings of {mb:.1f} MB, {seconds:.1f} s per case; "
            "peer = aiohttp web.FileResponse (no auth, no audit)"
        )
        print(
            f"{'case':<10}{'listeners':>9} | {'hotline MB/s':>12}{'req/s':>9}{'p95 ms':>8} | "
            f"{'peer MB/s':>10}{'req/s':>9}{'p95 ms':>8} | {'ratio':>6}"
        )
        for name, urls in targets.items():  # warm the page cache and both servers
            await measure(urls, sizes, auth if name == "hotline" else {}, "full", 1, 0.2)
        for mode in MODES:
            for listeners in LISTENERS:
                ours = await measure(targets["hotline"], sizes, auth, mode, listeners, seconds)
                theirs = await measure(targets["peer"], sizes, {}, mode, listeners, seconds)
                ratio = ours[1] / theirs[1] if theirs[1] else math.nan
                wrong = f"  WRONG ANSWERS {ours[3]}/{theirs[3]}" if ours[3] or theirs[3] else ""
                print(
                    f"{mode:<10}{listeners:>9} | {ours[0]:>12.1f}{ours[1]:>9.0f}{ours[2]:>8.1f} | "
                    f"{theirs[0]:>10.1f}{theirs[1]:>9.0f}{theirs[2]:>8.1f} | {ratio:>6.2f}{wrong}"
                )
        print("ratio = hotline req/s / peer req/s (1.00 = as fast as a bare file server)")
        return dict(recordings[0])
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            async with asyncio.timeout(15):
                await server.wait()
        except TimeoutError:
            server.kill()
            await server.wait()


# --- transcoding ----------------------------------------------------------------------------------


async def hotline_transcode(source: Path, sha256: str, fmt: str, duration: float, cache: Path) -> float:
    from recording.transcode import Transcoder, find_ffmpeg

    transcoder = Transcoder(cache, find_ffmpeg())
    started = time.perf_counter()
    transcoder.start(sha256, fmt, source, duration)
    await transcoder.wait(sha256, fmt)
    wall = time.perf_counter() - started
    status = transcoder.status(sha256, fmt)
    await transcoder.close()
    if status["state"] != "done":
        raise RuntimeError(f"hotline's {fmt} transcode ended {status}")
    return wall


async def direct_ffmpeg(source: Path, fmt: str, target: Path) -> float:
    from recording.transcode import CODECS, find_ffmpeg

    ffmpeg = find_ffmpeg()
    assert ffmpeg is not None
    encoder, bitrate, muxer, _ = CODECS[fmt]
    started = time.perf_counter()
    options = f"-vn -c:a {encoder} -b:a {bitrate} -f {muxer}".split()
    process = await asyncio.create_subprocess_exec(
        *(ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), *options),
        str(target),
    )
    if await process.wait() != 0:
        raise RuntimeError(f"ffmpeg failed on {fmt}")
    return time.perf_counter() - started


async def transcoding(recording: dict[str, Any], work: Path, repeat: int) -> None:
    from recording.transcode import CODECS, find_ffmpeg

    if find_ffmpeg() is None:
        print("\ntranscoding: ffmpeg not found, skipped")
        return
    source, duration = Path(recording["path"]), float(recording["seconds"])
    print(
        f"\ntranscoding {duration / 60:.0f} min of 8 kHz mono, median of {repeat} "
        "(x real time = audio s / wall s); peer = the same ffmpeg command, run directly"
    )
    columns = f"{'hotline s':>9}{'x RT':>8} | {'ffmpeg s':>9}{'x RT':>8}"
    print(f"{'format':<8}{'codec':>18} | {columns} | {'ratio':>6}")
    for fmt, (encoder, bitrate, *_) in CODECS.items():
        ours, theirs = [], []
        for n in range(repeat):  # alternated, so a noisy neighbour hurts both alike
            cache = work / f"cache-{fmt}-{n}"
            ours.append(await hotline_transcode(source, recording["sha256"], fmt, duration, cache))
            theirs.append(await direct_ffmpeg(source, fmt, work / f"direct-{n}.{fmt}"))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(
            f"{fmt:<8}{encoder + ' ' + bitrate:>18} | {a:>9.2f}{duration / a:>8.0f} | "
            f"{b:>9.2f}{duration / b:>8.0f} | {b / a:>6.2f}"
        )
    print("ratio = ffmpeg wall / hotline wall (1.00 = no overhead from the background job)")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline-bench-rec-") as folder:
        work = Path(folder)
        (work / "spool").mkdir()
        started = time.perf_counter()
        for n in range(FILES):
            await asyncio.to_thread(write_call, work / "spool" / f"call-{n}.wav", args.minutes, seed=n)
        made = time.perf_counter() - started
        print(
            f"{FILES} WAV files of {args.minutes:g} min made in {made:.1f} s; {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f} (other work on the host skews both sides alike)"
        )
        async with asyncio.timeout(args.budget):
            recording = await streaming(work, args.seconds)
            await transcoding(recording, work, args.repeat)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per streaming case")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of each recording")
    parser.add_argument("--repeat", type=int, default=3, help="transcodes per format and side")
    parser.add_argument("--budget", type=float, default=110.0, help="the whole run stops after this")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve is not None:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(options.serve))
    else:
        asyncio.run(main(options))
