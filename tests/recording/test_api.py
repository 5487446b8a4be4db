"""The recordings API over real HTTP: search, access rules, listening with Range, refusals, audit."""

from __future__ import annotations

import json
from pathlib import Path

from hotline.auth import audit_entries
from hotline.auth.users import set_active
from hotline.compose import Runtime
from tests.recording.helpers import Client, seed, token


def _archive(runtime: Runtime) -> Path:
    return Path(runtime.config.recording.archive_dir)


async def test_search_filters_sorting_paging_and_masked_callers(runtime: Runtime) -> None:
    archive = _archive(runtime)
    for n in range(6):
        await seed(
            runtime.engine, archive, n, agent="1001" if n % 2 else "1002", qc_score=91.0 if n == 3 else None
        )
    qc = Client(runtime, token(runtime, "qc.dewi", "qc"))
    status, _, body = await qc.get("/api/recordings?agent=1001&sort=started_at")
    page = json.loads(body)
    assert status == 200 and [i["call_id"] for i in page["items"]] == ["call1", "call3", "call5"]
    assert page["items"][0]["caller_number"] == "********7801" and "file_path" not in page["items"][0]
    for query, expected in (
        ("team=beta", {"call0", "call2", "call4"}),
        ("scored=true", {"call3"}),
        ("min_duration=3&max_duration=3", {"call2", "call5"}),
        ("caller=081234567804", {"call4"}),
        ("from=1795500060&to=1795500180", {"call1", "call2"}),
        ("site=yogyakarta", set()),
    ):
        status, _, body = await qc.get(f"/api/recordings?{query}")
        assert status == 200 and {i["call_id"] for i in json.loads(body)["items"]} == expected, query
    _, _, body = await qc.get("/api/recordings?limit=4")
    first = json.loads(body)
    _, _, body = await qc.get("/api/recordings?limit=4&offset=4")
    second = json.loads(body)
    assert first["has_more"] and not second["has_more"]
    assert [i["call_id"] for i in first["items"] + second["items"]] == [f"call{n}" for n in range(5, -1, -1)]
    status, _, body = await qc.get("/api/recordings?from=yesterday")
    assert status == 400 and "from" in json.loads(body)["message"]


async def test_team_leaders_see_and_hear_only_their_own_team(runtime: Runtime) -> None:
    archive = _archive(runtime)
    own = await seed(runtime.engine, archive, 1, agent="1001")
    other = await seed(runtime.engine, archive, 2, agent="1002")
    leader = Client(runtime, token(runtime, "tl.alpha", "team_leader", "alpha"))
    _, _, body = await leader.get("/api/recordings")
    assert [i["id"] for i in json.loads(body)["items"]] == [own]
    assert (await leader.get("/api/recordings?team=beta"))[0] == 403
    assert (await leader.get(f"/api/recordings/{own}/audio"))[0] == 200
    for path in (
        f"/api/recordings/{other}",
        f"/api/recordings/{other}/audio",
        f"/api/recordings/{other}/download",
    ):
        status, _, body = await leader.get(path)
        assert status == 403 and "another team" in json.loads(body)["message"], path
    refused = [e for e in await audit_entries(runtime.engine, actor="tl.alpha") if e.outcome == "refused"]
    assert {e.target for e in refused} == {f"recording:{other}"} and len(refused) == 3


async def test_agents_anonymous_and_disabled_users_are_refused(runtime: Runtime) -> None:
    rec = await seed(runtime.engine, _archive(runtime), 1, agent="1001")
    agent = Client(runtime, token(runtime, "1001", "agent", "alpha"))
    for path in ("/api/recordings", f"/api/recordings/{rec}", f"/api/recordings/{rec}/audio"):
        assert (await agent.get(path))[0] == 403, path
    entries = await audit_entries(runtime.engine, actor="1001")
    assert len(entries) == 3 and all(e.outcome == "refused" for e in entries)
    assert (await Client(runtime, None).get(f"/api/recordings/{rec}/audio"))[0] == 401
    assert (await Client(runtime, "v1.forged.token").get("/api/recordings"))[0] == 401
    qa = Client(runtime, token(runtime, "qa.eko", "qa"))
    assert (await qa.get(f"/api/recordings/{rec}"))[0] == 200
    await set_active(runtime.engine, "qa.eko", False)
    assert (await qa.get(f"/api/recordings/{rec}/audio"))[0] == 401


async def test_listening_is_seekable_and_every_listen_is_audited(runtime: Runtime) -> None:
    archive = _archive(runtime)
    rec = await seed(runtime.engine, archive, 1)
    data = (archive / "jakarta/2026/11/24/call1/call1.wav").read_bytes()
    qc = Client(runtime, token(runtime, "qc.dewi", "qc"))
    status, headers, body = await qc.get(f"/api/recordings/{rec}/audio")
    assert (status, body, headers["Accept-Ranges"], headers["Content-Type"]) == (
        200,
        data,
        "bytes",
        "audio/wav",
    )
    status, headers, body = await qc.get(f"/api/recordings/{rec}/audio", Range="bytes=100-199")
    assert (status, body, headers["Content-Range"]) == (206, data[100:200], f"bytes 100-199/{len(data)}")
    status, _, body = await qc.get(f"/api/recordings/{rec}/audio", Range="bytes=-10")
    assert (status, body) == (206, data[-10:])
    status, headers, body = await qc.get(f"/api/recordings/{rec}/audio", Range=f"bytes={len(data)}-")
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}" and b"has" in body
    status, _, body = await qc.get(f"/api/recordings/{rec}/audio", Range="bytes=oops")
    assert status == 400 and "Range" in json.loads(body)["message"]
    # If-Range with another version's tag: the whole file, not a piece of a different one.
    status, _, body = await qc.get(
        f"/api/recordings/{rec}/audio", Range="bytes=0-9", **{"If-Range": '"stale"'}
    )
    assert (status, body) == (200, data)
    listens = await audit_entries(runtime.engine, actor="qc.dewi", action="recording.listen")
    assert len(listens) == 6 and {e.target for e in listens} == {f"recording:{rec}"}
    assert all(e.source == "127.0.0.1" for e in listens)


