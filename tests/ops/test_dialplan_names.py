"""The shipped dialplans and hotline/names.py agree on every shared name."""

from __future__ import annotations

import re

from hotline import names

from .conftest import REPO, ConfFile, Step

_AGI_URL = re.compile(r"agi://(?P<host>[^/,)]+)/(?P<script>[^,)?]+)")
_HOTLINE_VAR = re.compile(r"\bHOTLINE_[A-Z0-9_]+\b")
_QUEUE_COMPARED = re.compile(r'"\$\{HOTLINE_QUEUE\}"\s*!?=\s*"(?P<queue>[^"$]+)"')
_QUEUE_SET = re.compile(r"^HOTLINE_QUEUE=(?P<queue>[^$]+)$")


def _globals(asterisk_confs: dict[str, ConfFile]) -> set[str]:
    return {item.key for s in asterisk_confs["extensions.conf"].named("globals") for item in s.items}


def _queues_conf(asterisk_confs: dict[str, ConfFile]) -> set[str]:
    return {s.name for s in asterisk_confs["queues.conf"].concrete() if s.name != "general"}


def _queues_named(steps: list[Step]) -> set[str]:
    """Queue names written literally in the dialplan (Queue(), Set(HOTLINE_QUEUE=), comparisons)."""
    found: set[str] = set()
    for step in steps:
        if step.app == "Queue" and not step.args.startswith("$"):
            found.add(step.args.split(",")[0])
        if step.app == "Set" and (m := _QUEUE_SET.match(step.args)):
            found.add(m["queue"])
        found.update(m["queue"] for m in _QUEUE_COMPARED.finditer(step.args))
    return found


_CLASSIC_FALLBACK = "hotline-fallback.agi"


def test_every_agi_script_has_a_route(steps: list[Step]) -> None:
    fast = [s for s in steps if s.app == "AGI" and not s.args.startswith(_CLASSIC_FALLBACK)]
    assert fast, "the dialplan runs no FastAGI at all"
    assert all(_AGI_URL.search(s.args) for s in fast), "every hotline AGI() is a FastAGI agi:// URL"
    scripts = {m["script"] for s in fast for m in _AGI_URL.finditer(s.args)}
    assert scripts == set(names.ALL_AGI_SCRIPTS), scripts ^ set(names.ALL_AGI_SCRIPTS)


def test_the_only_classic_agi_is_the_shipped_fallback_script(steps: list[Step]) -> None:
    classic = [s for s in steps if s.app == "AGI" and not s.args.startswith("agi://")]
    assert [s.args.split(",")[0] for s in classic] == [_CLASSIC_FALLBACK]
    assert (REPO / "scripts" / _CLASSIC_FALLBACK).is_file()


def test_agi_address_comes_from_globals(steps: list[Step], asterisk_confs: dict[str, ConfFile]) -> None:
    hosts = {m["host"] for s in steps if s.app == "AGI" for m in _AGI_URL.finditer(s.args)}
    assert hosts == {"${HOTLINE_AGI_HOST}:${HOTLINE_AGI_PORT}"}
    assert {"HOTLINE_AGI_HOST", "HOTLINE_AGI_PORT"} <= _globals(asterisk_confs)


def test_every_hotline_variable_is_named(steps: list[Step], asterisk_confs: dict[str, ConfFile]) -> None:
    used = {v for s in steps for v in _HOTLINE_VAR.findall(f"{s.app}({s.args})")}
    known = set(names.ALL_VARIABLES) | _globals(asterisk_confs)
    assert used - known == set(), f"HOTLINE_* names missing from hotline/names.py: {sorted(used - known)}"
    # The names the IVR and the queue entry live on must really be used.
    assert {names.VAR_QUEUE, names.VAR_STATUS, names.VAR_SITE} <= used


def test_every_queue_named_exists(steps: list[Step], asterisk_confs: dict[str, ConfFile]) -> None:
    named = _queues_named(steps)
    assert named, "the dialplan names no queue"
    assert named <= _queues_conf(asterisk_confs), named - _queues_conf(asterisk_confs)
    assert named <= set(names.ALL_QUEUES)


def test_queues_conf_has_exactly_the_named_queues(asterisk_confs: dict[str, ConfFile]) -> None:
    assert _queues_conf(asterisk_confs) == set(names.ALL_QUEUES)


