"""What a menu calls to let the caller speak: ``await listener.listen(session, words)``.

The answer is the menu key of the phrase heard (or of a key pressed meanwhile), or
None. None covers everything that is not a confident answer: speech off, no model,
a phrase heard with low confidence, silence, a recognizer or network failure. The
menu then asks for a key as it always does, so the caller notices nothing but the
prompt for a key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final, Protocol

from hotline.agi.errors import AgiCommandError
from hotline.config import SpeechConfig
from hotline.logs import get_logger
from ivr.speech.engine import Engine, SpeechUnavailable, VoskEngine
from ivr.speech.grammar import MenuGrammar, Recognition
from ivr.speech.server import WALL_CLOCK_GRACE_S, AudioSocketServer, Turn

log = get_logger(__name__)

AUDIOSOCKET_APP: Final = "AudioSocket"
CONNECT_ALLOWANCE_S: Final = 3.0
"""Asterisk gives up connecting after 2 s (res_audiosocket.c); a little more for the reply."""
PAUSE_AFTER_PBX_FAILURE_S: Final = 60.0
"""When Asterisk cannot reach us (or lacks app_audiosocket), stop asking it for a while:
every listening turn would fail the same way and only delay the key prompt."""


class SpeechSession(Protocol):
    """The part of an AGI session (``hotline.agi.session.AgiSession``) listening needs."""

    async def exec_(self, app: str, *args: str | int, reply_timeout: float | None = None) -> int: ...


def _label(session: Any) -> str:
    env = getattr(session, "env", None)
    return f"{getattr(session, 'pbx', '?')}/{getattr(env, 'uniqueid', '?')}"


def _valid_address(address: str) -> bool:
    host, _, port = address.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


class MenuListener:
    """Speech input for menus. Built from ``[speech]``; ``start()`` before use, ``stop()`` after.

    A listener that was never started, or whose start found no usable model, answers
    every ``listen`` with None at once, without a command to Asterisk.
    """

    def __init__(self, config: SpeechConfig, engine: Engine | None = None) -> None:
        self._config = config
        self._engine = engine
        self._server: AudioSocketServer | None = None
        self._paused_until = 0.0

    @property
    def available(self) -> bool:
        """True when a ``listen`` would really listen now."""
        if self._server is None:
            return False
        return asyncio.get_running_loop().time() >= self._paused_until

    @property
    def address(self) -> str:
        """``host:port`` Asterisk is told to connect to."""
        if self._config.audiosocket_address:
            return self._config.audiosocket_address
        host = self._config.audiosocket_host
        port = self._server.port if self._server else self._config.audiosocket_port
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    async def start(self) -> None:
        """Load the model and open the AudioSocket server; on any problem log why and stay off."""
        config = self._config
        if not config.enabled:
            log.info("speech input off by configuration")
            return
        if config.audiosocket_address and not _valid_address(config.audiosocket_address):
            log.error("speech input off: bad audiosocket_address", value=config.audiosocket_address)
            return
        engine = self._engine
        if engine is None:
            if not config.model_path:
                log.warning("speech input off: [speech] model_path is empty; menus take keys only")
                return
            engine = VoskEngine(config.model_path)
        try:
            if isinstance(engine, VoskEngine):
                await asyncio.to_thread(engine.load)
        except SpeechUnavailable as exc:
            log.error("speech input off", reason=str(exc))
            return
        server = AudioSocketServer(engine, config.audiosocket_host, config.audiosocket_port)
        try:
            await server.start()
        except OSError as exc:
            log.error("speech input off: cannot listen for audiosocket", reason=exc.strerror or str(exc))
            return
        self._engine, self._server = engine, server
        if config.audiosocket_host in ("0.0.0.0", "::") and not config.audiosocket_address:  # noqa: S104
            log.warning("set audiosocket_address to this host as Asterisk reaches it", address=self.address)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None

    async def listen(
        self, session: SpeechSession, words: Mapping[str, str], timeout_s: float | None = None
    ) -> Recognition | None:
        """Listen to the caller for one of ``words`` (phrase -> menu key).

        Returns the recognition (``.key`` is the menu key; for a key pressed while
        listening, the digit itself with ``source == 'dtmf'``), or None: then ask for a
        key. The channel must be answered. Raises ``ValueError`` for an empty or
        malformed ``words`` (a bug in the menu), and whatever the session raises when
        the caller hangs up (``AgiHangup``), as any other AGI command does.
        """
        grammar = MenuGrammar(words)
        if self._server is None or not self.available:
            return None
        timeout = self._config.listen_timeout_s if timeout_s is None else timeout_s
        turn = Turn(grammar, timeout, self._config.min_confidence, label=_label(session))
        self._server.expect(turn)
        try:
            code = await session.exec_(
                AUDIOSOCKET_APP,
                str(turn.stream),
                self.address,
                reply_timeout=timeout + CONNECT_ALLOWANCE_S + WALL_CLOCK_GRACE_S + 1.0,
            )
        except AgiCommandError as exc:
            log.error("asterisk refused to start audiosocket", error=str(exc), who=turn.label)
            return None
        finally:
            outcome = turn.done.result() if turn.done.done() else None
            self._server.forget(turn)
        if not turn.connected.is_set():
            self._pbx_failed(code, turn.label)
            return None
        if outcome is not None:
            log.info(
                "caller chose by voice" if outcome.source == "speech" else "caller pressed a key instead",
                key=outcome.key,
                confidence=round(outcome.confidence, 3),
                who=turn.label,
            )
        return outcome

    def _pbx_failed(self, code: int, who: str) -> None:
        if code == -2:
            reason = "Asterisk has no AudioSocket application (load app_audiosocket.so)"
        else:
            reason = f"Asterisk did not connect to {self.address} (AudioSocket answered {code})"
        log.error("speech paused: " + reason, pause_s=PAUSE_AFTER_PBX_FAILURE_S, who=who)
        self._paused_until = asyncio.get_running_loop().time() + PAUSE_AFTER_PBX_FAILURE_S
