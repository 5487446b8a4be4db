"""No secret and no full customer number in a log line; config precedence and errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hotline import config, logs


def test_secret_never_shows_in_repr_or_str() -> None:
    cfg = config.from_mapping({"pbx": [{"name": "jakarta", "site": "jakarta", "ami_secret": "s3cr3t-jkt"}]})
    assert "s3cr3t-jkt" not in repr(cfg)
    assert "s3cr3t-jkt" not in str(cfg.pbx[0])
    assert cfg.pbx[0].ami_secret.reveal() == "s3cr3t-jkt"


def test_log_lines_mask_secrets_and_customer_numbers() -> None:
    stream = io.StringIO()
    logs.configure("debug", "json", stream)
    log = logs.get_logger("test")
    with logs.bind_call("jakarta", "1795514646.0", "1795514646.0"):
        log.info("call", caller="081234567890", secret="s3cr3t", token="abc.def.ghi", queue="cc-informasi")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["caller"] == "********7890"
    assert line["secret"] == "***" and line["token"] == "***"
    assert (line["pbx"], line["uniqueid"], line["linkedid"]) == ("jakarta", "1795514646.0", "1795514646.0")
    assert "081234567890" not in stream.getvalue() and "s3cr3t" not in stream.getvalue()


def test_stdlib_logs_are_json_lines_too() -> None:
    import logging

    stream = io.StringIO()
    logs.configure("info", "json", stream)
    logging.getLogger("aiohttp.server").warning("something odd")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["event"] == "something odd" and line["logger"] == "aiohttp.server"


@pytest.mark.parametrize(
    ("number", "masked"), [("", ""), ("123", "***"), ("1234", "****"), ("08121", "*8121")]
)
def test_mask_number(number: str, masked: str) -> None:
    assert logs.mask_number(number) == masked


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text('[agi]\nport = 4600\n[http]\nport = 8100\n[[pbx]]\nname = "jakarta"\nsite = "jakarta"\n')
    env = {
        "HOTLINE_HTTP_PORT": "8200",
        "HOTLINE_PBX_JAKARTA_AMI_SECRET": "from-env",
        "HOTLINE_DB": "sqlite:///x.db",
    }
    cfg = config.load(path, env=env, overrides={"http.port": 8300, "agi.host": None})
    assert cfg.agi.port == 4600  # file over default
    assert cfg.http.port == 8300  # flag over env over file
    assert cfg.agi.host == "127.0.0.1"  # a flag not given changes nothing
    assert cfg.pbx[0].ami_secret.reveal() == "from-env"
    assert cfg.store.url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nosuch": {}}, "unknown section"),
        ({"agi": {"prot": 1}}, "unknown key 'prot'"),
        ({"agi": {"port": "many"}}, "bad value"),
        ({"log": {"format": "xml"}}, "must be one of"),
        ({"pbx": [{"name": "a"}]}, "site is required"),
        ({"pbx": [{"name": "a", "site": "x"}, {"name": "a", "site": "y"}]}, "share a name"),
        ({"pbx": {"name": "a"}}, "array of tables"),
    ],
)
def test_config_errors_say_what_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(config.ConfigError, match=message):
        config.from_mapping(data)
