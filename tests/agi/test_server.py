"""AgiServer: routing, HOTLINE_STATUS fallbacks, bad peers, timeouts, isolation of sessions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hotline.agi import AgiCommandError, AgiHangup, AgiRouter, AgiSession, AgiTimeout
from hotline.names import AGI_IVR_MAIN, STATUS_FAILED, STATUS_NOROUTE, STATUS_OK, VAR_STATUS

OK = b"200 result=1\n"


def status_line(status: str) -> bytes:
    return f"SET VARIABLE {VAR_STATUS} {status}\n".encode()


def router_with(handler: Any, script: str = AGI_IVR_MAIN) -> AgiRouter:
    router = AgiRouter()
    router.add(script, handler)
    return router


def test_duplicate_and_malformed_routes_are_refused() -> None:
    async def handler(session: AgiSession) -> None: ...

    router = router_with(handler)
    with pytest.raises(ValueError, match="already registered"):
        router.add(AGI_IVR_MAIN, handler)
    for bad in ("", "ivr/main?pbx=x"):
        with pytest.raises(ValueError, match="without query"):
            router.add(bad, handler)
    assert router.scripts == {AGI_IVR_MAIN}


async def test_status_ok_is_set_only_when_the_handler_did_not(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    async def quiet(session: AgiSession) -> None:
        await session.answer()

    async def explicit(session: AgiSession) -> None:
        await session.set_variable(VAR_STATUS, "TRANSFERRED")

    router = router_with(quiet)
    router.add("ivr/explicit", explicit)
    server = await start_server(router)
    peer = await asterisk.connect(server.port, env_block())
    assert await peer.converse([(b"ANSWER\n", b"200 result=0\n")]) == [b"ANSWER\n", status_line(STATUS_OK)]
    peer = await asterisk.connect(server.port, env_block("ivr/explicit"))
    assert await peer.finish() == [b"SET VARIABLE HOTLINE_STATUS TRANSFERRED\n"]
    assert server.stats.sessions_total == 2 and server.stats.sessions_active == 0


async def test_unknown_script_sets_noroute_and_logs_once(
    start_server: Any, asterisk: Any, env_block: Any, captured_logs: list[dict[str, Any]]
) -> None:
    server = await start_server(AgiRouter())
    peer = await asterisk.connect(server.port, env_block("ivr/nope?pbx=jkt1", uniqueid="42.7"))
    assert await peer.finish() == [status_line(STATUS_NOROUTE)]
    errors = [e for e in captured_logs if e["log_level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["event"] == "agi_no_route" and errors[0]["script"] == "ivr/nope"
    assert (errors[0]["pbx"], errors[0]["uniqueid"]) == ("jkt1", "42.7")
    assert server.stats.errors_total == {"noroute": 1}


async def test_handler_that_raises_gets_failed_and_others_are_unaffected(
    start_server: Any, asterisk: Any, env_block: Any, captured_logs: list[dict[str, Any]]
) -> None:
    async def handler(session: AgiSession) -> None:
        await session.verbose("start")
        if session.env.uniqueid == "bad.1":
            raise RuntimeError("boom")
        await session.set_variable("HOTLINE_QUEUE", "cc-informasi")

    server = await start_server(router_with(handler))
    good = await asterisk.connect(server.port, env_block(uniqueid="good.1"))
    bad = await asterisk.connect(server.port, env_block(uniqueid="bad.1"))
    bad_lines, good_lines = await asyncio.gather(bad.finish(), good.finish())
    assert bad_lines == [b"VERBOSE start 1\n", status_line(STATUS_FAILED)]
    assert good_lines == [
        b"VERBOSE start 1\n",
        b"SET VARIABLE HOTLINE_QUEUE cc-informasi\n",
        status_line(STATUS_OK),
    ]
    failures = [e for e in captured_logs if e["event"] == "agi_handler_failed"]
    assert len(failures) == 1
    assert failures[0]["exc_info"] is True and failures[0]["uniqueid"] == "bad.1"
    assert server.stats.errors_total == {"handler": 1}


async def test_command_errors_510_and_520_carry_usage_and_keep_the_stream_in_step(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    seen: dict[str, Any] = {}

    async def handler(session: AgiSession) -> None:
        with pytest.raises(AgiCommandError) as refused:
            await session.command("GET DATA")
        seen["usage"] = refused.value.usage
        with pytest.raises(AgiCommandError) as unknown:
            await session.command("FOO BAR")
        seen["unknown"] = unknown.value.reply.code
        seen["var"] = await session.get_variable("CALLERID(name)")
        await session.command("FOO BAR")  # escapes: the server sets FAILED

    server = await start_server(router_with(handler))
    peer = await asterisk.connect(server.port, env_block())
    lines = await peer.converse(
        [
            (
                b"GET DATA\n",
                b"520-Invalid command syntax.  Proper usage follows:\n"
                b" Usage: GET DATA <file>\n"
                b"520 End of proper usage.\n",
            ),
            (b"FOO BAR\n", b"510 Invalid or unknown command\n"),
            (b"GET VARIABLE\n", b"200 result=1 (Dewi Lestari)\n"),
            (b"FOO BAR\n", b"510 Invalid or unknown command\n"),
        ]
    )
    assert lines == [
        b"GET DATA\n",
        b"FOO BAR\n",
        b"GET VARIABLE CALLERID(name)\n",
        b"FOO BAR\n",
        status_line(STATUS_FAILED),
    ]
    assert seen == {"usage": " Usage: GET DATA <file>", "unknown": 510, "var": "Dewi Lestari"}
    assert server.stats.errors_total == {"command": 1}


async def test_511_is_a_hangup_and_no_status_is_sent(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    seen: dict[str, Any] = {}

    async def handler(session: AgiSession) -> None:
        try:
            await session.stream_file("beep")
        except AgiHangup:
            seen["hungup"] = session.hungup
            raise

    server = await start_server(router_with(handler))
    peer = await asterisk.connect(server.port, env_block())
    dead = b"511 Command Not Permitted on a dead channel or intercept routine\n"
    assert await peer.converse([(b"", dead)]) == [b'STREAM FILE beep ""\n']
    assert seen == {"hungup": True}
    assert server.stats.hangups_total == 1 and server.stats.errors_total == {}


async def test_hangup_before_the_reply_raises_after_reading_it(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    seen: dict[str, Any] = {}

    async def handler(session: AgiSession) -> None:
        try:
            await session.set_variable(VAR_STATUS, "PARTIAL")
        except AgiHangup as exc:
            seen["reply"] = exc.reply
        seen["value"] = await session.get_variable("X")  # still in step, no second AgiHangup
        seen["status_set"] = session.status_set

    server = await start_server(router_with(handler))
    peer = await asterisk.connect(server.port, env_block())
    lines = await peer.converse([(b"", b"HANGUP\n200 result=1\n"), (b"", b"200 result=1 (v)\n")])
    assert lines == [b"SET VARIABLE HOTLINE_STATUS PARTIAL\n", b"GET VARIABLE X\n"]
    assert seen["reply"].ok and seen["value"] == "v" and seen["status_set"] is True


async def test_caller_gone_mid_command_raises_hangup(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    seen: list[BaseException] = []

    async def handler(session: AgiSession) -> None:
        try:
            await session.get_data("beep", 5000, 1)
        except AgiHangup as exc:
            seen.append(exc)
            raise

    server = await start_server(router_with(handler))
    peer = await asterisk.connect(server.port, env_block())
    assert await peer.read_command() == b"GET DATA beep 5000 1\n"
    peer.writer.close()  # Asterisk tears the socket down
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.01)
    assert len(seen) == 1 and server.stats.hangups_total == 1


async def test_command_timeout_closes_the_session(start_server: Any, asterisk: Any, env_block: Any) -> None:
    seen: list[BaseException] = []

    async def handler(session: AgiSession) -> None:
        try:
            await session.answer()
        except AgiTimeout as exc:
            seen.append(exc)
            raise

    server = await start_server(router_with(handler), command_timeout=0.1)
    peer = await asterisk.connect(server.port, env_block())
    assert await peer.read_command() == b"ANSWER\n"
    await peer.expect_closed(within=2.0)  # no FAILED: a late reply would be read out of step
    assert len(seen) == 1
    assert server.stats.errors_total == {"timeout": 1}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"agi_network: yes\nagi_network_script: ivr/main\n", id="closed-before-blank-line"),
        pytest.param(b"agi_calleridname: " + b"x" * (1024 * 1024), id="one-megabyte-header-line"),
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="not-agi"),
    ],
)
async def test_bad_environment_is_one_clear_error(
    data: bytes, start_server: Any, asterisk: Any, env_block: Any, captured_logs: list[dict[str, Any]]
) -> None:
    called: list[str] = []

    async def handler(session: AgiSession) -> None:
        called.append(session.env.uniqueid)

    server = await start_server(router_with(handler))
    peer = await asterisk.connect(server.port)
    peer.writer.write(data)
    peer.writer.write_eof()
    await peer.expect_closed()
    warnings = [e for e in captured_logs if e["event"] == "agi_bad_environment"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"
    assert server.stats.errors_total == {"environment": 1} and called == []
    # The server still serves the next call.
    peer = await asterisk.connect(server.port, env_block())
    assert await peer.finish() == [status_line(STATUS_OK)]


async def test_silent_peer_times_out_on_the_environment(start_server: Any, asterisk: Any) -> None:
    server = await start_server(AgiRouter(), environment_timeout=0.1)
    peer = await asterisk.connect(server.port, b"agi_network: yes\n")
    await peer.expect_closed(within=2.0)
    assert server.stats.errors_total == {"environment": 1}


async def test_non_utf8_header_reaches_the_handler_replaced(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    names: list[str | None] = []

    async def handler(session: AgiSession) -> None:
        names.append(session.env.calleridname)

    server = await start_server(router_with(handler))
    env = env_block().replace(b"Dewi Lestari", b"Dewi \xffLestari")
    peer = await asterisk.connect(server.port, env)
    await peer.finish()
    assert names == ["Dewi \ufffdLestari"]


async def test_pbx_comes_from_query_then_peer_lookup_then_unknown(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    pbxs: list[str] = []

    async def handler(session: AgiSession) -> None:
        pbxs.append(session.pbx)

    def broken_lookup(ip: str) -> str:
        raise KeyError(ip)

    plain = await start_server(router_with(handler))
    lookup = await start_server(router_with(handler), pbx_for_peer={"127.0.0.1": "yogya1"}.__getitem__)
    broken = await start_server(router_with(handler), pbx_for_peer=broken_lookup)
    for port, script in [
        (lookup.port, "ivr/main?pbx=jkt1"),
        (lookup.port, "ivr/main"),
        (plain.port, "ivr/main"),
        (broken.port, "ivr/main"),
    ]:
        await (await asterisk.connect(port, env_block(script))).finish()
    assert pbxs == ["jkt1", "yogya1", "unknown", "unknown"]


async def test_deadline_is_per_command_not_per_session(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    outcome: list[str] = []

    async def handler(session: AgiSession) -> None:
        await session.verbose("one")  # answered after 0.3 s of its 0.6 s; the session timer is at 0.6
        await session.verbose("two")  # answered at 0.75: the timer fires at 0.6 mid-wait and re-arms to 0.9
        outcome.append("both answered")
        try:
            await session.command("NOOP", reply_timeout=0.05)  # a shorter deadline re-arms earlier
        except AgiTimeout:
            outcome.append("noop timed out")
            raise

    server = await start_server(router_with(handler), command_timeout=0.6)
    peer = await asterisk.connect(server.port, env_block())
    for delay in (0.3, 0.45):
        await peer.read_command()
        await asyncio.sleep(delay)
        await peer.send(OK)
    assert await peer.read_command() == b"NOOP\n"
    await peer.expect_closed(within=2.0)
    assert outcome == ["both answered", "noop timed out"]


async def test_two_tasks_sharing_a_session_are_refused(
    start_server: Any, asterisk: Any, env_block: Any
) -> None:
    errors: list[BaseException] = []

    async def handler(session: AgiSession) -> None:
        first = asyncio.create_task(session.answer())
        await asyncio.sleep(0)
        try:
            await session.verbose("meanwhile")
        except RuntimeError as exc:
            errors.append(exc)
        await first

    server = await start_server(router_with(handler))
    peer = await asterisk.connect(server.port, env_block())
    assert await peer.converse([(b"ANSWER\n", b"200 result=0\n")]) == [b"ANSWER\n", status_line(STATUS_OK)]
    assert len(errors) == 1 and "one at a time" in str(errors[0])
