"""One typed configuration object.

Sources, lowest precedence first: the defaults below, a TOML file (``--config``),
the environment (``HOTLINE_*``), then command-line flags. ``hotline.example.toml``
documents every key. Secrets are wrapped in :class:`Secret` so that printing or
logging a config never shows them.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


class ConfigError(ValueError):
    """A configuration value a user gave is wrong; the message says which and why."""


class Secret:
    """A string that never shows itself in repr/str (so never in a log line)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class PbxConfig:
    """One Asterisk (one per site): where its AMI is and how to log in."""

    name: str
    site: str
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "hotline"
    ami_secret: Secret = field(default_factory=lambda: Secret(""))
    ami_auth: Literal["plain", "md5"] = "md5"
    ami_timeout: float = 10.0
    """Seconds an action may wait for its response."""
    ami_ping_interval: float = 5.0
    """Seconds between keepalive Pings; a Ping unanswered for ami_timeout marks the link dead."""
    ami_reconnect_max: float = 30.0
    """Upper bound of the reconnect backoff, seconds."""
    queue_log_path: str = ""
    """This PBX's queue_log as hotline sees it; calls that ended while the AMI link was down are
    completed from it (its rotations ``<file>.<n>`` are read too). Empty: none."""
    cdr_csv_path: str = ""
    """cdr_csv's Master.csv (cdr.conf loguniqueid = yes), used when queue_log cannot tell. Empty: none."""
    cdr_timezone: str = ""
    """Zone of Master.csv's dates (cdr.conf usegmtime = no: the PBX's local zone, e.g. Asia/Jakarta;
    yes: UTC). Empty: the hotline host's local zone."""


@dataclass(frozen=True)
class AgiConfig:
    host: str = "127.0.0.1"
    port: int = 4573
    command_timeout: float = 30.0
    """Seconds one AGI command may take before the session is given up."""


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class StoreConfig:
    url: str = "sqlite+aiosqlite:///var/hotline.db"
    batch_size: int = 2000
    """Events written per transaction at most."""
    flush_interval: float = 0.05
    """Seconds the event log waits to fill a batch before writing what it has."""
    spool_dir: str = "var/spool"
    """Where AMI events are spilled (fsynced JSON lines) while the database is down; replayed after."""


@dataclass(frozen=True)
class LogConfig:
    format: Literal["auto", "json", "console"] = "auto"
    """auto: readable in a terminal, JSON lines otherwise."""
    level: str = "info"


@dataclass(frozen=True)
class KpiConfig:
    timezone: str = "Asia/Jakarta"
    service_level_seconds: int = 20
    short_abandon_seconds: int = 5
    scr_target: float = 90.0
    aht_target: float = 450.0


@dataclass(frozen=True)
class CtiConfig:
    token_secret: Secret = field(default_factory=lambda: Secret(""))
    """HMAC key for CTI tokens; empty means a random key per process (tokens die with a restart)."""
    token_ttl: int = 12 * 3600
    pause_reasons: tuple[str, ...] = ("istirahat", "makan", "sholat", "toilet", "briefing", "pelatihan")
    """Reasons an agent may give for 'not ready' (QueuePause Reason; the KPIs report pause time by reason)."""
    dispositions: tuple[str, ...] = (
        "informasi",
        "pengaduan",
        "permintaan",
        "saran",
        "pembayaran",
        "salah-sambung",
        "lainnya",
    )
    """Call categories an agent files with a call (disposition)."""
    wrapup_s: int = 10
    """The queues' wrapuptime (queues.conf): seconds of wrap-up Asterisk gives after a queue call."""
    wrapup_pause: bool = False
    """After each queue call pause the agent with reason 'wrapup' until the agent ends wrap-up."""
    transfer_context: str = "from-agents"
    """Dialplan context of transfers and click-to-dial (the agents' context)."""
    broker: str = "memory"
    """Fan-out between hotline instances: memory (one instance), redis://host:port, nats://host:port."""
    replay_size: int = 200
    """Messages kept per agent for a client that reconnects with the last id it saw."""


