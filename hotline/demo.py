"""``hotline demo``: hotline against the built-in Asterisk 22 emulator, with calls flowing.

The emulator is started first (its AMI port is a free one), then hotline with one
``[[pbx]]`` pointing at it, exactly as ``hotline serve`` would point at a real
Asterisk; then the emulator places calls that go through hotline's FastAGI IVR,
wait in queues and are answered by emulated agents. Every few seconds the log shows
the KPIs of what hotline has seen so far, and a CTI token for agent 1001 is printed
so a newcomer can watch screen-pops arrive on the websocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from pathlib import Path

from hotline.compose import Runtime, start_demo_simulators
from hotline.config import Config, PbxConfig, Secret
from hotline.emulator import AgentSpec, AsteriskEmulator, EmulatorSettings
from hotline.logs import get_logger
from hotline.tokens import issue_agent_token

log = get_logger("hotline.demo")

DEMO_AGENT_NAMES = (
    "Siti Rahma",
    "Budi Santoso",
    "Rina Wati",
    "Dewi Anggraini",
    "Agus Pratama",
    "Putri Ayu",
    "Hendra Gunawan",
    "Sri Mulyani",
    "Wahyu Nugroho",
    "Yusuf Hidayat",
    "Rudi Hartono",
    "Dewi Lestari",
)


def demo_agents(count: int) -> tuple[AgentSpec, ...]:
    """Agents 1001, 1002, ... with Indonesian names (the shipped pjsip.conf has the same extensions)."""
    return tuple(
        AgentSpec(str(1001 + i), DEMO_AGENT_NAMES[i % len(DEMO_AGENT_NAMES)]) for i in range(max(1, count))
    )


def retarget_agi(emulator: AsteriskEmulator, host: str, port: int) -> None:
    """Point the emulator's FastAGI client at hotline once hotline's port is known (port 0 in tests)."""
    settings = dataclasses.replace(emulator.settings, agi_host=host, agi_port=port)
    emulator.settings = settings
    emulator.core.settings = settings


def demo_spool(cfg: Config) -> str:
    """The emulated PBX's MixMonitor folder: beside the store's own spool (var/demo-monitor by default)."""
    return str(Path(cfg.store.spool_dir).parent / "demo-monitor")


def demo_queue_log(cfg: Config) -> str:
    """The emulated PBX's queue_log file: beside the store's spool (var/demo-queue_log by default).

    hotline reads it as a real PBX's queue_log (``queue_log_path``) to complete the calls that end
    while the AMI link is down.
    """
    return str(Path(cfg.store.spool_dir).parent / "demo-queue_log")


def _empty_file(path: Path) -> None:
    # A new emulated PBX each run: its queue_log starts empty rather than grow over every demo.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def demo_config(cfg: Config, ami_port: int, secret: str) -> Config:
    pbx = PbxConfig(
        name="demo-jakarta",
        site="jakarta",
        ami_host="127.0.0.1",
        ami_port=ami_port,
        ami_username="hotline",
        ami_secret=Secret(secret),
        ami_auth="md5",
        queue_log_path=demo_queue_log(cfg),
    )
    cti = cfg.cti
    if not cti.token_secret.reveal():
        # One key for the whole demo, so the token printed below verifies in the CTI feature.
        cti = dataclasses.replace(cti, token_secret=Secret(secrets.token_hex(16)))
    recording = dataclasses.replace(cfg.recording, spool_dirs=demo_spool(cfg))
    return dataclasses.replace(cfg, pbx=(pbx,), cti=cti, recording=recording)


async def start_demo(cfg: Config, *, speed: float | None = None) -> tuple[AsteriskEmulator, Runtime]:
    """The emulator and a running hotline wired to it (used by the demo and the end-to-end tests)."""
    secret = secrets.token_hex(12)
    queue_log = Path(demo_queue_log(cfg))
    await asyncio.to_thread(_empty_file, queue_log)
    emulator = AsteriskEmulator(
        EmulatorSettings(
            ami_port=0,
            ami_username="hotline",
            ami_secret=secret,
            agi_host=cfg.agi.host,
            agi_port=cfg.agi.port,
            speed=speed if speed is not None else cfg.emulator.speed,
            seed=cfg.emulator.seed,
            agents=demo_agents(cfg.emulator.agents),
            # The emulated MixMonitor writes a short WAV per answered call where hotline's
            # recording feature looks for it, so the demo's recordings are archived like real ones.
            recording_dir=demo_spool(cfg),
            recording_timezone=cfg.kpi.timezone,
            queue_log_path=str(queue_log),
        )
    )
    ami_port = await emulator.start()
    demo_cfg, stop_simulators = await start_demo_simulators(demo_config(cfg, ami_port, secret))
    runtime = Runtime(demo_cfg, on_stop=stop_simulators)
    try:
        await runtime.start()
    except BaseException:
        await emulator.stop()
        for step in stop_simulators:
            await step()
        raise
    retarget_agi(emulator, cfg.agi.host, runtime.agi_port)
    return emulator, runtime


DEMO_USERS = (
    ("1001", "agent", "A", "PJSIP/1001"),
    ("1002", "agent", "A", "PJSIP/1002"),
    ("1003", "agent", "A", "PJSIP/1003"),
    ("tl-a", "team_leader", "A", None),
    ("qc1", "qc", None, None),
)


async def ensure_demo_users(runtime: Runtime, password: str) -> None:
    """Agents 1001-1003 (team A), their team leader tl-a and a QC officer qc1, all with ``password``,
    so a newcomer can log in to /agent and /qc. Existing users just get the new password."""
    from hotline.auth.model import NewUser
    from hotline.auth.passwords import hash_password
    from hotline.auth.users import UserExists, create_user, set_password_hash

    pbx = runtime.config.pbx[0]
    names = {a.extension: a.name for a in demo_agents(len(DEMO_USERS))}
    for username, role, team, iface in DEMO_USERS:
        hashed = await asyncio.to_thread(hash_password, password)
        user = NewUser(
            username,
            names.get(username, username),
            role,
            team=team,
            site=pbx.site,
            iface=iface,
            pbx=pbx.name if iface else None,
        )
        try:
            await create_user(runtime.engine, user, hashed)
        except UserExists:
            await set_password_hash(runtime.engine, username, hashed)


async def _report_kpis(runtime: Runtime, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        kpis = runtime.live_kpis()
        log.info(
            "kpi",
            offered=kpis.get("offered"),
            answered=kpis.get("answered"),
            abandoned=kpis.get("abandoned"),
            scr=kpis.get("scr"),
            aht=kpis.get("aht"),
            asa=kpis.get("asa"),
        )


async def run_demo(
    cfg: Config, stop: asyncio.Event, *, duration: float | None = None, kpi_every: float = 5.0
) -> int:
    emulator, runtime = await start_demo(cfg)
    assert runtime.signer is not None
    token = issue_agent_token(runtime.signer, "1001", "PJSIP/1001")
    password = secrets.token_urlsafe(9)
    await ensure_demo_users(runtime, password)
    base = f"http://{cfg.http.host}:{runtime.http_port}"
    print(
        f"hotline demo: {base}/health  {base}/metrics  FastAGI {cfg.agi.host}:{runtime.agi_port}  "
        f"emulated AMI 127.0.0.1:{emulator.ami_port}\n"
        f"agent console {base}/agent, wallboard {base}/wallboard, QC {base}/qc: log in as 1001 (agent), "
        f"tl-a (team leader) or qc1 (QC) with password {password}\n"
        f"raw screen-pops of agent 1001: ws://{cfg.http.host}:{runtime.http_port}/cti/ws?token={token}\n"
        "Ctrl-C stops.",
        flush=True,
    )
    traffic = asyncio.create_task(emulator.run_traffic(cfg.emulator.calls_per_second, None))
    reporter = asyncio.create_task(_report_kpis(runtime, kpi_every))
    try:
        if duration is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        else:
            await stop.wait()
    finally:
        for task in (traffic, reporter):
            task.cancel()
        await asyncio.gather(traffic, reporter, return_exceptions=True)
        # hotline first, as when an operator stops it beside a running PBX; then the PBX.
        await runtime.stop()
        await emulator.stop()
        kpis = runtime.live_kpis()
        print(
            f"hotline demo: stopped. offered {kpis.get('offered')}, answered {kpis.get('answered')}, "
            f"SCR {_shown(kpis.get('scr'), '%')}, AHT {_shown(kpis.get('aht'), 's')}",
            flush=True,
        )
    return 0


def _shown(value: object, unit: str) -> str:
    """A KPI for a person: 'n/a' when there was nothing to compute it from (no call yet)."""
    return "n/a" if value is None else f"{value} {unit}"
