"""CTI: screen-pops, agent state and call control over a websocket, and the agent console.

Protocol: docs/cti-protocol.md. The composition root uses :data:`feature`. Tokens come
from ``POST /api/login`` (:mod:`hotline.auth`), :func:`hotline.tokens.issue_agent_token`
(the ``hotline cti-token`` command) or, in the demo, :meth:`CtiFeature.issue_token`.

Layout: ``agentstate`` (the state derived from AMI, sans-IO), ``state_events`` (it on the
wire), ``events`` (the screen-pop path), ``hub`` and ``replay`` (who gets what, and what a
reconnect missed), ``commands`` (agent -> Asterisk, ownership checked by ``channels``),
``broker`` (fan-out between instances), ``websocket``/``client_messages`` (the socket),
``static/`` (the console at ``/agent``), ``store``/``tables`` (intervals, dispositions).
"""

from cti.protocol import PROTOCOL_VERSION
from cti.websocket import WsSettings
from cti.wiring import CtiFeature, feature

__all__ = ["PROTOCOL_VERSION", "CtiFeature", "WsSettings", "feature"]
