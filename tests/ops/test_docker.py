"""docker/: the image is sane and the compose file wires the shipped config (no engine needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline import config

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    steps = _instructions(DOCKER / "Dockerfile")
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] not in {"root", "0", "0:0"}
    health = [args for word, args in steps if word == "HEALTHCHECK"]
    assert len(health) == 1 and "/health" in health[0]
    exposed = {port for word, args in steps if word == "EXPOSE" for port in args.split()}
    assert exposed == {"4573", "8080"}
    # The last USER comes after the last RUN: nothing runs as root once the user is set.
    last_user = max(i for i, (word, _) in enumerate(steps) if word == "USER")
    assert all(word != "RUN" for word, _ in steps[last_user:])


@pytest.mark.parametrize("name", ["Dockerfile", "asterisk.Dockerfile"])
def test_dockerfile_copies_what_exists(name: str) -> None:
    for word, args in _instructions(DOCKER / name):
        if word == "COPY" and not args.startswith("--from="):
            sources = args.split()[:-1]
            for source in sources:
                if source != "README.md":  # written at release time; pyproject names it as the readme
                    assert (REPO / source).exists(), source


def test_asterisk_image_adds_the_prompts_and_the_fallback_script() -> None:
    steps = _instructions(DOCKER / "asterisk.Dockerfile")
    froms = [args for word, args in steps if word == "FROM"]
    assert froms == ["python:3.11-slim AS prompts", "${ASTERISK_IMAGE}"]
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "espeak-ng" in runs and "sox" in runs and "scripts/make_prompts.py --out /sounds" in runs
    copies = [args for word, args in steps if word == "COPY"]
    assert "--from=prompts /sounds/ /var/lib/asterisk/sounds/" in copies
    assert "scripts/hotline-fallback.agi /var/lib/asterisk/agi-bin/hotline-fallback.agi" in copies
    # The generator imports only the catalogue: a stand-alone copy of it must be enough.
    generator = (REPO / "scripts" / "make_prompts.py").read_text(encoding="utf-8")
    hotline_imports = re.findall(r"^(?:from|import) (ivr|hotline|cti|recording)\S*.*$", generator, re.M)
    assert hotline_imports == ["ivr"]
    assert "from ivr.prompts import CATALOGUE" in generator
    catalogue = (REPO / "ivr" / "prompts.py").read_text(encoding="utf-8")
    assert not re.findall(r"^(?:from|import) (?:ivr|hotline|cti|recording)\b", catalogue, re.M)


def test_compose_wires_asterisk_hotline_and_postgres() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"asterisk", "hotline", "postgres"}
    asterisk, hotline = services["asterisk"], services["hotline"]
    assert "asterisk" in asterisk["image"] and ":22" in asterisk["image"]
    assert asterisk["build"]["dockerfile"] == "docker/asterisk.Dockerfile"
    assert ":22" in asterisk["build"]["args"]["ASTERISK_IMAGE"]
    assert "HOTLINE_SAPA_DID" in asterisk["environment"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in asterisk["volumes"]}
    assert mounts["/etc/asterisk"] == "../asterisk-config"
    assert mounts["/etc/asterisk/hotline-dialplans"] == "../dialplans"
    for service in ("asterisk", "hotline"):
        for volume in services[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).resolve().exists(), f"{service}: {source} does not exist"
            else:
                assert source in compose["volumes"], f"{service}: undeclared volume {source}"
    # One recordings volume, at the same path in both containers.
    recordings = {
        v.split(":")[1] for s in (asterisk, hotline) for v in s["volumes"] if v.startswith("recordings:")
    }
    assert recordings == {"/var/spool/asterisk/monitor"}
    assert hotline["build"]["dockerfile"] == "docker/Dockerfile"
    assert hotline["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_config_for_hotline_loads() -> None:
    loaded = config.load_file(DOCKER / "hotline.toml")
    assert [p.name for p in loaded.pbx] == ["jakarta"]
    assert (loaded.agi.host, loaded.agi.port) == ("127.0.0.1", 4573)
