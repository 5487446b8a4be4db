"""Fixtures of the KPI API tests: the CLI in-process, generated multi-day traffic, the captures."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

import hotline.cli
from hotline.ami.protocol import AmiParser, Event
from hotline.kpi import facts
from hotline.kpi.facts import QueueAttempt

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
DAY0 = 1_767_200_400.0  # 2026-01-01T00:00:00+07:00, a local midnight in Asia/Jakarta
QUIET = ["--log-level", "error"]


@dataclass(frozen=True)
class Result:
    """What one ``hotline`` run printed, and its exit code."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture
def hotline_cli(capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """Run ``hotline ARGS...`` in-process; returns its exit code and output."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = hotline.cli.main([*argv, *QUIET])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run


def captures_with_events() -> list[str]:
    """The captured scenarios whose ami.raw holds AMI events (login-failed has none)."""
    names = []
    for folder in sorted(CAPTURES.iterdir()):
        raw = folder / "ami.raw"
        if raw.is_file() and any(isinstance(m, Event) for m in AmiParser().messages(raw.read_bytes())):
            names.append(folder.name)
    return names


def _held(rng: random.Random) -> float:
    # Hold comes from Hold/Unhold timestamps: microseconds, as AMI writes them.
    return round(rng.uniform(0.5, 40), 6) if rng.random() < 0.35 else 0.0


def generated_call(
    rng: random.Random, pbx: str, call_id: str, entered_at: float, source: str
) -> list[QueueAttempt]:
    """The final attempts of one call: answered (maybe held, maybe transferred on) or not."""
    queue = rng.choice(["cc-informasi", "cc-pengaduan", "cc-permintaan"])
    wait = float(rng.randint(0, 70))  # Asterisk reports waits and talk times in whole seconds
    first = QueueAttempt(
        pbx, call_id, 1, queue, None, "0812", entered_at, 1, facts.WAITING, None, None,
        None, None, None, None, None, None, None, rng.randint(0, 2), source,
    )  # fmt: skip
    roll = rng.random()
    if roll < 0.14:
        return [replace(first, outcome=facts.ABANDONED, wait_s=wait, ended_at=entered_at + wait)]
    if roll < 0.18:
        return [replace(first, outcome=facts.TIMEOUT, wait_s=wait, ended_at=entered_at + wait)]
    if roll < 0.2:
        return [replace(first, outcome=facts.EXIT_KEY, wait_s=wait)]
    handle = float(rng.randint(20, 700))
    number = rng.randint(1, 8)
    answered = replace(
        first,
        outcome=facts.ANSWERED,
        wait_s=wait,
        agent=f"agent-{pbx}-{number}",
        agent_interface=f"PJSIP/{pbx}{number}",
        connected_at=entered_at + wait,
        handle_s=handle,
        hold_s=min(_held(rng), handle) if source == facts.SOURCE_AMI else None,
        completed_by=facts.BY_CALLER,
        ended_at=entered_at + wait + handle,
    )
    if rng.random() < 0.88:
        return [answered]
    moved = entered_at + wait + handle
    answered = replace(answered, completed_by=facts.BY_TRANSFER, transfer_target="600@cc")
    second = replace(
        first,
        attempt=2,
        queue="cc-helpdesk",
        entered_at=moved,
        ring_no_answer=0,
        outcome=facts.ANSWERED,
        wait_s=4.0,
        agent=f"agent-{pbx}-9",
        agent_interface=f"PJSIP/{pbx}9",
        connected_at=moved + 4,
        handle_s=90.0,
        hold_s=_held(rng) if source == facts.SOURCE_AMI else None,
        completed_by=facts.BY_AGENT,
        ended_at=moved + 94,
    )
    return [answered, second]


def generated_days(seed: int, calls: int, days: int) -> list[list[QueueAttempt]]:
    """Per call, its attempts: ``calls`` calls spread over ``days`` local days from DAY0, two PBXs;
    every tenth call is also known to queue_log (a backfill), every thirtieth only to queue_log."""
    rng = random.Random(seed)
    result = []
    for n in range(calls):
        pbx = rng.choice(["jkt", "yog"])
        entered = DAY0 + rng.uniform(0, days * 86400)
        only_log = n % 30 == 0
        source = facts.SOURCE_QUEUE_LOG if only_log else facts.SOURCE_AMI
        call = generated_call(rng, pbx, f"{seed}.{n}", entered, source)
        if n % 10 == 0 and not only_log:
            call += [replace(a, source=facts.SOURCE_QUEUE_LOG, hold_s=None) for a in call]
        result.append(call)
    return result


# --- a running API over generated traffic -----------------------------------------------------------

PASSWORD = "kpi api test password"
TEAM_A_AGENTS = frozenset(f"agent-jkt-{n}" for n in range(1, 5))
"""The agents of team A; every other agent of the generated traffic is in team B."""


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One hash of PASSWORD (hashing costs ~0.1 s, so every user shares it)."""
    from hotline.auth.passwords import hash_password

    return hash_password(PASSWORD)


@dataclass
class Api:
    """The app under test: its client, store, signer, and tokens of its users."""

    client: Any
    engine: Any
    signer: Any
    roles: dict[str, tuple[str, str | None]]

    def token(self, username: str) -> str:
        role, team = self.roles[username]
        return str(self.signer.issue(username, role, extra={"team": team}))

    async def get(self, path: str, username: str | None = None, **params: str) -> tuple[int, Any, Any]:
        """(status, JSON body or text, headers) of ``GET path?params`` as ``username`` (None: no token)."""
        headers = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        async with self.client.get(path, params=params, headers=headers) as response:
            if response.content_type == "application/json":
                return response.status, await response.json(), response.headers
            return response.status, await response.text(), response.headers


async def _users(engine: Any, password_hash: str) -> dict[str, tuple[str, str | None]]:
    from hotline.auth.model import NewUser
    from hotline.auth.users import create_user

    people: list[NewUser] = [
        NewUser("qa1", "Quality Assurance", "qa"),
        NewUser("qc1", "Quality Control", "qc"),
        NewUser("admin1", "Administrator", "admin"),
        NewUser("tl-a", "Leader A", "team_leader", team="A"),
        NewUser("tl-b", "Leader B", "team_leader", team="B"),
    ]
    for pbx in ("jkt", "yog"):
        for n in range(1, 10):
            team = "A" if f"agent-{pbx}-{n}" in TEAM_A_AGENTS else "B"
            people.append(
                NewUser(f"agent-{pbx}-{n}", f"Agent {pbx} {n}", "agent", team=team, iface=f"PJSIP/{pbx}{n}")
            )
    for person in people:
        await create_user(engine, person, password_hash)
    return {p.username: (p.role, p.team) for p in people}


@pytest.fixture
async def api(tmp_path: Path, password_hash: str) -> Any:
    """hotline's app (login, KPI and report routes, wallboard) over 3 generated days of 2 PBXs."""
    from aiohttp.test_utils import TestClient, TestServer

    from hotline.ami.dispatch import EventDispatcher
    from hotline.auth import web as auth_web
    from hotline.config import Config, PbxConfig
    from hotline.metrics import Registry
    from hotline.reports import http as reports_http
    from hotline.rollup.writer import RollupWriter
    from hotline.store import create_engine, migrate
    from hotline.tokens import TokenSigner
    from hotline.wallboard import web as wallboard_web
    from hotline.web import create_app

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/api.db")
    await migrate(engine)
    writer = RollupWriter()
    await writer.apply(engine, [a for call in generated_days(21, 600, 3) for a in call])
    roles = await _users(engine, password_hash)
    cfg = Config(pbx=(PbxConfig("jkt", "jakarta"), PbxConfig("yog", "yogyakarta")))
    signer = TokenSigner(b"kpi api test key, long enough to sign", default_ttl=3600)
    app = create_app(config=cfg, health_checks={}, metrics=Registry(), openapi_fragments=[])
    auth_web.setup(app, engine, signer)
    reports_http.setup(app, config=cfg, engine=engine)
    wallboard_web.setup(app, config=cfg, dispatcher=EventDispatcher(), rollups=writer, engine=engine)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            yield Api(client, engine, signer, roles)
    finally:
        await engine.dispose()
