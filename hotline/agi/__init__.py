"""FastAGI: the sans-IO protocol core and the asyncio server that runs IVR handlers.

A feature registers handlers on an :class:`AgiRouter` (one per script name from
``hotline.names``); :class:`AgiServer` accepts Asterisk's connections and hands
each call's :class:`AgiSession` to its handler. A caller hangup surfaces as one
exception type, :class:`AgiHangup`.
"""

from hotline.agi.encoding import encode_command, quote_argument
from hotline.agi.errors import AgiCommandError, AgiError, AgiHangup, AgiProtocolError, AgiTimeout
from hotline.agi.events import AgiEnvironment, AgiReply, ConnectionClosed, HangupNotice
from hotline.agi.protocol import AgiParser
from hotline.agi.server import AgiHandler, AgiRouter, AgiServer, AgiServerStats
from hotline.agi.session import AgiSession, GetDataResult, RecordResult, StreamResult

__all__ = [
    "AgiCommandError",
    "AgiEnvironment",
    "AgiError",
    "AgiHandler",
    "AgiHangup",
    "AgiParser",
    "AgiProtocolError",
    "AgiReply",
    "AgiRouter",
    "AgiServer",
    "AgiServerStats",
    "AgiSession",
    "AgiTimeout",
    "ConnectionClosed",
    "GetDataResult",
    "HangupNotice",
    "RecordResult",
    "StreamResult",
    "encode_command",
    "quote_argument",
]
