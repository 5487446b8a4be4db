"""Settings of the emulated Asterisk: network, agents, queues, time scale, filters.

The defaults reproduce the reference PBX that recorded ``tests/fixtures/asterisk22``:
agents 1001 Siti Rahma, 1002 Budi Santoso, 1003 Rina Wati, static members of every
queue, rrmemory, member timeout 6 s, retry 1 s, wrapuptime 2 s, Queue() timeout 30 s.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline import names

DEFAULT_AGENTS: tuple[tuple[str, str], ...] = (
    ("1001", "Siti Rahma"),
    ("1002", "Budi Santoso"),
    ("1003", "Rina Wati"),
)


@dataclass(frozen=True)
class AgentSpec:
    """One agent phone (``PJSIP/<extension>``) and how it behaves unless a call script says otherwise."""

    extension: str
    name: str
    ring_s: float | None = 2.0
    """Seconds the phone rings before the agent answers; None: the agent never answers."""

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.extension}"


@dataclass(frozen=True)
class QueueSpec:
    """One app_queue queue. ``members`` are agent extensions (static members, queues.conf)."""

    name: str
    members: tuple[str, ...]
    strategy: str = "rrmemory"
    member_timeout_s: float = 6.0
    retry_s: float = 1.0
    wrapup_s: float = 2.0
    timeout_s: float = 30.0
    """The Queue() application's own timeout (the dialplan's ``Queue(q,t,,,30)``)."""


DEMO_AGENT_NAMES = (
    "Siti Rahma",
    "Budi Santoso",
    "Rina Wati",
    "Dewi Anggraini",
    "Joko Susilo",
    "Ani Suryani",
    "Bambang Prakoso",
    "Fitri Handayani",
    "Eko Saputra",
    "Lina Marlina",
)


def demo_agents(count: int) -> tuple[AgentSpec, ...]:
    """``count`` agents 1001, 1002, ... with Indonesian names (the first three as on the reference PBX)."""
    if count < 1:
        raise ValueError(f"the demo needs at least one agent, not {count}")
    return tuple(
        AgentSpec(
            str(1001 + i), DEMO_AGENT_NAMES[i % len(DEMO_AGENT_NAMES)] + ("" if i < 10 else f" {i // 10}")
        )
        for i in range(count)
    )


def default_queues(agents: tuple[AgentSpec, ...], queue_names: tuple[str, ...]) -> tuple[QueueSpec, ...]:
    members = tuple(a.extension for a in agents)
    return tuple(QueueSpec(name=q, members=members) for q in queue_names)


@dataclass(frozen=True)
class EmulatorSettings:
    """Everything the emulator needs. Port 0 means: pick a free port (tests)."""

    ami_host: str = "127.0.0.1"
    ami_port: int = 0
    ami_username: str = "hotline"
    ami_secret: str = field(default_factory=lambda: secrets.token_hex(12))
    """Random unless given: whoever wires the demo reads it from here to configure hotline's AMI client."""
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_script: str = names.AGI_IVR_MAIN
    speed: float = 1.0
    """Emulated seconds per real second (50 plays a 14 s call in 0.28 s)."""
    start_epoch: float = field(default_factory=time.time)
    """Emulated wall clock when the emulator is created; timestamps and uniqueids count from here."""
    agents: tuple[AgentSpec, ...] = tuple(AgentSpec(e, n) for e, n in DEFAULT_AGENTS)
    queues: tuple[QueueSpec, ...] = ()
    """Empty: every queue of hotline.names with every agent as a member."""
    queue_status_order: tuple[str, ...] = ()
    """Order of per-queue events (QueueMemberStatus, QueueStatus); empty: reverse of ``queues``,
    which is how Asterisk's queue container happened to iterate on the reference PBX."""
    dialed_number: str = "1500569"
    trunk: str = "provider"
    caller_context: str = "from-provider"
    agent_context: str = "from-agents"
    transfer_extensions: Mapping[str, str] = field(
        default_factory=lambda: {"1600": names.QUEUE_SAPA_HELPDESK}
    )
    """[from-agents] extensions that run Queue(<queue>): targets of a blind transfer."""
    event_filter_out: frozenset[str] = frozenset({"VarSet"})
    """Event names never sent (manager.conf eventfilter=!Event: VarSet)."""
    channelvars: tuple[str, ...] = ()
    """manager.conf channelvars: channel events carry ``ChanVariable: NAME=value`` lines."""
    queue_log_path: str | None = None
    """Append queue_log lines to this file as well as keeping them in memory."""
    log_membername_as_agent: bool = False
    """queues.conf [general] log_membername_as_agent: ADDMEMBER/REMOVEMEMBER name the member
    (MemberName) instead of its interface. Asterisk's default is no, as on the reference PBX."""
    seed: int | None = None
    """Seeds CommandIds, bridge ids and thread ids, so a run can be repeated."""
    login_failure_delay_s: float = 1.0
    """Real seconds between a failed AMI login's reply and the socket closing (Asterisk: 1 s)."""
    agi_connect_timeout_s: float = 2.0
    """Real seconds to wait for the FastAGI server before AGISTATUS=FAILURE."""
    agi_command_timeout_s: float = 30.0
    """Real seconds to wait for the next AGI command before the session is dropped."""
    recording_dir: str | None = None
    """MixMonitor's spool folder: when set, every call an agent answered leaves a WAV there, named
    as the shipped dialplan names it (``<site>/<YYYY>/<MM>/<DD>/<uniqueid>.wav``)."""
    recording_site: str = "jakarta"
    recording_timezone: str = "Asia/Jakarta"
    recording_max_s: float = 2.0
    """Seconds of audio at most in an emulated recording (the rest of the call is not written)."""

    def queue_specs(self) -> tuple[QueueSpec, ...]:
        return self.queues or default_queues(self.agents, names.ALL_QUEUES)

    def status_order(self) -> tuple[str, ...]:
        specs = self.queue_specs()
        if self.queue_status_order:
            return self.queue_status_order
        return tuple(q.name for q in reversed(specs))

    def agent(self, extension: str) -> AgentSpec | None:
        for agent in self.agents:
            if agent.extension == extension:
                return agent
        return None

    def transfer_extension_for(self, queue: str) -> str:
        for exten, target in self.transfer_extensions.items():
            if target == queue:
                return exten
        raise ValueError(f"no transfer extension leads to queue {queue!r} (see transfer_extensions)")

    def validate(self) -> None:
        """Raise ValueError with a clear message for an impossible setting."""
        if self.speed <= 0:
            raise ValueError(f"speed must be > 0, not {self.speed}")
        known = {a.extension for a in self.agents}
        for spec in self.queue_specs():
            unknown = [m for m in spec.members if m not in known]
            if unknown:
                raise ValueError(f"queue {spec.name} has members that are not agents: {unknown}")
