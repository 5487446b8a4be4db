"""Exceptions of the FastAGI core.

Handlers usually need only two of them: :class:`AgiHangup` (the caller is gone;
catch it to clean up, or let it propagate and the server ends the session
quietly) and :class:`AgiCommandError` (Asterisk refused a command: a bug in the
handler, never the caller's doing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.agi.events import AgiReply


class AgiError(Exception):
    """Base class of every FastAGI error."""


class AgiProtocolError(AgiError, ValueError):
    """The peer sent bytes that are not FastAGI (or too many of them). The stream is unusable."""


class AgiHangup(AgiError):
    """The caller hung up: seen as ``HANGUP``, a 511 reply, ``result=-1`` or a closed socket.

    ``reply`` is the reply read for the command that noticed the hangup, if there was one:
    a command that still succeeded on the dead channel (``SET VARIABLE``) carries it here.
    """

    def __init__(self, reason: str, reply: AgiReply | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


class AgiCommandError(AgiError):
    """Asterisk refused the command (510 unknown command, 520 bad syntax, 503 ...)."""

    def __init__(self, command: str, reply: AgiReply) -> None:
        detail = reply.usage or reply.text
        super().__init__(f"{command!r} refused with {reply.code}: {detail}")
        self.command = command
        self.reply = reply

    @property
    def usage(self) -> str | None:
        """The usage text Asterisk printed with a 520 reply, if any."""
        return self.reply.usage


class AgiTimeout(AgiError, TimeoutError):
    """No reply in time. The session is closed: a late reply would put the stream out of step."""