async def test_ids_and_paths_from_requests_never_reach_the_file_system(runtime: Runtime) -> None:
    archive = _archive(runtime)
    secret = archive.parent / "secret.txt"
    secret.write_text("not a recording")
    tampered = await seed(runtime.engine, archive, 1, file_path="../secret.txt")
    lost = await seed(runtime.engine, archive, 2, write_file=False)
    purged = await seed(runtime.engine, archive, 3, status="purged", file_path=None)
    running = await seed(runtime.engine, archive, 4, status="recording", file_path=None)
    missing = await seed(
        runtime.engine, archive, 5, status="missing", file_path=None, problem="no file after 120 s"
    )
    qc = Client(runtime, token(runtime, "qc.dewi", "qc"))
    for path in (
        "/api/recordings/999999/audio",
        "/api/recordings/abc/audio",
        "/api/recordings/..%2F..%2Fsecret.txt/audio",
        "/api/recordings/1%2F..%2F..%2Fsecret.txt",
        f"/api/recordings/{tampered}/audio",
        f"/api/recordings/{tampered}/download",
    ):
        status, _, body = await qc.get(path)
        assert status == 404 and b"not a recording" not in body, path
    expectations = (
        (lost, 404, "missing from the archive"),
        (purged, 410, "retention"),
        (running, 409, "not archived"),
        (missing, 404, "no file after"),
    )
    for rec, status_wanted, words in expectations:
        status, _, body = await qc.get(f"/api/recordings/{rec}/audio")
        assert status == status_wanted and words in json.loads(body)["message"], rec


async def test_a_listen_url_streams_one_recording_for_a_short_while_and_opens_nothing_else(
    runtime: Runtime,
) -> None:
    archive = _archive(runtime)
    rec = await seed(runtime.engine, archive, 1, agent="1001")
    other = await seed(runtime.engine, archive, 2, agent="1001")
    data = (archive / "jakarta/2026/11/24/call1/call1.wav").read_bytes()
    qc = Client(runtime, token(runtime, "qc.dewi", "qc"))
    status, _, body = await qc.post(f"/api/recordings/{rec}/listen-url", {})
    assert status == 200
    grant = json.loads(body)
    url, scoped = grant["url"], grant["url"].partition("access_token=")[2]
    assert url.startswith(f"/api/recordings/{rec}/audio?access_token=") and scoped
    anonymous = Client(runtime, None)
    # The browser's own Range requests, with no header: served, and each one audited as a listen.
    status, _, piece = await anonymous.get(url, Range="bytes=100-199")
    assert (status, piece) == (206, data[100:200])
    assert (await anonymous.get(url))[2] == data
    listens = await audit_entries(runtime.engine, actor="qc.dewi", action="recording.listen")
    assert len(listens) == 2 and {e.target for e in listens} == {f"recording:{rec}"}
    # The token opens nothing else: another recording, a download, the search, a header, the websockets.
    assert (await anonymous.get(f"/api/recordings/{other}/audio?access_token={scoped}"))[0] == 401
    assert (await anonymous.get(f"/api/recordings/{rec}/download?access_token={scoped}"))[0] == 401
    assert (await Client(runtime, scoped).get("/api/recordings"))[0] == 401
    assert (await Client(runtime, scoped).get(f"/api/recordings/{rec}/audio"))[0] == 401
    # A full login token is never taken from a URL.
    full = token(runtime, "qc.dewi", "qc")
    assert (await anonymous.get(f"/api/recordings/{rec}/audio?access_token={full}"))[0] == 401


async def test_listen_urls_follow_the_same_access_rules(runtime: Runtime) -> None:
    archive = _archive(runtime)
    own = await seed(runtime.engine, archive, 1, agent="1001")
    other = await seed(runtime.engine, archive, 2, agent="1002")
    leader = Client(runtime, token(runtime, "tl.alpha", "team_leader", "alpha"))
    assert (await leader.post(f"/api/recordings/{own}/listen-url", {}))[0] == 200
    assert (await leader.post(f"/api/recordings/{other}/listen-url", {}))[0] == 403
    agent = Client(runtime, token(runtime, "1001", "agent", "alpha"))
    assert (await agent.post(f"/api/recordings/{own}/listen-url", {}))[0] == 403
    assert (await Client(runtime, None).post(f"/api/recordings/{own}/listen-url", {}))[0] == 401
    # A user disabled after the URL was issued is cut off at once.
    qa = Client(runtime, token(runtime, "qa.eko", "qa"))
    _, _, body = await qa.post(f"/api/recordings/{own}/listen-url", {})
    url = json.loads(body)["url"]
    assert (await Client(runtime, None).get(url))[0] == 200
    await set_active(runtime.engine, "qa.eko", False)
    assert (await Client(runtime, None).get(url))[0] == 401