@dataclass(frozen=True)
class EmulatorConfig:
    """The Asterisk 22 emulator used by ``hotline demo`` (never with a real PBX)."""

    calls_per_second: float = 0.5
    """New calls per emulated second."""
    agents: int = 67
    """Emulated agents (the contact center's 67 seats), members of every queue."""
    speed: float = 4.0
    """Emulated seconds per real second (4: 0.5 calls/s is 2 real calls per second)."""
    seed: int | None = None


@dataclass(frozen=True)
class SpeechConfig:
    """Speech input in the IVR main menu: vosk, with the caller's audio streamed by AudioSocket."""

    enabled: bool = False
    model_path: str = ""
    """Folder of a vosk model; empty means no speech (the menus take keys only)."""
    min_confidence: float = 0.6
    """A phrase heard with less confidence (0..1) is ignored and the menu asks for a key."""
    audiosocket_host: str = "127.0.0.1"
    """Where hotline's AudioSocket server listens (0.0.0.0 for an Asterisk on another host)."""
    audiosocket_port: int = 9019
    audiosocket_address: str = ""
    """host:port Asterisk connects to; empty means audiosocket_host:audiosocket_port."""
    listen_timeout_s: float = 4.0
    """Seconds of caller audio one listening turn takes at most."""


@dataclass(frozen=True)
class RecordingConfig:
    """Call recordings: where each PBX's MixMonitor writes, where hotline archives, how long it keeps them."""

    spool_dirs: str = "/var/spool/asterisk/monitor"
    """MixMonitor's folder as hotline sees it: one path for every PBX, or ``<pbx>=<path>,...``."""
    archive_dir: str = "var/recordings"
    """Where finished recordings are kept, as ``<site>/<YYYY>/<MM>/<DD>/<call id>/``."""
    retention_days: int = 365
    retention_per_queue: str = ""
    """``<queue>=<days>,...``: queues kept longer or shorter than ``retention_days``."""
    formats: str = "mp3,opus"
    """Formats a recording may be downloaded as besides its original (transcoded by ffmpeg)."""
    cache_dir: str = "var/recordings-cache"
    """Transcoded copies and ZIP exports (safe to empty)."""
    settle_s: float = 2.0
    """A file whose size has not changed for this long after the call ended is finished."""
    missing_grace_s: float = 120.0
    """A file still absent this long after the call ended is flagged missing."""
    scan_interval_s: float = 1.0
    export_max: int = 2000
    """Most recordings one ZIP export may hold."""


@dataclass(frozen=True)
class QcConfig:
    """Quality control of recorded calls: the daily sample, the scoring form, calibration (docs/qc.md)."""

    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    """Days a sample is drawn; each covers the calls since the previous working day (kpi.timezone)."""
    sample_time: str = "06:00"
    """Local time the day's sample is drawn by the running service."""
    auto_sample: bool = True
    samples_per_agent: int = 5
    peak_share: float = 0.5
    """Share of each agent's sample drawn from peak intervals (the rest from off-peak)."""
    peak_traffic_share: float = 0.5
    """Peak = the busiest intervals of the day that together carry this share of the offered calls."""
    interval_minutes: int = 60
    traffic_days: int = 28
    """Days of queue traffic the peak intervals are computed from."""
    seed: int = 0
    criteria: tuple[str, ...] = (
        "greeting=10",
        "identification=15",
        "needs=15",
        "accuracy=25",
        "empathy=15",
        "closing=10",
        "cross_selling=10",
    )
    """The scoring form: ``<criterion>=<weight>``, in the order shown."""
    target: float = 90.0
    calibration_share: float = 0.10
    """Share of each team leader's scored calls that QC scores again."""


