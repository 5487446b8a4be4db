"""The hotline 1500569 menu through the real FastAGI server: every branch, invalid, timeout, 0 and *."""

from __future__ import annotations

import pytest

from hotline import names
from ivr import prompts

from .conftest import MakeIvr
from .fakes import BIRTH_DATE, CUSTOMER_NO

MAIN = names.AGI_IVR_MAIN
IDENTIFY = {prompts.IDENTIFY_OFFER: "1"}


@pytest.mark.parametrize(
    ("key", "queue", "choice"),
    [
        ("1", names.QUEUE_INFORMASI, "informasi"),
        ("4", names.QUEUE_SARAN, "saran"),
        ("0", names.QUEUE_AGENT, "agen"),
    ],
)
async def test_direct_branches_end_in_their_queue(
    make_ivr: MakeIvr, key: str, queue: str, choice: str
) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=[key])
    assert result.variables[names.VAR_QUEUE] == queue
    assert result.variables[names.VAR_IVR_CHOICE] == choice
    assert result.variables["CHANNEL(language)"] == "id"
    assert result.played[:2] == [prompts.GREETING, prompts.MAIN_MENU]
    context = await ivr.context.get("jakarta", "1700000000.1")
    assert (context["choice"], context["queue"], context["lang"]) == (choice, queue, "id")
    row = await ivr.row(MAIN)
    assert row is not None and (row["queue"], row["outcome"], row["choice"]) == (queue, "routed", choice)


async def test_english_chosen_during_the_greeting(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["1"], escapes={prompts.GREETING: "9"})
    assert result.variables["CHANNEL(language)"] == "en"
    assert result.variables[names.VAR_LANG] == "en"
    assert result.variables[names.VAR_IVR_PATH] == "lang=en/main=informasi"


async def test_invalid_then_timeout_then_valid_choice(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["7", None, "1"])
    assert result.played == [
        prompts.GREETING,
        prompts.MAIN_MENU,
        prompts.INVALID,
        prompts.MAIN_MENU,
        prompts.NO_INPUT,
        prompts.MAIN_MENU,
    ]
    assert result.variables[names.VAR_IVR_PATH] == "main=invalid/main=timeout/main=informasi"
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_INFORMASI


async def test_three_failures_reach_an_agent(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=[None, "*", "8"])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_AGENT
    assert result.variables[names.VAR_IVR_PATH] == "main=timeout/main=invalid/main=invalid/main=gave-up"
    assert result.count("GET DATA") == 3


async def test_request_with_verified_customer(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["3", CUSTOMER_NO, BIRTH_DATE], escapes=IDENTIFY)
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PERMINTAAN
    assert result.variables[names.VAR_VERIFIED] == "yes"
    assert result.variables[names.VAR_CUSTOMER_NO] == CUSTOMER_NO
    path = result.variables[names.VAR_IVR_PATH]
    assert path == "main=permintaan/identify=yes/customer=******0001/dob=***/verified=yes"
    assert BIRTH_DATE not in path
    # The birth date was keyed in with the recording muted, and unmuted after.
    assert ivr.ami.mute_states() == [1, 0]
    context = await ivr.context.get("jakarta", "1700000000.1")
    assert (context["verified"], context["customer_name"]) == ("yes", "Siti Rahayu")
    row = await ivr.row(MAIN)
    assert row is not None and (row["verified"], row["customer_no"]) == ("yes", CUSTOMER_NO)


async def test_wrong_birth_date_is_not_verified_and_not_retried(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["3", CUSTOMER_NO, "01011990"], escapes=IDENTIFY)
    assert result.variables[names.VAR_VERIFIED] == "no"
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PERMINTAAN
    assert prompts.NOT_VERIFIED in result.played
    assert ivr.core.verifications == 1


