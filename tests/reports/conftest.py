"""Fixtures of the report tests: generated days of traffic, and headless Chromium over DevTools.

The databases on both backends (``db_url``, ``engine``) come from tests/pg_support.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import shutil
import tempfile
import time as clock
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt

JAKARTA = ZoneInfo("Asia/Jakarta")
QUEUES = ("cc-informasi", "cc-pengaduan", "sapa-helpdesk")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def generated_days(first: date, days: int, seed: int = 7, per_day: int = 120) -> list[QueueAttempt]:
    """Calls spread over 07:00-22:00 of each day on two PBXs: answered (some with hold, some
    transferred to a second queue), abandoned (some short) and timed out."""
    rnd = random.Random(seed)
    rows: list[QueueAttempt] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        opening = datetime.combine(day, time(7), JAKARTA).timestamp()
        for number in range(per_day):
            pbx = "jkt" if number % 3 else "yog"
            entered = opening + rnd.uniform(0, 15 * 3600)
            wait = rnd.choice([2.0, 8.0, 15.0, 35.0, 70.0])
            roll = rnd.random()
            base = {
                "pbx": pbx,
                "call_id": f"{day:%m%d}.{number}",
                "attempt": 1,
                "queue": rnd.choice(QUEUES),
                "linkedid": None,
                "caller_number": None,
                "entered_at": entered,
                "position": 1,
                "wait_s": wait,
                "agent": None,
                "agent_interface": None,
                "connected_at": None,
                "handle_s": None,
                "hold_s": None,
                "completed_by": None,
                "transfer_target": None,
                "ring_no_answer": rnd.choice([0, 0, 0, 1]),
                "source": facts.SOURCE_AMI,
            }
            if roll < 0.12:
                rows.append(QueueAttempt(**{**base, "outcome": facts.ABANDONED, "ended_at": entered + wait}))
                continue
            if roll < 0.15:
                rows.append(QueueAttempt(**{**base, "outcome": facts.TIMEOUT, "ended_at": entered + wait}))
                continue
            handle = rnd.uniform(120, 700)
            answered = {
                **base,
                "outcome": facts.ANSWERED,
                "agent": f"{pbx}-agent-{rnd.randint(1, 6)}",
                "connected_at": entered + wait,
                "handle_s": handle,
                "hold_s": rnd.choice([0.0, 0.0, 30.0]),
                "ended_at": entered + wait + handle,
                "completed_by": facts.BY_AGENT,
            }
            if roll < 0.22:  # blind transfer into a second queue: one call, two ACD calls
                answered["completed_by"] = facts.BY_TRANSFER
                rows.append(QueueAttempt(**answered))
                second = entered + wait + handle
                answered = {**answered, "attempt": 2, "queue": "cc-pengaduan", "entered_at": second}
                answered.update(connected_at=second + 5, wait_s=5.0, ended_at=second + 5 + handle)
                answered["completed_by"] = facts.BY_CALLER
            rows.append(QueueAttempt(**answered))
    return rows


@pytest.fixture
def generate() -> Callable[..., list[QueueAttempt]]:
    """:func:`generated_days`: ``generate(first_day, days, seed=7, per_day=120)``."""
    return generated_days


Screenshot = Callable[[Path, str], Awaitable[dict[str, Any]]]

# What the page reports about itself once loaded (all of it JSON, so one evaluate call).
_PAGE_FACTS = """new Promise(done => {
  const report = () => done(JSON.stringify({
    title: document.title, text: document.body.innerText,
    charts: document.querySelectorAll("svg.chart").length, tables: document.querySelectorAll("table").length,
    scripts: document.scripts.length, width: document.documentElement.scrollWidth,
    viewport: window.innerWidth, height: document.documentElement.scrollHeight}));
  document.readyState === "complete" ? report() : addEventListener("load", report);
})"""
_WIDTH = 1200


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = clock.monotonic() + 20
    while clock.monotonic() < deadline:
        text = await asyncio.to_thread(lambda: marker.read_text() if marker.exists() else "")
        if text.strip():
            return int(text.splitlines()[0])
        if process.returncode is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        await asyncio.sleep(0.05)
    raise RuntimeError("chromium did not open its DevTools port within 20 s")


class _DevTools:
    """Commands to one page over the Chrome DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.numbers = iter(range(1, 1_000_000))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.numbers)
        await self.ws.send_json({"id": number, "method": method, "params": params})
        while True:  # events of the page come in between; wait for our answer
            message = await asyncio.wait_for(self.ws.receive_json(), 30)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def screenshot(self, page: Path, name: str) -> dict[str, Any]:
        await self.send(
            "Emulation.setDeviceMetricsOverride", width=_WIDTH, height=900, deviceScaleFactor=1, mobile=False
        )
        await self.send("Page.navigate", url=page.as_uri())
        found = await self.send("Runtime.evaluate", expression=_PAGE_FACTS, awaitPromise=True)
        page_facts: dict[str, Any] = json.loads(found["result"]["value"])
        clip = {"x": 0, "y": 0, "width": _WIDTH, "height": min(page_facts["height"], 8000), "scale": 1}
        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)
        await asyncio.to_thread(_save, name, base64.b64decode(shot["data"]))
        return page_facts


def _save(name: str, png: bytes) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)


@pytest.fixture
async def screenshot() -> AsyncIterator[Screenshot]:
    """``await screenshot(html_file, png_name)``: load the page (absolute path) in headless Chromium,
    save a full-page PNG in test-artifacts/, return facts the page reports about itself."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (./run install installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    # Chromium's helper processes may still write to the profile as the main one exits.
    with tempfile.TemporaryDirectory(prefix="hotline-chromium-", ignore_cleanup_errors=True) as folder:
        profile = Path(folder)
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        flags += [
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
        ]
        flags += ["--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank"]
        process = await asyncio.create_subprocess_exec(
            CHROMIUM, *flags, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            port = await _devtools_port(profile, process)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    pages = [target for target in await response.json() if target["type"] == "page"]
                async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    yield _DevTools(ws).screenshot
        finally:
            if process.returncode is None:
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
