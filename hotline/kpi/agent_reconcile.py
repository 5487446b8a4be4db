"""Agent figures from AMI and from queue_log, side by side: do the two sources tell one story?

Both sides are computed with :func:`hotline.kpi.agent_definitions.agent_times` over the same
window, which should be time both sources cover: queue_log knows a member it never saw added
only from its first line, and AMI knows nothing before hotline listened. Every agent either side
knows is compared on :data:`COMPARED`; spans are whole seconds on both sides (Asterisk's own
clock), so figures are compared exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from hotline.kpi.agent_definitions import WRAPUP_REASON, agent_times, totals, zero
from hotline.kpi.agent_spans import AgentSpan

COMPARED: Final = ("login_s", "pause_s", "pause_by_reason", "available_s", "occupancy")


@dataclass(frozen=True, slots=True)
class AgentReconciliation:
    """Each side's figures per agent over ``[since, until)``, and what differs."""

    since: float
    until: float
    ami: dict[str, dict[str, Any]]
    queue_log: dict[str, dict[str, Any]]
    differences: dict[str, dict[str, tuple[Any, Any]]]

    @property
    def agree(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            "since": self.since,
            "until": self.until,
            "ami": self.ami,
            "queue_log": self.queue_log,
            "differences": {
                agent: {key: {"ami": a, "queue_log": q} for key, (a, q) in fields.items()}
                for agent, fields in self.differences.items()
            },
        }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-6)
    return bool(a == b)


def reconcile_agents(
    from_ami: Iterable[AgentSpan],
    from_queue_log: Iterable[AgentSpan],
    since: float,
    until: float,
    *,
    wrapup_reason: str = WRAPUP_REASON,
) -> AgentReconciliation:
    """Compare the agents' figures of both sources over ``[since, until)`` (open spans end there)."""
    sides = []
    for spans in (from_ami, from_queue_log):
        whole = totals(agent_times(spans, since, until, wrapup_reason=wrapup_reason)) if until > since else {}
        sides.append({agent: figures.as_dict() for agent, figures in sorted(whole.items())})
    ami, log = sides
    nothing = zero(wrapup_reason)
    differences: dict[str, dict[str, tuple[Any, Any]]] = {}
    for agent in sorted(ami.keys() | log.keys()):
        a, q = ami.get(agent, nothing), log.get(agent, nothing)
        changed = {key: (a[key], q[key]) for key in COMPARED if not _same(a[key], q[key])}
        if changed:
            differences[agent] = changed
    return AgentReconciliation(since, until, ami, log, differences)


def to_text(result: AgentReconciliation, *, window: str) -> str:
    """One line per agent with both sides' figures, marking what differs."""
    lines = [f"Agents ({window}): login / pause / available s, occupancy %, AMI | queue_log"]
    for agent in sorted(result.ami.keys() | result.queue_log.keys()):
        nothing = zero()
        a, q = result.ami.get(agent, nothing), result.queue_log.get(agent, nothing)
        mark = "  <- differs: " + ", ".join(result.differences[agent]) if agent in result.differences else ""
        lines.append(f"  {agent}: {_brief(a)} | {_brief(q)}{mark}")
    if len(lines) == 1:
        lines.append("  (no agent logged in)")
    lines.append(
        "AMI and queue_log agree on every agent."
        if result.agree
        else f"{len(result.differences)} agent(s) differ."
    )
    return "\n".join(lines)


def _brief(figures: dict[str, Any]) -> str:
    occupancy = "-" if figures["occupancy"] is None else f"{figures['occupancy']:g}"
    reasons = ", ".join(f"{r or '(none)'} {s:g}" for r, s in figures["pause_by_reason"].items())
    pauses = f" ({reasons})" if reasons else ""
    return (
        f"{figures['login_s']:g} / {figures['pause_s']:g}{pauses} / {figures['available_s']:g}, {occupancy}"
    )
