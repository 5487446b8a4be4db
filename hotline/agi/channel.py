"""One FastAGI conversation: send a command, read its reply, keep the stream in step.

:class:`AgiChannel` is the transport half of a session: it drives the connection's
parser, serialises commands, applies the per-command deadline and turns hangups,
refusals and timeouts into exceptions. The typed commands live in
:mod:`hotline.agi.session`.

Hangup rules (the single exception a handler needs is :class:`AgiHangup`):

- a ``HANGUP`` line may come before or after the reply it travels with; the pending
  command's reply is always read, so the next command never reads a stale reply;
- the first command that completes after the session learnt of the hangup raises
  ``AgiHangup`` (carrying the reply, since e.g. ``SET VARIABLE`` still works on a dead
  channel); later commands that still succeed return normally, so a handler that
  caught the hangup can finish its bookkeeping;
- 511 (command not permitted on a dead channel) and a closed socket always raise it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from hotline.agi.connection import AgiConnection
from hotline.agi.encoding import encode_command
from hotline.agi.errors import AgiCommandError, AgiError, AgiHangup, AgiProtocolError, AgiTimeout
from hotline.agi.events import AgiEnvironment, AgiReply, ConnectionClosed, HangupNotice
from hotline.logs import get_logger

DEAD_CHANNEL_CODE: Final = 511

_log = get_logger("hotline.agi")


class AgiChannel:
    """Command/reply transport of one FastAGI connection (after its environment was read)."""

    def __init__(
        self,
        env: AgiEnvironment,
        connection: AgiConnection,
        *,
        pbx: str = "unknown",
        command_timeout: float = 30.0,
        on_command: Callable[[], None] | None = None,
    ) -> None:
        self.env = env
        self.pbx = pbx
        self.command_timeout = command_timeout
        self._connection = connection
        self._parser = connection.parser
        self._on_command = on_command
        self._busy = False
        self._hungup = False
        self._hangup_reported = False
        self._broken: AgiError | None = None

    @property
    def hungup(self) -> bool:
        """True once the session knows the caller is gone (it may still send dead-channel commands)."""
        return self._hungup

    @property
    def usable(self) -> bool:
        """False once the socket is closed or out of step; every later command raises."""
        return self._broken is None

    async def command(self, name: str, *args: str | int, reply_timeout: float | None = None) -> AgiReply:
        """Send ``name args...`` and return its final reply.

        ``reply_timeout`` (seconds) overrides the session's ``command_timeout``; ``math.inf``
        waits for ever. Raises :class:`AgiHangup`, :class:`AgiCommandError` (510/520/5xx),
        :class:`AgiTimeout` or :class:`AgiProtocolError`; ``ValueError`` for an argument
        that cannot be sent (nothing is written then).
        """
        line = encode_command(name, *args)
        if self._busy:
            # Two tasks sharing a session would each read the other's reply.
            raise RuntimeError("AGI commands of one session must be awaited one at a time")
        if self._broken is not None:
            self._raise_broken()
        connection = self._connection
        parser = self._parser
        if parser.has_buffered:
            self._take_buffered_notices()
        delay = self.command_timeout if reply_timeout is None else reply_timeout
        connection.set_deadline(delay)
        self._busy = True
        # The exchange is inlined here rather than in a helper coroutine: every awaited
        # frame costs on each resume, and this is the path every command takes.
        try:
            connection.write(line)
            if self._on_command is not None:
                self._on_command()
            # The parser holds no complete event now (buffered ones were taken above): wait first.
            reply: AgiReply | None = None
            while reply is None:
                await connection.wait_data()
                while (event := parser.next_event()) is not None:
                    if type(event) is AgiReply:
                        if event.final:
                            reply = event
                            break
                    elif type(event) is HangupNotice:
                        self._hungup = True
                    elif type(event) is ConnectionClosed:
                        raise EOFError
                    else:
                        raise AgiProtocolError(f"unexpected {type(event).__name__} after the environment")
        except (ConnectionError, EOFError, AgiProtocolError) as exc:
            raise self._failure(exc, line, delay) from None
        except asyncio.CancelledError:
            # Cancelled between a command and its reply: the reply would be read as the next one's.
            self._break(AgiError("cancelled while waiting for a reply"))
            raise
        finally:
            self._busy = False
            connection.clear_deadline()
        if reply.code == DEAD_CHANNEL_CODE:
            self.note_hangup()
            raise AgiHangup(f"{name}: {reply.code} {reply.text}", reply)
        if self._hungup and not self._hangup_reported:
            self._hangup_reported = True
            raise AgiHangup(f"{name}: caller hung up", reply)
        if reply.code != 200:
            raise AgiCommandError(line.decode("utf-8").rstrip("\n"), reply)
        return reply

    def note_hangup(self) -> None:
        """Record a hangup the caller of :meth:`command` was told about (it raises AgiHangup itself)."""
        self._hungup = True
        self._hangup_reported = True

    def _failure(self, exc: Exception, line: bytes, delay: float) -> AgiError:
        """Close the broken stream and say why: deadline passed, peer gone, or garbage."""
        error: AgiError
        if self._connection.expired:
            error = AgiTimeout(f"no reply to {line[:60]!r} within {delay} s")
        elif isinstance(exc, AgiProtocolError):
            error = exc
        else:
            self.note_hangup()
            error = AgiHangup("connection lost")
        self._break(error)
        return error

    def _take_buffered_notices(self) -> None:
        # A HANGUP that followed the previous reply in the same read is still in the parser;
        # note it now so it is never mistaken for part of the next exchange.
        while (event := self._parser.next_event()) is not None:
            if isinstance(event, HangupNotice):
                self._hungup = True
            elif isinstance(event, AgiReply):
                _log.warning("agi_unsolicited_reply", code=event.code, text=event.text[:80])
            elif isinstance(event, ConnectionClosed):
                break

    def _raise_broken(self) -> None:
        broken = self._broken
        if isinstance(broken, AgiHangup):
            raise AgiHangup("connection closed")
        raise AgiError(f"session closed after an earlier error: {broken}")

    def _break(self, error: AgiError) -> None:
        self._broken = error
        self._connection.close()

    def close(self) -> None:
        """Close the socket once pending writes are flushed (Asterisk then continues the dialplan)."""
        if self._broken is None:
            self._broken = AgiHangup("session closed")
        self._connection.close()
