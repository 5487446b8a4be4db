"""Downloads (original and transcoded in the background) and ZIP exports, each audited."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.auth import audit_entries
from hotline.compose import Runtime
from recording import RecordingFeature
from tests.recording.conftest import add_users, base_config
from tests.recording.helpers import Client, seed, token


async def _poll(client: Client, path: str, done: str = "done", timeout: float = 15.0) -> dict[str, object]:
    async with asyncio.timeout(timeout):
        while True:
            status, _, body = await client.get(path)
            assert status == 200, body
            state = json.loads(body)
            if state["state"] in (done, "failed"):
                return dict(state)
            await asyncio.sleep(0.05)


async def test_original_download_and_a_transcoded_mp3_with_progress(runtime: Runtime) -> None:
    archive = Path(runtime.config.recording.archive_dir)
    rec = await seed(runtime.engine, archive, 1)
    data = (archive / "jakarta/2026/11/24/call1/call1.wav").read_bytes()
    qc = Client(runtime, token(runtime, "qc.dewi", "qc"))
    status, headers, body = await qc.get(f"/api/recordings/{rec}/download")
    assert (status, body) == (200, data) and headers["Content-Disposition"].startswith("attachment")
    status, headers, body = await qc.get(f"/api/recordings/{rec}/download?format=mp3")
    assert status == 202 and headers["Location"] == f"/api/recordings/{rec}/transcode?format=mp3"
    final = await _poll(qc, headers["Location"])
    assert final["state"] == "done" and final["progress"] == 1.0, final
    status, headers, body = await qc.get(f"/api/recordings/{rec}/download?format=mp3")
    assert status == 200 and headers["Content-Type"] == "audio/mpeg" and len(body) > 100
    assert body[:3] == b"ID3" or body[0] == 0xFF
    assert (await qc.get(f"/api/recordings/{rec}/download?format=flac"))[0] == 400
    downloads = await audit_entries(runtime.engine, actor="qc.dewi", action="recording.download")
    assert [e.detail for e in downloads] == ["", "format=mp3"]


@pytest.fixture
async def without_ffmpeg(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = Runtime(base_config(tmp_path), features=[RecordingFeature(ffmpeg=None)])
    await rt.start()
    await add_users(rt.engine)
    try:
        yield rt
    finally:
        await rt.stop()


async def test_missing_ffmpeg_is_a_clear_503_and_wav_still_works(without_ffmpeg: Runtime) -> None:
    runtime = without_ffmpeg
    rec = await seed(runtime.engine, Path(runtime.config.recording.archive_dir), 1)
    qc = Client(runtime, token(runtime, "qc.dewi", "qc"))
    for status, _, body in (
        await qc.get(f"/api/recordings/{rec}/download?format=opus"),
        await qc.post(f"/api/recordings/{rec}/transcode?format=mp3", {}),
    ):
        assert status == 503 and "ffmpeg is not installed" in json.loads(body)["message"]
    assert (await qc.get(f"/api/recordings/{rec}/download"))[0] == 200


async def test_zip_export_of_a_search_with_progress_manifest_and_audit(runtime: Runtime) -> None:
    archive = Path(runtime.config.recording.archive_dir)
    ids = [await seed(runtime.engine, archive, n, agent="1001") for n in range(3)]
    await seed(runtime.engine, archive, 7, agent="1002")
    await seed(runtime.engine, archive, 8, agent="1001", write_file=False)
    leader = Client(runtime, token(runtime, "tl.alpha", "team_leader", "alpha"))
    status, headers, body = await leader.post("/api/recordings/exports", {"from": "2026-11-24"})
    assert status == 202, body
    location = headers["Location"]
    final = await _poll(leader, location)
    # The other team's recording is not in a team leader's export; a lost file is listed, not fatal.
    assert (final["state"], final["total"], final["done"], final["skipped"]) == ("done", 4, 4, 1)
    qc = Client(runtime, token(runtime, "qc.dewi", "qc"))
    assert (await qc.get(location))[0] == 404  # an export is visible to who started it only
    status, headers, body = await leader.get(location + "/file")
    assert status == 200 and headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(body)) as archive_zip:
        manifest = list(csv.DictReader(io.StringIO(archive_zip.read("manifest.csv").decode())))
        files = {row["id"]: row for row in manifest}
        for rec in ids:
            row = files[str(rec)]
            assert hashlib.sha256(archive_zip.read(row["file"])).hexdigest() == row["sha256"]
            assert row["caller"].startswith("********")
    assert [r["file"].startswith("MISSING") for r in manifest].count(True) == 1
    actions = [e.action for e in await audit_entries(runtime.engine, actor="tl.alpha")]
    assert actions == ["recording.export", "recording.export.download"]
    status, _, body = await qc.post("/api/recordings/exports", {"agent": "1001", "sort": "nonsense"})
    assert status == 400
