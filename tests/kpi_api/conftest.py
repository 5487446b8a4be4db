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
    answered = replace(
        first,
        outcome=facts.ANSWERED,
        wait_s=wait,
        agent=f"agent-{pbx}-{rng.randint(1, 8)}",
        agent_interface=f"PJSIP/{1000 + rng.randint(1, 8)}",
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
