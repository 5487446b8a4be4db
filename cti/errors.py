"""The error a client command ends with (its code and reason go back in the ``result``)."""

from __future__ import annotations


class CommandError(Exception):
    """A command refused or failed. Codes: docs/cti-protocol.md (Commands)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