@dataclass(frozen=True)
class CoreSystemConfig:
    """Pegadaian's core system (customer lookup, verification, bill, payment); contract in
    docs/core-system.openapi.json. An empty base_url means not configured: the IVR still routes
    every caller to an agent, it only skips identification and payment."""

    base_url: str = ""
    timeout_s: float = 3.0
    """Seconds one attempt may take; a caller is waiting on the line."""
    retries: int = 2
    """Extra attempts for idempotent calls (reads, and payments with their idempotency key)."""
    backoff_s: float = 0.2
    backoff_max_s: float = 1.0
    api_key: Secret = field(default_factory=lambda: Secret(""))
    """Sent as X-API-Key (better from HOTLINE_CORE_SYSTEM_API_KEY)."""
    breaker_failures: int = 5
    """Consecutive failures that open the circuit (calls then fail fast)."""
    breaker_reset_s: float = 30.0
    """Seconds an open circuit waits before one probe."""
    max_connections: int = 1000
    """HTTP connections to the core system at most; a request beyond them waits within its timeout."""


@dataclass(frozen=True)
class TicketingConfig:
    """The Jira-based ticketing system "Ariana" (REST API v2); docs/ticketing.md. Empty base_url:
    not configured (complaints still reach an agent, no ticket is opened)."""

    base_url: str = ""
    project_key: str = "ARN"
    issue_type: str = "Pengaduan"
    auth: Literal["bearer", "basic"] = "bearer"
    username: str = ""
    token: Secret = field(default_factory=lambda: Secret(""))
    """Bearer token or API token (better from HOTLINE_TICKETING_TOKEN)."""
    timeout_s: float = 5.0
    retries: int = 2
    backoff_s: float = 0.2
    backoff_max_s: float = 1.0
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0


@dataclass(frozen=True)
class Config:
    pbx: tuple[PbxConfig, ...] = ()
    agi: AgiConfig = AgiConfig()
    http: HttpConfig = HttpConfig()
    store: StoreConfig = StoreConfig()
    log: LogConfig = LogConfig()
    kpi: KpiConfig = KpiConfig()
    cti: CtiConfig = CtiConfig()
    emulator: EmulatorConfig = EmulatorConfig()
    speech: SpeechConfig = SpeechConfig()
    recording: RecordingConfig = RecordingConfig()
    qc: QcConfig = QcConfig()
    core_system: CoreSystemConfig = CoreSystemConfig()
    ticketing: TicketingConfig = TicketingConfig()

    def pbx_named(self, name: str) -> PbxConfig:
        for pbx in self.pbx:
            if pbx.name == name:
                return pbx
        raise ConfigError(
            f"no [[pbx]] named {name!r} (known: {', '.join(p.name for p in self.pbx) or 'none'})"
        )


_SECTIONS: dict[str, type[Any]] = {
    "agi": AgiConfig,
    "http": HttpConfig,
    "store": StoreConfig,
    "log": LogConfig,
    "kpi": KpiConfig,
    "cti": CtiConfig,
    "emulator": EmulatorConfig,
    "speech": SpeechConfig,
    "recording": RecordingConfig,
    "qc": QcConfig,
    "core_system": CoreSystemConfig,
    "ticketing": TicketingConfig,
}