def test_failed_ivr_falls_back_to_the_fallback_queue(steps: list[Step]) -> None:
    result = [s for s in steps if s.context == "hotline-ivr-result"]
    text = "\n".join(f"{s.app}({s.args})" for s in result)
    assert '"${AGISTATUS}" != "SUCCESS"' in text
    assert f'"${{{names.VAR_STATUS}}}" != "{names.STATUS_OK}"' in text
    static = [s.args for s in result if s.app == "Set" and s.args.startswith(f"{names.VAR_QUEUE}=")]
    assert static == [
        f"{names.VAR_QUEUE}={names.FALLBACK_QUEUE}",
        f"{names.VAR_QUEUE}={names.QUEUE_SAPA_HELPDESK}",
        f"{names.VAR_QUEUE}={names.QUEUE_PEMBAYARAN}",
    ]
    assert any(s.app == "Playback" for s in result), "the caller hears an apology first"
    # Every FastAGI entry goes through the result check before the queue.
    for entry in ("main", "sapa", "payment"):
        apps = [(s.app, s.args) for s in steps if s.context == "hotline-ivr" and s.exten == entry]
        agi_at = next(i for i, (app, _) in enumerate(apps) if app == "AGI")
        assert apps[agi_at + 1] == ("Gosub", f"hotline-ivr-result,s,1({entry})"), entry


def test_queue_calls_are_recorded_and_stopped(steps: list[Step]) -> None:
    queue_ctx = [s for s in steps if s.context == "hotline-queue"]
    mixmonitor = [s.args for s in queue_ctx if s.app == "MixMonitor"]
    assert mixmonitor == ["${HOTLINE_SITE}/${STRFTIME(${EPOCH},,%Y/%m/%d)}/${UNIQUEID}.wav,b"]
    assert [s.args for s in queue_ctx if s.app == "Queue"] == ["${HOTLINE_QUEUE},t,,,300"]
    assert any("StopMixMonitor" in s.args for s in queue_ctx if s.exten == "h")
    # Queue() is never called outside the queue entry, so every queue call is recorded.
    assert all(s.context == "hotline-queue" for s in steps if s.app == "Queue")


def test_hotline_number_reaches_the_ivr(steps: list[Step]) -> None:
    entry = [s for s in steps if s.context == "from-provider" and s.exten == "1500569"]
    assert [(s.app, s.args) for s in entry] == [("Goto", "hotline-ivr,main,1")]


def test_every_goto_and_include_target_exists(steps: list[Step], dialplan_files: list[ConfFile]) -> None:
    contexts = {s.context for s in steps} | {sec.name for f in dialplan_files for sec in f.sections}
    extens = {(s.context, s.exten) for s in steps}
    labels = {(s.context, s.exten, s.label) for s in steps if s.label}
    for step in steps:
        targets = []
        if step.app == "Goto":
            targets = [step.args]
        elif step.app == "GotoIf":
            targets = [t for t in step.args.split("?", 1)[1].split(":") if t]
        for target in targets:
            # Goto([[context,]extension,]priority), as Asterisk reads it.
            parts = target.split(",")
            assert 1 <= len(parts) <= 3, f"line {step.line}: unreadable Goto target {target!r}"
            context, exten, priority = [step.context, step.exten][: 3 - len(parts)] + parts
            assert context in contexts, f"line {step.line}: no context {context}"
            assert (context, exten) in extens, f"line {step.line}: no extension {exten}@{context}"
            if not priority.isdigit():
                assert (context, exten, priority) in labels, f"line {step.line}: no label {priority}"
    for conf in dialplan_files:
        for section in conf.sections:
            for included in section.values("include"):
                assert included in contexts, f"{section.name} includes unknown context {included}"


def test_manager_channelvars_are_named(asterisk_confs: dict[str, ConfFile]) -> None:
    general = asterisk_confs["manager.conf"].named("general")[0]
    channelvars = set((general.get("channelvars") or "").split(","))
    assert channelvars <= set(names.ALL_VARIABLES)
    # What the screen-pop shows: the IVR path and choice, and on the SAPA line the outlet.
    assert {names.VAR_IVR_CHOICE, names.VAR_IVR_PATH, names.VAR_OUTLET_CODE} <= channelvars
