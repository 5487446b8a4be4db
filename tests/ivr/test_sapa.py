"""SAPA, the outlet line: identified by number or by code + PIN, menu, ticket status, helpdesk."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline import names
from ivr import prompts
from ivr.outlets import import_outlets, parse_csv

from .conftest import Ivr, MakeIvr

SAPA = names.AGI_IVR_SAPA
CSV = """code,name,region,phones,pin
12001,CP Kramat Jakarta,Jakarta,021-3901234;+62 813 1111 2222,482913
12002,UPC Depok,Jawa Barat,0217770001,
"""


@pytest.fixture
async def ivr(make_ivr: MakeIvr, engine: AsyncEngine, tmp_path: Path) -> Ivr:
    """The IVR with two outlets in the directory."""
    path = tmp_path / "outlets.csv"
    path.write_text(CSV, encoding="utf-8")
    await import_outlets(engine, parse_csv(path), replace=False)
    return await make_ivr()


@pytest.mark.parametrize(("key", "choice"), [("1", "passion"), ("2", "non-core"), ("0", "agen")])
async def test_known_number_goes_straight_to_the_menu(ivr: Ivr, key: str, choice: str) -> None:
    result = await ivr.call(SAPA, keys=[key], callerid="+6281311112222")
    assert result.played[:2] == [prompts.SAPA_GREETING, prompts.SAPA_MENU]
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK
    assert result.variables[names.VAR_OUTLET_CODE] == "12001"
    assert result.variables[names.VAR_IVR_CHOICE] == choice
    context = await ivr.context.get("jakarta", "1700000000.1")
    assert (context["outlet_code"], context["outlet_name"]) == ("12001", "CP Kramat Jakarta")
    row = await ivr.row(SAPA)
    assert row is not None and row["outlet_code"] == "12001"


async def test_unknown_number_with_code_and_pin(ivr: Ivr) -> None:
    result = await ivr.call(SAPA, keys=["12001", "482913", "1"], callerid="085700000000")
    assert result.variables[names.VAR_OUTLET_CODE] == "12001"
    assert (
        result.variables[names.VAR_IVR_PATH]
        == "outlet-code=*2001/outlet-pin=***/outlet=12001:by-pin/sapa=passion"
    )
    assert ivr.ami.mute_states() == [1, 0]
    assert "482913" not in str(await ivr.row(SAPA))


async def test_wrong_pin_three_times_still_reaches_the_helpdesk(ivr: Ivr) -> None:
    keys = ["12001", "111111", "12001", "222222", "12002", "1234"]
    result = await ivr.call(SAPA, keys=keys, callerid="085700000000")
    assert result.played.count(prompts.SAPA_UNKNOWN_OUTLET) == 3
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK
    assert names.VAR_OUTLET_CODE not in result.variables
    assert result.variables[names.VAR_IVR_PATH].endswith("outlet=refused/outlet=unknown")
    assert ivr.ami.mute_states() == [1, 0, 1, 0, 1, 0]


async def test_unknown_outlet_and_silence(ivr: Ivr) -> None:
    result = await ivr.call(SAPA, keys=[], callerid="unknown")
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK
    assert result.variables[names.VAR_IVR_PATH].endswith("outlet-code=gave-up")


async def test_ticket_status_read_back(ivr: Ivr) -> None:
    result = await ivr.call(SAPA, keys=["3", "42", "1", "7", "*", "2"], callerid="0213901234")
    assert result.said == ["42", "7"]
    assert prompts.TICKET_STATUS["in progress"] in result.played
    assert prompts.TICKET_STATUS["resolved"] in result.played
    assert result.variables[names.VAR_IVR_CHOICE] == "non-core"
    assert "ticket-status=in-progress" in result.variables[names.VAR_IVR_PATH]


async def test_unknown_ticket_then_helpdesk(ivr: Ivr) -> None:
    result = await ivr.call(SAPA, keys=["3", "999", "0"], callerid="0213901234")
    assert prompts.SAPA_TICKET_UNKNOWN in result.played
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK


async def test_ticketing_down_goes_to_the_helpdesk(ivr: Ivr) -> None:
    ivr.ticketing.down = True
    result = await ivr.call(SAPA, keys=["3", "42"], callerid="0213901234")
    assert prompts.SERVICE_DOWN in result.played
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK
    assert result.variables[names.VAR_OUTLET_CODE] == "12001"


async def test_no_store_means_helpdesk_unidentified(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr(store=False)
    result = await ivr.call(SAPA, keys=[])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK
