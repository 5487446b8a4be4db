"""The agent console in headless chromium against hotline and the emulated Asterisk 22.

Log in, get the pop of an emulated call, hold it, hang up, file a disposition; the pop is
saved as test-artifacts/agent-pop.png.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from cti.store import recent_dispositions
from hotline.auth.model import NewUser
from hotline.auth.passwords import hash_password
from hotline.auth.users import create_user
from hotline.config import AgiConfig, Config, EmulatorConfig, HttpConfig, StoreConfig
from hotline.demo import start_demo
from hotline.emulator import CallScript

from .devtools import browser_page, js

PASSWORD = "kata-sandi-siti"


def _config(tmp_path: Path) -> Config:
    return Config(
        agi=AgiConfig(port=0),
        http=HttpConfig(port=0),
        store=StoreConfig(
            url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db", spool_dir=str(tmp_path / "spool")
        ),
        emulator=EmulatorConfig(agents=1, speed=10.0, seed=7),
    )


async def _connected(runtime: Any) -> None:
    async with asyncio.timeout(5):
        while not all(c.status.state == "connected" for c in runtime.ami_clients.values()):
            await asyncio.sleep(0.01)


async def test_agent_console_login_pop_hold_hangup_disposition(tmp_path: Path) -> None:
    emulator, runtime = await start_demo(_config(tmp_path))
    call = None
    try:
        await _connected(runtime)
        user = NewUser("1001", "Siti Rahma", "agent", team="kopi", iface="PJSIP/1001")
        await create_user(runtime.engine, user, await asyncio.to_thread(hash_password, PASSWORD))
        url = f"http://127.0.0.1:{runtime.http_port}/agent/static/hotline.db"
        async with aiohttp.ClientSession() as http, http.get(url) as bad:
            assert bad.status == 404  # only the console's own files are served
        async with browser_page(1366, 768) as page:
            await page.send("Page.navigate", url=f"http://127.0.0.1:{runtime.http_port}/agent")
            await page.wait("document.readyState === 'complete' && !!document.getElementById('login')")
            await page.eval(
                f"document.getElementById('username').value = {js('1001')};"
                f"document.getElementById('password').value = {js(PASSWORD)};"
                "document.getElementById('login').requestSubmit(); true"
            )
            await page.wait("document.body.dataset.connected === '1'")
            assert "1001 · PJSIP/1001 · kopi" in await page.eval("document.getElementById('who').textContent")

            call = emulator.start_call(
                CallScript("081234567890", "Śantoso Wibowo", digits="1", caller_hangs_up_after_s=600.0)
            )
            await page.wait("document.getElementById('pop-number').textContent === '081234567890'", 15)
            await page.wait("document.body.dataset.call === 'talking'")
            assert await page.eval("document.getElementById('pop-name').textContent") == "Śantoso Wibowo"
            assert await page.eval("document.getElementById('pop-queue').textContent") == "cc-informasi"
            assert "informasi" in await page.eval("document.getElementById('pop-ivr').textContent")
            # The enrichment: the PBX's site, and the caller's history table filled in from the store.
            assert "jakarta" in await page.eval("document.getElementById('pop-site').textContent")
            assert "no call yet" not in await page.eval("document.getElementById('pop-history').textContent")
            assert await page.eval("document.body.dataset.state") == "on_call"
            png = await page.screenshot("agent-pop.png")
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
            # Readable at 1366x768: nothing runs off the right edge, the pop card is fully on screen.
            assert await page.eval("document.documentElement.scrollWidth") <= 1366
            assert await page.eval("document.getElementById('pop').getBoundingClientRect().bottom") <= 768

            await page.eval("document.getElementById('hold').click(); true")
            await page.wait("document.body.dataset.call === 'held'")
            await page.eval("document.getElementById('resume').click(); true")
            await page.wait("document.body.dataset.call === 'talking'")
            await page.eval("document.getElementById('hangup').click(); true")
            await page.wait("document.body.dataset.call === 'ended'")
            result = await asyncio.wait_for(call, 10)
            assert result.completed_by == "agent"

            await page.eval(
                "document.getElementById('disp-category').value = 'informasi';"
                "document.getElementById('disp-notes').value = 'tanya gadai emas';"
                "document.getElementById('disposition').requestSubmit(); true"
            )
            await page.wait("document.getElementById('message').textContent === 'disposition stored'")
            await page.wait("document.querySelectorAll('#recent tbody tr td').length >= 4")
        stored = await recent_dispositions(runtime.engine, "1001")
        assert [(d.category, d.notes) for d in stored] == [("informasi", "tanya gadai emas")]
    finally:
        if call is not None and not call.done():
            call.cancel()
        await emulator.stop()
        await runtime.stop()


@pytest.mark.parametrize("path", ["/agent", "/agent/static/app.js", "/agent/static/app.css"])
async def test_console_files_are_served(tmp_path: Path, path: str) -> None:
    emulator, runtime = await start_demo(_config(tmp_path))
    try:
        url = f"http://127.0.0.1:{runtime.http_port}{path}"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            assert len(await response.read()) > 500
    finally:
        await emulator.stop()
        await runtime.stop()
