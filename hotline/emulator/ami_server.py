"""The emulator's AMI server: banner, Login (plain or MD5 challenge), events, actions.

Replies copy Asterisk 22.10.1 as captured in ``tests/fixtures/asterisk22/actions``
and ``login-failed``. Each logged-in session gets every event its ``Events:`` mask
allows, minus the configured event filter (VarSet by default, like an
``eventfilter=!Event: VarSet`` in manager.conf).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from typing import Final

from hotline.ami.protocol import encode_message
from hotline.emulator.actions import ActionHandler
from hotline.emulator.bus import EmittedEvent
from hotline.emulator.pbx import PbxCore
from hotline.emulator.session_tools import Reply, event_tv
from hotline.logs import get_logger

_log = get_logger(__name__)

BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
MAX_ACTION_BYTES: Final = 64 * 1024
MAX_PENDING_BYTES: Final = 16 * 1024 * 1024
EVENT_CLASSES: Final = frozenset(
    {
        "system",
        "call",
        "log",
        "verbose",
        "command",
        "agent",
        "user",
        "config",
        "dtmf",
        "reporting",
        "cdr",
        "dialplan",
        "originate",
        "agi",
        "cc",
        "aoc",
        "test",
        "security",
        "message",
    }
)
Action = dict[str, str]


def read_action(frame: bytes) -> Action:
    """``Key: Value`` lines of one action; keys are matched case-insensitively later, so kept as sent."""
    action: Action = {}
    for raw in frame.replace(b"\r\n", b"\n").split(b"\n"):
        key, sep, value = raw.decode("utf-8", errors="replace").partition(":")
        if sep and key.strip():
            action.setdefault(key.strip().lower(), value.strip())
    return action


def parse_event_mask(value: str) -> frozenset[str] | None:
    """Login's ``Events:``: on/yes -> everything (None), off/no -> nothing, else a class list."""
    low = value.strip().lower()
    if low in ("on", "yes", "all", "1", "true", ""):
        return None
    if low in ("off", "no", "0", "false"):
        return frozenset()
    return frozenset(c.strip() for c in low.split(",") if c.strip() in EVENT_CLASSES)