async def test_unknown_number_uses_a_try(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["3", "999999", CUSTOMER_NO, BIRTH_DATE], escapes=IDENTIFY)
    assert prompts.NUMBER_UNKNOWN in result.played
    assert result.variables[names.VAR_IVR_PATH].startswith(
        "main=permintaan/identify=yes/customer=**9999:refused/customer=******0001"
    )
    assert result.variables[names.VAR_VERIFIED] == "yes"


async def test_identification_not_wanted_holds_nobody_up(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["3"])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PERMINTAAN
    assert result.variables[names.VAR_IVR_PATH] == "main=permintaan/identify=no"
    assert names.VAR_VERIFIED not in result.variables
    assert result.count("GET DATA") == 1


async def test_star_goes_back_to_the_main_menu(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["3", "4"], escapes={prompts.IDENTIFY_OFFER: "*"})
    assert result.variables[names.VAR_IVR_PATH] == "main=permintaan/identify=back/main=saran"
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SARAN


async def test_star_in_the_number_entry_goes_back(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["3", "*", "1"], escapes=IDENTIFY)
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_INFORMASI
    assert names.VAR_VERIFIED not in result.variables


async def test_zero_in_a_sub_menu_reaches_that_service_s_agents(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["3", "0"], escapes=IDENTIFY)
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PERMINTAAN
    assert result.variables[names.VAR_IVR_CHOICE] == "agen"
    assert result.variables[names.VAR_IVR_PATH].endswith("customer=agent")


async def test_core_system_down_routes_unverified(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    ivr.core.down = True
    result = await ivr.call(MAIN, keys=["3", CUSTOMER_NO], escapes=IDENTIFY)
    assert prompts.SERVICE_DOWN in result.played
    assert result.variables[names.VAR_VERIFIED] == "no"
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PERMINTAAN
    assert result.variables[names.VAR_IVR_PATH].endswith("verified=unavailable")


async def test_no_core_system_configured_routes_unverified(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr(core=None)
    result = await ivr.call(MAIN, keys=["3"], escapes=IDENTIFY)
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_PERMINTAAN
    assert result.variables[names.VAR_VERIFIED] == "no"


async def test_caller_hanging_up_in_the_menu_is_recorded(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    result = await ivr.call(MAIN, keys=["7"], hangup_at=5)
    assert names.VAR_QUEUE not in result.variables
    row = await ivr.row(MAIN)
    assert row is not None and row["outcome"] == "hangup"
    assert row["path"] == "main=invalid"


class FakeSpeech:
    """Hears ``key`` (or nothing) once per listen."""

    def __init__(self, key: str | None) -> None:
        self.key = key
        self.listens = 0
        self.available = True

    async def listen(self, session: object, words: dict[str, str], timeout_s: float | None = None) -> object:
        self.listens += 1
        assert words["pengaduan"] == "2"
        return None if self.key is None else type("Heard", (), {"key": self.key})()


async def test_said_choice_is_taken_without_a_key(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    ivr.deps.speech = FakeSpeech("4")
    result = await ivr.call(MAIN, keys=[])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_SARAN
    assert result.variables[names.VAR_IVR_PATH] == "main-speech=4/main=saran"
    assert result.count("GET DATA") == 0


async def test_nothing_understood_falls_back_to_the_key_prompt(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    speech = FakeSpeech(None)
    ivr.deps.speech = speech
    result = await ivr.call(MAIN, keys=["1"])
    assert result.variables[names.VAR_QUEUE] == names.QUEUE_INFORMASI
    assert result.played == [prompts.GREETING, prompts.MAIN_MENU, prompts.MAIN_MENU]
    assert speech.listens == 1


async def test_speech_unavailable_costs_nothing(make_ivr: MakeIvr) -> None:
    ivr = await make_ivr()
    speech = FakeSpeech("4")
    speech.available = False
    ivr.deps.speech = speech
    result = await ivr.call(MAIN, keys=["1"])
    assert result.played == [prompts.GREETING, prompts.MAIN_MENU]
    assert speech.listens == 0