def _coerce(cls: type[Any], key: str, raw: Any, where: str) -> Any:
    """Turn a TOML/env value into the field's type, or say clearly why not."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if key not in fields:
        raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(fields))})")
    spec = fields[key]
    default: Any = spec.default
    if default is dataclasses.MISSING:
        factory = spec.default_factory
        default = factory() if callable(factory) else None
    type_name = str(fields[key].type)
    try:
        if isinstance(default, Secret) or "Secret" in type_name:
            return raw if isinstance(raw, Secret) else Secret(str(raw))
        if isinstance(default, tuple):
            # A TOML array of strings, or "a,b,c" in the environment.
            items = raw.split(",") if isinstance(raw, str) else raw
            if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
                raise ValueError(raw)
            return tuple(i.strip() for i in items if i.strip())
        if isinstance(default, bool):
            if isinstance(raw, str):
                if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError(raw)
                return raw.lower() in {"1", "true", "yes"}
            return bool(raw)
        if (isinstance(default, int) and "float" not in type_name) or type_name in {"int", "int | None"}:
            if (raw is None or raw == "") and "None" in type_name:
                return None
            return int(raw)
        if isinstance(default, float) or "float" in type_name:
            return float(raw)
        if "Literal" in type_name:
            allowed = [a.strip().strip("'\"") for a in type_name.split("[", 1)[1].rstrip("]").split(",")]
            if str(raw) not in allowed:
                raise ConfigError(f"{where}: {key} must be one of {', '.join(allowed)}, not {raw!r}")
            return str(raw)
        return str(raw)
    except ConfigError:
        raise
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key} has a bad value {raw!r}") from None


def _section(cls: type[Any], data: Mapping[str, Any], where: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table")
    return cls(**{k: _coerce(cls, k, v, where) for k, v in data.items()})


def _pbx(data: Mapping[str, Any], index: int) -> PbxConfig:
    where = f"[[pbx]] #{index + 1}"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table")
    for required in ("name", "site"):
        if not data.get(required):
            raise ConfigError(f"{where}: {required} is required")
    pbx: PbxConfig = _section(PbxConfig, data, where)
    return pbx


def from_mapping(data: Mapping[str, Any]) -> Config:
    """Build a config from a parsed TOML document (unknown keys are errors, not silently ignored)."""
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "pbx":
            if not isinstance(value, list):
                raise ConfigError("pbx must be an array of tables: [[pbx]]")
            kwargs["pbx"] = tuple(_pbx(item, i) for i, item in enumerate(value))
        elif key in _SECTIONS:
            kwargs[key] = _section(_SECTIONS[key], value, f"[{key}]")
        else:
            raise ConfigError(f"unknown section {key!r} (known: pbx, {', '.join(_SECTIONS)})")
    names = [p.name for p in kwargs.get("pbx", ())]
    if len(names) != len(set(names)):
        raise ConfigError("two [[pbx]] entries share a name")
    return Config(**kwargs)


def load_file(path: str | Path) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return from_mapping(data)


def apply_env(config: Config, env: Mapping[str, str] | None = None) -> Config:
    """Override with HOTLINE_<SECTION>_<KEY> variables; HOTLINE_DB is a short form of the store URL.

    PBX entries are addressed by name: HOTLINE_PBX_<NAME>_AMI_SECRET=... (name upper-cased,
    '-' as '_').
    """
    env = os.environ if env is None else env
    result = config
    if env.get("HOTLINE_DB"):
        result = dataclasses.replace(result, store=dataclasses.replace(result.store, url=env["HOTLINE_DB"]))
    for section, cls in _SECTIONS.items():
        current = getattr(result, section)
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            var = f"HOTLINE_{section.upper()}_{f.name.upper()}"
            if var in env:
                changes[f.name] = _coerce(cls, f.name, env[var], var)
        if changes:
            result = dataclasses.replace(result, **{section: dataclasses.replace(current, **changes)})
    pbxs = []
    for pbx in result.pbx:
        prefix = f"HOTLINE_PBX_{pbx.name.upper().replace('-', '_')}_"
        changes = {}
        for f in dataclasses.fields(PbxConfig):
            var = prefix + f.name.upper()
            if var in env and f.name != "name":
                changes[f.name] = _coerce(PbxConfig, f.name, env[var], var)
        pbxs.append(dataclasses.replace(pbx, **changes) if changes else pbx)
    return dataclasses.replace(result, pbx=tuple(pbxs))


def with_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    """Apply CLI flags given as 'section.key' -> value (None means 'flag not given')."""
    result = config
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, key = dotted.split(".", 1)
        cls = _SECTIONS[section]
        current = getattr(result, section)
        new = dataclasses.replace(current, **{key: _coerce(cls, key, value, f"--{key}")})
        result = dataclasses.replace(result, **{section: new})
    return result


def load(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults < TOML file < environment < CLI flags."""
    config = load_file(path) if path else Config()
    if path is None and (env or os.environ).get("HOTLINE_CONFIG"):
        config = load_file((env or os.environ)["HOTLINE_CONFIG"])
    config = apply_env(config, env)
    return with_overrides(config, overrides or {})
