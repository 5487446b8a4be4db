"""The composition root serves the login, with the signer every feature gets."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from hotline import config as configmod
from hotline.auth import passwords, principal_from_token
from hotline.auth.model import NewUser
from hotline.auth.users import create_user
from hotline.compose import Runtime


async def test_runtime_serves_login_with_the_process_signer(tmp_path: Path) -> None:
    cfg = configmod.load(
        None,
        overrides={
            "store.url": f"sqlite+aiosqlite:///{tmp_path}/hotline.db",
            "store.spool_dir": str(tmp_path / "spool"),
            "http.port": 0,
            "agi.port": 0,
        },
    )
    runtime = Runtime(cfg, features=[])
    await runtime.start()
    try:
        stored = passwords.hash_password("kata sandi qc", passwords.ScryptParams(ln=4, r=8, p=1))
        await create_user(runtime.engine, NewUser("qc.dewi", "Dewi", "qc"), stored)
        url = f"http://127.0.0.1:{runtime.http_port}/api/login"
        async with aiohttp.ClientSession() as session:
            async with session.post(
                url, json={"username": "qc.dewi", "password": "kata sandi qc"}
            ) as response:
                assert response.status == 200
                token = (await response.json())["token"]
            async with session.get(
                url.replace("login", "me"), headers={"Authorization": f"Bearer {token}"}
            ) as me:
                assert (await me.json())["role"] == "qc"
        assert runtime.signer is not None
        assert principal_from_token(runtime.signer, token).username == "qc.dewi"
    finally:
        await runtime.stop()
