"""A bug in a flow is not a dead line: the sensible queue, an apology, and HOTLINE_STATUS=FAILED."""

from __future__ import annotations

from typing import Any

import pytest

from hotline import names
from ivr import prompts

from .conftest import MakeIvr
from .fakes import CONTRACT_NO, FakeCoreSystem


class BuggyCoreSystem(FakeCoreSystem):
    async def bill(self, contract_no: str, *, timeout: float | None = None) -> Any:
        raise RuntimeError("a bug, not a core-system failure")


@pytest.mark.parametrize(
    ("script", "keys", "queue"),
    [
        (names.AGI_IVR_PAYMENT, [CONTRACT_NO], names.QUEUE_PEMBAYARAN),
        (names.AGI_IVR_MAIN, ["5", CONTRACT_NO], names.QUEUE_AGENT),
    ],
)
async def test_handler_bug_sets_the_queue_and_the_failed_status(
    make_ivr: MakeIvr, script: str, keys: list[str], queue: str
) -> None:
    ivr = await make_ivr(core=BuggyCoreSystem())
    result = await ivr.call(script, keys=keys)
    assert result.variables[names.VAR_QUEUE] == queue
    assert result.variables[names.VAR_STATUS] == names.STATUS_FAILED
    assert result.played[-1] == prompts.SERVICE_DOWN
    row = await ivr.row(script)
    assert row is not None and row["outcome"] == "failed"


async def test_successful_route_reports_ok(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(names.AGI_IVR_MAIN, keys=["1"])
    assert result.variables[names.VAR_STATUS] == names.STATUS_OK
