"""The QC page in headless chromium: log in, see the day's sample, play a call, score it.

The page after the submit is saved as test-artifacts/qc.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hotline.compose import Runtime
from recording.qc.calls import list_sample
from recording.qc.samples import draw_sample
from recording.qc.scores import scores_of
from recording.qc.settings import QcSettings
from tests.cti.devtools import browser_page, js
from tests.qc.helpers import MONDAY, PASSWORD, seed_recording, seed_traffic


async def test_log_in_see_the_sample_listen_and_submit_a_score(runtime: Runtime) -> None:
    await seed_traffic(runtime.engine, MONDAY - timedelta(days=7), 7)
    await draw_sample(runtime.engine, QcSettings.from_config(runtime.config), MONDAY)
    first = (await list_sample(runtime.engine, MONDAY))[0]
    archive = Path(runtime.config.recording.archive_dir)
    await seed_recording(runtime.engine, archive, first["call_key"], first["agent"], first["team"])

    async with browser_page(1366, 900) as page:
        await page.send("Page.navigate", url=f"http://127.0.0.1:{runtime.http_port}/qc")
        await page.wait("document.readyState === 'complete' && !!document.getElementById('login')")
        await page.eval(
            f"document.getElementById('username').value = {js('qc.dewi')};"
            f"document.getElementById('password').value = {js(PASSWORD)};"
            "document.getElementById('login').requestSubmit(); true"
        )
        await page.wait("!document.getElementById('qc-view').hidden")
        assert "qc.dewi" in await page.eval("document.getElementById('who').textContent")
        await page.eval(
            f"document.getElementById('day').value = {js(MONDAY.isoformat())};"
            "document.getElementById('day-form').requestSubmit(); true"
        )
        await page.wait("document.querySelectorAll('#sample tbody tr').length === 15")
        assert "15 calls, 0 scored" in await page.eval("document.getElementById('sample-note').textContent")
        await page.eval("document.querySelector('#sample tbody tr').click(); true")
        await page.wait(f"document.getElementById('call-title').textContent === 'Call #{first['id']}'")
        # The player streams the recording itself, from a URL whose token opens only this recording.
        await page.wait("document.getElementById('audio').src.includes('/audio?access_token=')")
        assert await page.wait("document.getElementById('audio').readyState >= 1")
        assert await page.eval("document.querySelectorAll('#criteria .criterion').length") == 7
        await page.eval(
            'document.querySelector(\'input[name="c-empathy"][value="50"]\').click();'
            'document.querySelector(\'input[name="c-cross_selling"][value=""]\').click();'
            "document.getElementById('comment').value = 'Empati perlu ditingkatkan saat keluhan.'; true"
        )
        assert await page.eval("document.getElementById('total').textContent") == "91.7"
        await page.eval("document.getElementById('submit').click(); true")
        await page.wait("document.getElementById('score-status').textContent.startsWith('Submitted')")
        await page.wait("document.querySelector('#sample tbody tr .badge.good') !== null")
        await page.screenshot("qc.png")

    (score,) = await scores_of(runtime.engine, [int(first["id"])])
    assert score.scorer == "qc.dewi" and score.total == 91.7
    assert score.ratings()["cross_selling"] is None and score.comment.startswith("Empati")
