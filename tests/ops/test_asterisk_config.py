"""The shipped Asterisk 22 config files read as Asterisk reads them and refer to each other rightly."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from .conftest import (
    ASTERISK_CONFIG,
    DIALPLANS,
    ConfFile,
    ConfSyntaxError,
    dialplan_steps,
    parse_conf,
    resolved,
)

# Files in which a section name may repeat: pjsip objects of different types
# share a name (endpoint, aor and auth "1001"); extensions.conf merges contexts.
_REPEATABLE = {"pjsip.conf", "extensions.conf"}
_EVENTFILTER = re.compile(
    r"^eventfilter\((?:action\((?:include|exclude)\)|name\(\w+\)|header\([\w-]+\)"
    r"|method\((?:regex|exact|starts_with|ends_with|contains|none)\))"
    r"(?:,(?:action\((?:include|exclude)\)|name\(\w+\)|header\([\w-]+\)"
    r"|method\((?:regex|exact|starts_with|ends_with|contains|none)\)))*\)$"
)
_EXPECTED_FILES = {
    "extensions.conf",
    "pjsip.conf",
    "queues.conf",
    "manager.conf",
    "cdr.conf",
    "cdr_manager.conf",
    "cel.conf",
    "logger.conf",
    "modules.conf",
    "musiconhold.conf",
    "features.conf",
    "rtp.conf",
}


def test_every_file_we_promise_is_shipped(asterisk_confs: dict[str, ConfFile]) -> None:
    assert set(asterisk_confs) >= _EXPECTED_FILES


@pytest.mark.parametrize(
    "path", sorted(ASTERISK_CONFIG.glob("*.conf")) + sorted(DIALPLANS.glob("*.conf")), ids=lambda p: p.name
)
def test_file_parses_without_duplicate_sections(path: Path) -> None:
    conf = parse_conf(path)
    if path.name == "pjsip.conf":
        keyed = Counter((s.name, resolved(conf, s, "type")) for s in conf.concrete())
    elif path.name in _REPEATABLE or path.parent == DIALPLANS:
        return
    else:
        keyed = Counter((s.name, None) for s in conf.sections)
    assert [k for k, n in keyed.items() if n > 1] == []


def test_reader_rejects_what_asterisk_would_misread(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conf"
    for text in ("key = value\n", "[general\n", "[general]\njust words\n", "#inclde x.conf\n"):
        bad.write_text(text)
        with pytest.raises(ConfSyntaxError):
            parse_conf(bad)
    bad.write_text("[a]\nexten => s,1,Log(NOTICE,x\n")
    with pytest.raises(ConfSyntaxError):
        dialplan_steps(parse_conf(bad))


def test_extensions_conf_includes_the_dialplans(asterisk_confs: dict[str, ConfFile]) -> None:
    includes = asterisk_confs["extensions.conf"].includes
    shipped = {f"hotline-dialplans/{p.name}" for p in DIALPLANS.glob("*.conf")}
    assert set(includes) == shipped


def test_pjsip_references_resolve(
    asterisk_confs: dict[str, ConfFile], dialplan_files: list[ConfFile]
) -> None:
    conf = asterisk_confs["pjsip.conf"]
    by_type: dict[str, set[str]] = {}
    for section in conf.concrete():
        kind = resolved(conf, section, "type")
        assert kind, f"[{section.name}] line {section.line} has no type"
        by_type.setdefault(kind, set()).add(section.name)
    contexts = {s.name for f in dialplan_files for s in f.sections}
    for section in conf.concrete():
        kind = resolved(conf, section, "type")
        if kind == "endpoint":
            assert resolved(conf, section, "context") in contexts, section.name
            assert resolved(conf, section, "transport") in by_type["transport"], section.name
            for aor in (resolved(conf, section, "aors") or "").split(","):
                assert aor in by_type["aor"], f"{section.name}: no aor {aor}"
            for auth in filter(None, (resolved(conf, section, "auth") or "").split(",")):
                assert auth in by_type["auth"], f"{section.name}: no auth {auth}"
        if kind == "identify":
            assert resolved(conf, section, "endpoint") in by_type["endpoint"], section.name
    for template in {t for s in conf.sections for t in s.templates}:
        assert any(s.is_template for s in conf.named(template)), f"no template [{template}](!)"
    # The agents of the brief and the trunk the dialplan dials out through.
    assert {"1001", "1002", "1003", "provider"} <= by_type["endpoint"]


def test_dialplan_dials_only_known_endpoints(asterisk_confs: dict[str, ConfFile], steps: list) -> None:
    conf = asterisk_confs["pjsip.conf"]
    endpoints = {s.name for s in conf.concrete() if resolved(conf, s, "type") == "endpoint"}
    for step in steps:
        if step.app == "Dial" and "@" in step.args:
            trunk = step.args.split(",")[0].split("@")[1]
            assert trunk in endpoints, f"line {step.line}: Dial through unknown endpoint {trunk}"


# Write classes each AMI action is registered with in Asterisk 22.10.1
# (ast_manager_register_xml*: main/manager.c, apps/app_queue.c,
# apps/app_mixmonitor.c, res/res_pjsip_notify.c). An action is allowed when the
# user holds ANY of them (manager.c: writeperm & authority); empty = any user.
_ACTION_CLASSES: dict[str, set[str]] = {
    "Login": set(),
    "Logoff": set(),
    "Ping": set(),
    "Events": set(),
    "QueueStatus": set(),
    "QueueSummary": set(),
    "QueueAdd": {"agent"},
    "QueueRemove": {"agent"},
    "QueuePause": {"agent"},
    "QueuePenalty": {"agent"},
    "QueueLog": {"agent"},
    "Originate": {"originate"},
    "Redirect": {"call"},
    "Atxfer": {"call"},
    "BlindTransfer": {"call"},
    "Hangup": {"system", "call"},
    "MixMonitorMute": {"system", "call"},
    "StopMixMonitor": {"system", "call"},
    "MixMonitor": {"system"},
    "Getvar": {"call", "reporting"},
    "Setvar": {"call"},
    "PlayDTMF": {"call"},
    "UserEvent": {"user"},
    "Status": {"system", "call", "reporting"},
    "CoreShowChannels": {"system", "reporting"},
    "PJSIPNotify": {"system"},
}
_SENT_ACTION = re.compile(r'(?:\baction|send_action)\(\s*(?:[\w.]+,\s*)?"(?P<action>[A-Z]\w+)"')
_PACKAGES = ("hotline", "ivr", "cti", "recording")


def _actions_hotline_sends() -> set[str]:
    found: set[str] = set()
    for package in _PACKAGES:
        for path in (ASTERISK_CONFIG.parent / package).rglob("*.py"):
            if "emulator" not in path.parts:
                found.update(m["action"] for m in _SENT_ACTION.finditer(path.read_text(encoding="utf-8")))
    return found


def test_manager_user_may_send_every_action_hotline_sends(asterisk_confs: dict[str, ConfFile]) -> None:
    user = asterisk_confs["manager.conf"].named("hotline")[0]
    write = set((user.get("write") or "").split(","))
    sent = _actions_hotline_sends() | {"MixMonitorMute", "QueueAdd", "QueueRemove", "QueuePause", "Originate"}
    unknown = sent - set(_ACTION_CLASSES)
    assert not unknown, f"look up the class of {sorted(unknown)} in Asterisk 22's source and add it above"
    for action in sorted(sent):
        classes = _ACTION_CLASSES[action]
        assert not classes or classes & write, f"manager.conf [hotline] write lacks {classes} for {action}"


def test_manager_user_is_minimal_and_filtered(asterisk_confs: dict[str, ConfFile]) -> None:
    conf = asterisk_confs["manager.conf"]
    user = conf.named("hotline")[0]
    read = set((user.get("read") or "").split(","))
    write = set((user.get("write") or "").split(","))
    assert not {"all", "command", "config", "dialplan"} & read
    # No CLI commands, no config edits; "system" only because PJSIPNotify needs it.
    assert not {"all", "command", "config", "dialplan"} & write
    assert "system" not in write or "PJSIPNotify" in _actions_hotline_sends()
    # The KPI projector and the CTI read these classes' events.
    assert {"call", "agent", "cdr", "system"} <= read
    assert user.get("permit") == "127.0.0.1/255.255.255.255"
    filters = [i for i in user.items if i.key.startswith("eventfilter")]
    assert filters, "no eventfilter"
    for item in filters:
        assert _EVENTFILTER.match(item.key), f"line {item.line}: not Asterisk 22 eventfilter syntax"
    excluded = {m for i in filters for m in re.findall(r"name\((\w+)\)", i.key) if "exclude" in i.key}
    assert "VarSet" in excluded
    # Only noise is dropped: never an event the KPIs, recordings or CTI are computed from.
    needed = {
        "Hangup",
        "HangupRequest",
        "SoftHangupRequest",
        "Hold",
        "Unhold",
        "MixMonitorStart",
        "MixMonitorStop",
        "MixMonitorMute",
        "Cdr",
        "BlindTransfer",
        "AttendedTransfer",
    }
    assert not excluded & needed
    assert not {e for e in excluded if e.startswith(("Queue", "Agent"))}
    assert not [i for i in filters if "include" in i.key], "an include filter would drop every other event"


def test_queue_log_is_written(asterisk_confs: dict[str, ConfFile]) -> None:
    general = asterisk_confs["logger.conf"].named("general")[0]
    assert general.get("queue_log") == "yes"
    assert asterisk_confs["cdr_manager.conf"].named("general")[0].get("enabled") == "yes"
    assert asterisk_confs["cel.conf"].named("manager")[0].get("enabled") == "yes"


def test_modules_conf_keeps_what_hotline_needs(asterisk_confs: dict[str, ConfFile]) -> None:
    modules = asterisk_confs["modules.conf"].named("modules")[0]
    assert modules.get("autoload") == "yes"
    noload = set(modules.values("noload"))
    needed = {
        "chan_pjsip.so",
        "res_pjsip.so",
        "app_queue.so",
        "res_agi.so",
        "app_mixmonitor.so",
        "cdr_manager.so",
        "cel_manager.so",
        "cdr_csv.so",
        "res_musiconhold.so",
        "pbx_config.so",
    }
    assert not needed & noload
    assert all(name.endswith(".so") for name in noload)
