"""The wallboard in headless Chromium against hotline and the Asterisk 22 emulator.

The page first shows its login form (the websocket needs a token); a team leader logs in through
it. Then each assertion measures from the moment hotline dispatched the AMI event to the moment the
page's DOM shows its effect: it must be under a second, with no polling by the page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hotline.ami.dispatch import PbxEvent
from hotline.auth.model import NewUser
from hotline.auth.passwords import hash_password
from hotline.auth.users import create_user
from hotline.config import AgiConfig, Config, EmulatorConfig, HttpConfig, StoreConfig
from hotline.demo import start_demo
from hotline.emulator import CallScript

from .conftest import ARTIFACTS, Page

AGENTS = 4
NO_ANSWER: dict[str, float | None] = {str(1001 + i): None for i in range(AGENTS)}


def _config(tmp_path: Path) -> Config:
    return Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "spool")
        ),
        emulator=EmulatorConfig(agents=AGENTS, speed=20.0, seed=3),
    )


class Stopwatch:
    """When hotline dispatched each AMI event of interest (monotonic clock)."""

    def __init__(self) -> None:
        self.seen: dict[str, list[float]] = {}
        self.changed = asyncio.Event()

    def __call__(self, item: PbxEvent) -> None:
        self.seen.setdefault(item.event.name, []).append(time.monotonic())
        self.changed.set()

    async def first(self, name: str, after: int = 0, timeout: float = 20.0) -> float:
        async with asyncio.timeout(timeout):
            while len(self.seen.get(name, [])) <= after:
                self.changed.clear()
                await self.changed.wait()
        return self.seen[name][after]


async def _shows(page: Page, selector: str, expected: str, since: float, within: float = 1.0) -> float:
    """Seconds from ``since`` until ``selector`` shows ``expected``; fails past ``within``."""
    last: str | None = None
    while time.monotonic() - since < within + 0.5:
        last = await page.text(selector)
        if last == expected:
            return time.monotonic() - since
        await asyncio.sleep(0.02)
    pytest.fail(f"{selector} shows {last!r}, not {expected!r}, {within} s after the event")


PASSWORD = "floor-lead-2026"


async def _log_in(page: Page, username: str, password: str) -> None:
    """Fill the page's login form and submit it, as a person would."""
    async with asyncio.timeout(10):
        # Until the page has loaded, there is no form yet.
        while await page.evaluate("(document.getElementById('login') || {}).hidden") is not False:
            await asyncio.sleep(0.05)
    for field, value in (("login-username", username), ("login-password", password)):
        await page.evaluate(f"document.getElementById({field!r}).value = {value!r}")
    await page.evaluate("document.getElementById('login-submit').click()")


async def test_wallboard_follows_calls_within_a_second(tmp_path: Path, browser: Callable[[str], Any]) -> None:
    emulator, runtime = await start_demo(_config(tmp_path))
    watch = Stopwatch()
    for name in ("QueueCallerJoin", "QueueCallerAbandon", "AgentConnect"):
        runtime.dispatcher.subscribe(name, watch, name=f"test-{name}")
    leader = NewUser("tl.wati", "Wati Supervisor", "team_leader", team="A", site="jakarta")
    await create_user(runtime.engine, leader, hash_password(PASSWORD))
    try:
        page: Page = await browser(f"http://127.0.0.1:{runtime.http_port}/wallboard")
        # No token yet: the page asks for a login and shows no figure.
        await _log_in(page, "tl.wati", "not-the-password")
        async with asyncio.timeout(10):
            while not await page.text("#login-message"):
                await asyncio.sleep(0.05)
        assert await page.evaluate("document.getElementById('login').hidden") is False
        assert await page.text('[data-bind="total.day.offered"]') == "–"
        await page.screenshot(ARTIFACTS / "wallboard-login.png")
        await _log_in(page, "tl.wati", PASSWORD)
        async with asyncio.timeout(10):
            while await page.text('[data-site-agents="jakarta.available"]') != str(AGENTS):
                await asyncio.sleep(0.05)  # the agents come from the QueueStatus resync at connect
        assert await page.text('[data-bind="total.day.offered"]') == "0"
        assert await page.evaluate("document.getElementById('link').className") == "link up"
        assert await page.evaluate("document.getElementById('login').hidden") is True
        assert await page.evaluate("sessionStorage.getItem('hotline.wallboard.token') !== null") is True

        # A caller nobody answers: waiting, then abandons.
        waiting_call = emulator.start_call(
            CallScript("081234560001", "Dewi Lestari", digits="1", patience_s=30.0, agent_ring_s=NO_ANSWER)
        )
        joined = await watch.first("QueueCallerJoin")
        lag_join = await _shows(page, '[data-bind="total.waiting"]', "1", joined)
        assert await page.text('[data-queue-waiting="cc-informasi"]') == "1"
        abandoned = await watch.first("QueueCallerAbandon")
        lag_abandon = await _shows(page, '[data-bind="total.day.abandoned"]', "1", abandoned)
        await _shows(page, '[data-bind="total.waiting"]', "0", abandoned)
        assert (await waiting_call).outcome == "abandoned"

        # A caller an agent answers.
        answered_call = emulator.start_call(
            CallScript("081234560002", "Budi Santoso", digits="1", caller_hangs_up_after_s=40.0)
        )
        connected = await watch.first("AgentConnect")
        lag_answer = await _shows(page, '[data-bind="total.day.answered"]', "1", connected)
        assert await page.text('[data-bind="total.day.offered"]') == "2"
        assert await page.text('[data-bind="total.day.scr"]') == "50.0 %"
        # SCR 50 % is below the 90 % target: the tile says so.
        assert (
            await page.evaluate("document.querySelector('[data-status=\"total.day.scr_ok\"]').dataset.state")
            == "off"
        )
        await _shows(page, '[data-site-agents="jakarta.talking"]', "1", connected)
        # More traffic for the screenshot, then the artifact.
        calls = [
            emulator.start_call(
                CallScript(f"08123456{n:04d}", "Rina Wati", digits=str(1 + n % 3), patience_s=8.0 + n)
            )
            for n in range(6)
        ]
        await asyncio.sleep(1.0)
        await page.screenshot(ARTIFACTS / "wallboard.png")
        await asyncio.gather(answered_call, *calls)
        assert max(lag_join, lag_abandon, lag_answer) < 1.0
    finally:
        await emulator.stop()
        await runtime.stop()
