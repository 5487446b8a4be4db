"""CTI: the agent's screen-pop and call events over a websocket (protocol: docs/cti-protocol.md).

The composition root uses :data:`feature`; tokens come from
:func:`hotline.tokens.issue_agent_token` (the ``hotline cti-token`` command) or,
in the demo, :meth:`CtiFeature.issue_token`.
"""

from cti.protocol import PROTOCOL_VERSION
from cti.websocket import WsSettings
from cti.wiring import CtiFeature, feature

__all__ = ["PROTOCOL_VERSION", "CtiFeature", "WsSettings", "feature"]
