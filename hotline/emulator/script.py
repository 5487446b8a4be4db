"""What an emulated call does (:class:`CallScript`) and what happened (:class:`CallResult`).

Times are emulated seconds. ``caller_hangs_up_after_s`` counts from the moment the
PBX answers the caller (the SIP ACK in the fixtures' READMEs); agent-side times count
from the moment that agent answers; ``patience_s`` counts from entering the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallScript:
    caller_number: str
    caller_name: str = ""
    digits: str = ""
    """Keys the caller presses in the IVR, in order: each key comes ``digit_gap_s`` after the
    digit-reading command that takes it starts (GET DATA takes several, up to its maximum or ``#``).
    A ``.`` is silence: the caller keys nothing until the current digit-reading command times
    out (``"..2"``: two menu rounds time out, the third gets 2)."""
    first_digit_at_s: float = 1.2
    """When the first key is pressed (after answer); later keys come ``digit_gap_s`` after a prompt starts."""
    digit_gap_s: float = 0.8
    patience_s: float | None = None
    """Abandon after waiting this long in a queue; None: wait until answered or the queue times out."""
    hangup_during_ivr_at_s: float | None = None
    """The caller hangs up this long after answer, wherever the call is (meant for the IVR phase)."""
    caller_hangs_up_after_s: float | None = None
    agent_hangs_up_after_s: float | None = None
    """From the agent's answer. With neither hang-up time set, the agent ends after ``default_talk_s``."""
    default_talk_s: float = 30.0
    hold_at_s: float | None = None
    """The first answering agent puts the caller on hold this long after answering..."""
    hold_len_s: float = 0.0
    """...for this long (Hold/Unhold on the agent's channel, music on hold on the caller's)."""
    blind_transfer_to_queue: str | None = None
    """The first answering agent REFERs the caller to the extension that runs this queue."""
    blind_transfer_at_s: float = 4.0
    agent_ring_s: Mapping[str, float | None] = field(default_factory=dict)
    """Per agent extension: seconds of ringing before answering (None: never answers). Overrides AgentSpec."""

    def __post_init__(self) -> None:
        for name in (
            "patience_s",
            "hangup_during_ivr_at_s",
            "caller_hangs_up_after_s",
            "agent_hangs_up_after_s",
            "hold_at_s",
        ):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, not {value}")
        if self.hold_len_s < 0 or self.default_talk_s <= 0:
            raise ValueError("hold_len_s must be >= 0 and default_talk_s > 0")
        if any(d not in "0123456789*#." for d in self.digits):
            raise ValueError(f"digits may only hold 0-9, *, # and . (silence), not {self.digits!r}")


@dataclass
class CallResult:
    """Outcome of one emulated call, for tests and for the demo's summary."""

    uniqueid: str
    channel: str
    queues: list[str] = field(default_factory=list)
    outcome: str = "unknown"
    """Of the last queue attempt: 'answered', 'abandoned', 'timeout'; or 'ivr_hangup', 'noqueue'."""
    agents: list[str] = field(default_factory=list)
    """MemberName of every agent who answered, in order."""
    ring_no_answer: int = 0
    agi_status: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    started_at: float = 0.0
    ended_at: float = 0.0
    completed_by: str | None = None
    queue_log: list[str] = field(default_factory=list)
