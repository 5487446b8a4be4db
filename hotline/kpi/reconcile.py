"""Reconciliation: the same calls seen by AMI (the store) and by queue_log must tell one story.

Attempts are matched on ``(call_id, attempt)`` (queue_log's callid is the caller's Uniqueid).
Only the fields both sources know are compared (:data:`RECONCILED_FIELDS`); agent hold, Linkedid
and the interface are AMI-only, and times are whole seconds in queue_log, so they are left out.
An attempt only one source has is a difference too (an event lost, a log rotated, a capture cut).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from hotline.kpi.definitions import summarize
from hotline.kpi.facts import QueueAttempt

RECONCILED_FIELDS: Final = (
    "queue",
    "outcome",
    "wait_s",
    "agent",
    "handle_s",
    "completed_by",
    "ring_no_answer",
)
COMPARED_KPIS: Final = ("offered", "answered", "abandoned", "scr", "aht", "asa", "service_level")
AMI: Final = "ami"
QUEUE_LOG: Final = "queue_log"


@dataclass(frozen=True, slots=True)
class AttemptDifference:
    """One attempt on which the two sources disagree."""

    pbx: str
    call_id: str
    attempt: int
    only_in: str | None = None
    """``ami`` or ``queue_log`` when the other source has no such attempt."""
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """Field name -> (AMI value, queue_log value)."""
    completed_from: str | None = None
    """The store's attempt ended while the AMI link was down and was completed from this file
    (``queue_log`` | ``cdr``, hotline.kpi.gap): a CDR completion knows less than queue_log."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "pbx": self.pbx,
            "call_id": self.call_id,
            "attempt": self.attempt,
            "only_in": self.only_in,
            "fields": {name: {AMI: a, QUEUE_LOG: q} for name, (a, q) in self.fields.items()},
            "completed_from": self.completed_from,
        }

    def __str__(self) -> str:
        where = f"call {self.call_id} attempt {self.attempt} ({self.pbx})"
        if self.completed_from is not None:
            where += f" [AMI gap, completed from {self.completed_from}]"
        if self.only_in is not None:
            return f"{where}: only in {'AMI (the store)' if self.only_in == AMI else 'queue_log'}"
        parts = (f"{name} ami={_show(a)} queue_log={_show(q)}" for name, (a, q) in self.fields.items())
        return f"{where}: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Both sides' KPIs, the KPIs that differ, and every attempt that differs."""

    ami: dict[str, Any]
    queue_log: dict[str, Any]
    differences: list[AttemptDifference]
    kpis_differing: list[str]
    attempts_compared: int

    @property
    def agree(self) -> bool:
        return not self.differences and not self.kpis_differing

    def as_dict(self) -> dict[str, Any]:
        return {
            "agree": self.agree,
            AMI: self.ami,
            QUEUE_LOG: self.queue_log,
            "kpis_differing": self.kpis_differing,
            "attempts_compared": self.attempts_compared,
            "differences": [d.as_dict() for d in self.differences],
        }


def reconcile(
    from_ami: Iterable[QueueAttempt],
    from_queue_log: Iterable[QueueAttempt],
    *,
    service_level_s: float = 20,
    short_abandon_s: float = 5,
) -> Reconciliation:
    """Compare the attempts and the KPIs of the two sources."""
    ami_rows, log_rows = list(from_ami), list(from_queue_log)
    ami_by_key = {(a.call_id, a.attempt): a for a in ami_rows}
    log_by_key = {(a.call_id, a.attempt): a for a in log_rows}
    differences: list[AttemptDifference] = []
    for key in sorted(ami_by_key.keys() | log_by_key.keys()):
        ami, log = ami_by_key.get(key), log_by_key.get(key)
        if ami is None or log is None:
            known = ami or log
            assert known is not None  # the key came from one of them
            differences.append(
                AttemptDifference(
                    known.pbx,
                    key[0],
                    key[1],
                    only_in=AMI if ami else QUEUE_LOG,
                    completed_from=ami.completed_from if ami else None,
                )
            )
            continue
        changed = {
            name: (getattr(ami, name), getattr(log, name))
            for name in RECONCILED_FIELDS
            if not _same(getattr(ami, name), getattr(log, name))
        }
        if changed:
            differences.append(
                AttemptDifference(ami.pbx, key[0], key[1], fields=changed, completed_from=ami.completed_from)
            )
    ami_kpis = summarize(ami_rows, service_level_s=service_level_s, short_abandon_s=short_abandon_s).as_dict()
    log_kpis = summarize(log_rows, service_level_s=service_level_s, short_abandon_s=short_abandon_s).as_dict()
    differing = [name for name in COMPARED_KPIS if not _same(ami_kpis[name], log_kpis[name])]
    return Reconciliation(
        ami_kpis, log_kpis, differences, differing, len(ami_by_key.keys() & log_by_key.keys())
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        # Both sources carry whole seconds from the same app_queue counters: equal, not "close".
        return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-6)
    return bool(a == b)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def to_text(result: Reconciliation, *, ami_label: str, log_label: str) -> str:
    """The KPIs side by side, then every attempt that differs."""
    keys = list(result.ami)
    width = max(len(k) for k in keys)
    left = max(len(ami_label), *(len(_show(result.ami[k])) for k in keys))
    lines = [f"{'KPI'.ljust(width)}  {ami_label.rjust(left)}  {log_label}"]
    for key in keys:
        mark = "  <- differs" if key in result.kpis_differing else ""
        lines.append(
            f"{key.ljust(width)}  {_show(result.ami[key]).rjust(left)}  {_show(result.queue_log[key])}{mark}"
        )
    lines.append("")
    if result.differences:
        lines.append(f"{len(result.differences)} attempt(s) differ:")
        lines.extend(f"  {difference}" for difference in result.differences)
    else:
        lines.append(f"AMI and queue_log agree on all {result.attempts_compared} attempt(s).")
    if result.kpis_differing:
        lines.append("KPIs that differ: " + ", ".join(result.kpis_differing))
    return "\n".join(lines)