class AmiSession:
    def __init__(self, server: AmiServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server, self.core = server, server.core
        self.reader, self.writer = reader, writer
        self.authenticated = False
        self.username = ""
        self.event_mask: frozenset[str] | None = frozenset()
        self.challenge = ""
        self._unsubscribe: Callable[[], None] | None = None
        peer = writer.get_extra_info("peername") or ("?", 0)
        local = writer.get_extra_info("sockname") or ("?", 0)
        self.remote = f"IPV4/TCP/{peer[0]}/{peer[1]}"
        self.local = f"IPV4/TCP/{local[0]}/{local[1]}"
        self.session_id = f"0x{id(self):x}"

    def send(self, headers: list[tuple[str, str]]) -> None:
        if self.writer.is_closing():
            return
        if self.writer.transport.get_write_buffer_size() > MAX_PENDING_BYTES:
            _log.error("emulator.ami_client_too_slow", remote=self.remote)
            self.writer.close()
            return
        self.writer.write(encode_message(headers))

    def on_event(self, event: EmittedEvent) -> None:
        if event.name in self.core.settings.event_filter_out:
            return
        if self.event_mask is not None and event.event_class not in self.event_mask:
            return
        self.send(list(event.headers))

    async def serve(self) -> None:
        self.writer.write(BANNER)
        buffer = b""
        try:
            while not self.writer.is_closing():
                chunk = await self.reader.read(65536)
                if not chunk:
                    return
                buffer += chunk.replace(b"\r\n", b"\n")
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    if frame.strip() and not await self.handle(read_action(frame)):
                        return
                if len(buffer) > MAX_ACTION_BYTES:
                    _log.warning("emulator.ami_action_too_large", remote=self.remote, size=len(buffer))
                    return
        except ConnectionError:
            return
        finally:
            if self._unsubscribe is not None:
                self._unsubscribe()
            self.writer.close()

    def _reply(self, action: Action, status: str, *extra: tuple[str, str]) -> None:
        headers = [("Response", status)]
        if "actionid" in action:
            headers.append(("ActionID", action["actionid"]))
        self.send([*headers, *extra])

    async def handle(self, action: Action) -> bool:
        """Answer one action; False ends the session."""
        name = action.get("action", "").lower()
        if name == "login":
            return await self._login(action)
        if name == "challenge":
            if action.get("authtype", "").lower() != "md5":
                self._reply(action, "Error", ("Message", "Must specify AuthType"))
                return True
            self.challenge = str(secrets.randbelow(10**9)).zfill(9)
            self._reply(action, "Success", ("Challenge", self.challenge))
            return True
        if name == "logoff":
            self._reply(action, "Goodbye", ("Message", "Thanks for all the fish."))
            await self.writer.drain()
            return False
        if not self.authenticated:
            self._reply(action, "Error", ("Message", "Permission denied"))
            return True
        if name == "events":
            self.event_mask = parse_event_mask(action.get("eventmask", "on"))
            self._reply(action, "Success", ("Events", "Off" if self.event_mask == frozenset() else "On"))
            return True
        reply: Reply = self.server.actions.handle(action, self)
        for headers in reply:
            self.send(headers)
        return True

    def _security(self, event: str, extra: list[tuple[str, str]], severity: str, version: str) -> None:
        t = self.core.now()
        tv = self.core.clock  # the emulated clock gives EventTV the same base as Timestamp
        stamp = event_tv(tv.now())
        body = [
            ("EventTV", stamp),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", version),
            ("AccountID", self.username),
            ("SessionID", self.session_id),
            ("LocalAddress", self.local),
            ("RemoteAddress", self.remote),
            *extra,
        ]
        self.core.publish(event, body, t)

    async def _login(self, action: Action) -> bool:
        self.username = action.get("username", "")
        settings = self.core.settings
        expected = settings.ami_secret
        if action.get("authtype", "").lower() == "md5":
            digest = hashlib.md5((self.challenge + expected).encode(), usedforsecurity=False).hexdigest()
            ok = bool(self.challenge) and secrets.compare_digest(action.get("key", ""), digest)
        else:
            ok = secrets.compare_digest(action.get("secret", ""), expected)
        ok = ok and self.username == settings.ami_username
        if not ok:
            self._security("InvalidPassword", [("SessionTV", "1970-01-01T00:00:00.000+0000")], "Error", "2")
            self._reply(action, "Error", ("Message", "Authentication failed"))
            await self.writer.drain()
            await asyncio.sleep(settings.login_failure_delay_s)
            return False
        self.authenticated = True
        self.event_mask = parse_event_mask(action.get("events", "on"))
        self._reply(action, "Success", ("Message", "Authentication accepted"))
        uptime = str(int(self.core.now() - self.core.started_at) + 2)
        self.send(
            [
                ("Event", "FullyBooted"),
                ("Privilege", "system,all"),
                ("Uptime", uptime),
                ("LastReload", uptime),
                ("Status", "Fully Booted"),
            ]
        )
        self._unsubscribe = self.core.bus.subscribe(self.on_event)
        stamp = event_tv(self.core.now())
        self._security("SuccessfulAuth", [("UsingPassword", "0"), ("SessionTV", stamp)], "Informational", "1")
        return True


class AmiServer:
    """asyncio TCP server; ``start()`` returns the bound port (ask for 0 to get a free one)."""

    def __init__(self, core: PbxCore) -> None:
        self.core = core
        self.actions = ActionHandler(core)
        self._server: asyncio.Server | None = None
        self._sessions: dict[asyncio.Task[None], AmiSession] = {}

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        session = AmiSession(self, reader, writer)
        self._sessions[task] = session
        try:
            await session.serve()
        finally:
            self._sessions.pop(task, None)

    async def stop(self) -> None:
        """Stop listening and end every session (closing its socket ends its read loop)."""
        if self._server is None:
            return
        self._server.close()
        for session in list(self._sessions.values()):
            session.writer.close()
        tasks = list(self._sessions)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=1.0)
            for task in late:
                task.cancel()
        await self._server.wait_closed()
        self._server = None
