"""Calls walked through the shipped dialplan: hotline down or failing never leaves a caller without a queue.

The walk (dialplan_sim) follows the parsed dialplans step by step; each test
says what AGI() does (FastAGI answering, unreachable, the classic fallback
script missing) and checks where the caller ends up, what they heard and
how many recordings were started.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hotline import names

from .conftest import Step
from .dialplan_sim import Call, Dialplan

_PROVIDER_CHANNEL = {
    "CHANNEL(channeltype)": "PJSIP",
    "CHANNEL(endpoint)": "provider",
    "PJSIP_ENDPOINT(provider,context)": "from-provider",
    "PJSIP_ENDPOINT(1001,context)": "from-agents",
    "HOTLINE_HOME_SITE": "jakarta",
    "HOTLINE_AGI_HOST": "127.0.0.1",
    "HOTLINE_AGI_PORT": "4573",
    "UNIQUEID": "1732430000.1",
}


@pytest.fixture
def dialplan(steps: list[Step]) -> Dialplan:
    return Dialplan(steps)


def hotline_answers(queue: str, status: str = names.STATUS_OK) -> Callable[[str, Call], str]:
    """FastAGI reachable: hotline sets the queue and its status."""

    def agi(url: str, call: Call) -> str:
        if url.startswith("agi://"):
            call.variables.update({names.VAR_QUEUE: queue, names.VAR_STATUS: status})
            return "SUCCESS"
        raise AssertionError(f"unexpected classic AGI {url} while hotline answers")

    return agi


def hotline_down(fallback_script: str) -> Callable[[str, Call], str]:
    """FastAGI unreachable; the classic script either routes ('works') or cannot run ('missing')."""

    def agi(url: str, call: Call) -> str:
        if url.startswith("agi://"):
            return "FAILURE"
        assert url.startswith("hotline-fallback.agi,")
        if fallback_script == "missing":
            return "FAILURE"
        line = url.split(",")[1]
        call.variables[names.VAR_QUEUE] = (
            names.QUEUE_SAPA_HELPDESK if line == "sapa" else names.FALLBACK_QUEUE
        )
        return "SUCCESS"

    return agi


def _call(agi: Callable[[str, Call], str], **extra: str) -> Call:
    return Call(variables={**_PROVIDER_CHANNEL, **extra}, agi=agi)


def _apps(call: Call, app: str) -> list[str]:
    return [args for name, args in call.trail if name == app]


def test_ivr_route_reaches_the_chosen_queue_recorded_once(dialplan: Dialplan) -> None:
    call = dialplan.run(_call(hotline_answers(names.QUEUE_PENGADUAN)), "from-provider", "1500569")
    assert call.ended == "queue"
    assert _apps(call, "Queue") == [f"{names.QUEUE_PENGADUAN},t,,,300"]
    assert len(_apps(call, "MixMonitor")) == 1
    assert _apps(call, "Playback") == [], "no apology when hotline routed the call"


@pytest.mark.parametrize("script", ["works", "missing"])
def test_hotline_unreachable_reaches_the_fallback_queue(dialplan: Dialplan, script: str) -> None:
    call = dialplan.run(_call(hotline_down(script)), "from-provider", "1500569")
    assert call.ended == "queue"
    assert call.variables[names.VAR_QUEUE] == names.FALLBACK_QUEUE
    assert _apps(call, "Queue") == [f"{names.FALLBACK_QUEUE},t,,,300"]
    agi_calls = _apps(call, "AGI")
    assert agi_calls[1] == "hotline-fallback.agi,main"
    assert call.variables["AGISIGHUP"] == "no", "pyst2 needs AGISIGHUP=no"
    if script == "missing":
        assert _apps(call, "Playback") == ["pls-hold-while-try"], "the static route apologises itself"


@pytest.mark.parametrize("status", [names.STATUS_FAILED, names.STATUS_NOROUTE])
def test_handler_failure_takes_the_fallback_path(dialplan: Dialplan, status: str) -> None:
    agi_urls: list[str] = []

    def agi(url: str, call: Call) -> str:
        agi_urls.append(url)
        if url.startswith("agi://"):
            call.variables[names.VAR_STATUS] = status
            return "SUCCESS"
        return "FAILURE"

    call = dialplan.run(_call(agi), "from-provider", "1500569")
    assert call.ended == "queue"
    assert call.variables[names.VAR_QUEUE] == names.FALLBACK_QUEUE
    assert agi_urls[1] == "hotline-fallback.agi,main"


def test_payment_line_falls_back_to_the_payment_desk(dialplan: Dialplan) -> None:
    call = dialplan.run(_call(hotline_down("missing")), "from-agents", "1705")
    assert call.variables[names.VAR_QUEUE] == names.QUEUE_PEMBAYARAN


def test_sapa_line_falls_back_to_the_helpdesk(dialplan: Dialplan) -> None:
    call = dialplan.run(
        _call(hotline_down("missing"), HOTLINE_SAPA_DID="0215550170"), "from-provider", "0215550170"
    )
    assert call.ended == "queue"
    assert call.variables[names.VAR_QUEUE] == names.QUEUE_SAPA_HELPDESK


def test_sapa_outlet_identity_reaches_the_helpdesk(dialplan: Dialplan) -> None:
    def agi(url: str, call: Call) -> str:
        assert url.endswith("/" + names.AGI_IVR_SAPA)
        call.variables.update(
            {
                names.VAR_QUEUE: names.QUEUE_SAPA_HELPDESK,
                names.VAR_STATUS: names.STATUS_OK,
                names.VAR_OUTLET_CODE: "12345",
            }
        )
        return "SUCCESS"

    call = dialplan.run(_call(agi), "from-agents", "1700")
    assert _apps(call, "Queue") == [f"{names.QUEUE_SAPA_HELPDESK},t,,,300"]
    assert call.variables["CALLERID(name)"] == "SAPA 12345"


def test_unknown_number_from_the_provider_is_refused(dialplan: Dialplan) -> None:
    call = dialplan.run(_call(hotline_answers(names.QUEUE_AGENT)), "from-provider", "0219999999")
    assert call.ended == "hangup"
    assert _apps(call, "Hangup") == ["1"]


def test_caller_hanging_up_in_the_ivr_is_not_queued(dialplan: Dialplan) -> None:
    call = dialplan.run(_call(lambda url, call: "HANGUP"), "from-provider", "1500569")
    assert call.ended == "hangup"
    assert _apps(call, "Queue") == []


def test_blind_transfer_into_a_queue_keeps_one_recording(dialplan: Dialplan) -> None:
    call = dialplan.run(_call(hotline_answers(names.QUEUE_INFORMASI)), "from-provider", "1500569")
    assert len(_apps(call, "MixMonitor")) == 1
    # The agent blind-transfers the same caller channel to 1602 (pengaduan).
    call.trail.clear()
    call = dialplan.run(call, "from-agents", "1602")
    assert _apps(call, "Queue") == [f"{names.QUEUE_PENGADUAN},t,,,300"]
    assert _apps(call, "MixMonitor") == [], "a second recording of the same call"


def test_payment_self_service_returns_to_a_queue_with_the_same_recording(dialplan: Dialplan) -> None:
    call = dialplan.run(_call(hotline_answers(names.QUEUE_PEMBAYARAN)), "from-provider", "1500569")
    call.trail.clear()
    call = dialplan.run(call, "from-agents", "1705")
    assert any(url.endswith("/" + names.AGI_IVR_PAYMENT) for url in _apps(call, "AGI"))
    assert call.ended == "queue" and _apps(call, "MixMonitor") == []
    assert call.variables[names.VAR_SITE] == "jakarta"


def test_an_agents_own_leg_into_a_queue_is_not_recorded_again(dialplan: Dialplan) -> None:
    # Consultation leg of an attended transfer: the agent's phone dials 1601.
    agent_leg = Call(
        variables={**_PROVIDER_CHANNEL, "CHANNEL(endpoint)": "1001"}, agi=hotline_answers(names.QUEUE_AGENT)
    )
    call = dialplan.run(agent_leg, "from-agents", "1601")
    assert call.ended == "queue" and _apps(call, "MixMonitor") == []
