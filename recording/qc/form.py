"""The scoring form: weighted criteria from the manual's call-handling steps, and the QM total.

Each criterion is rated 0-100 (how fully the agent did it) or ``None`` when it does not apply
(cross-selling when the customer showed no interest). The total is the weighted mean of the
applicable ratings, so it stays on 0-100 whatever the weights add up to; QM target 90 (manual
§3.2). The form's digest is stored with every score, and so are the weights, so changing the
form later never changes a score already given.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from hotline.config import ConfigError

LABELS: Final = {
    "greeting": "Greeting (salam pembuka)",
    "identification": "Asks the caller's name and domicile",
    "needs": "Identifies the need and confirms it",
    "accuracy": "Accurate information, or correct escalation to Tier 2",
    "empathy": "Empathy and courtesy",
    "closing": "Confirms satisfaction, offers more help, closing greeting",
    "cross_selling": "Cross-selling offer (when the customer is interested)",
}
"""Labels of the criteria named in the manual (§4.3.1); other names are shown as written."""
_KEY: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")


class ScoreError(ValueError):
    """Ratings that do not fit the form; the message names the criterion and what is wrong."""


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    weight: float


def parse_criteria(items: Iterable[str]) -> tuple[Criterion, ...]:
    """``("greeting=10", ...)`` -> criteria in that order (each weight > 0, no name twice)."""
    criteria: list[Criterion] = []
    for item in items:
        key, sep, weight_text = item.strip().partition("=")
        key = key.strip().lower()
        try:
            weight = float(weight_text) if sep else math.nan
        except ValueError:
            weight = math.nan
        if not _KEY.fullmatch(key) or not math.isfinite(weight) or weight <= 0:
            raise ConfigError(f"[qc] criteria: {item!r} is not <name>=<weight> (e.g. greeting=10)")
        if any(c.key == key for c in criteria):
            raise ConfigError(f"[qc] criteria: {key} appears twice")
        criteria.append(Criterion(key, LABELS.get(key, key.replace("_", " ").capitalize()), weight))
    if not criteria:
        raise ConfigError("[qc] criteria is empty: the form needs at least one criterion")
    return tuple(criteria)


def weighted_total(items: Iterable[tuple[float, float | None]]) -> float | None:
    """The weighted mean of the applicable ``(weight, rating)`` pairs, 0-100, one decimal."""
    applicable = [(w, r) for w, r in items if r is not None]
    weights = sum(w for w, _ in applicable)
    if not applicable or weights <= 0:
        return None
    return round(sum(w * r for w, r in applicable) / weights, 1)


@dataclass(frozen=True)
class Sheet:
    """Ratings checked against a form: what a score row stores."""

    form: str
    ratings: tuple[tuple[Criterion, float | None], ...]
    total: float


@dataclass(frozen=True)
class Form:
    criteria: tuple[Criterion, ...]
    target: float = 90.0

    @property
    def digest(self) -> str:
        """Names the form version a score was given on (criteria and weights)."""
        text = ";".join(f"{c.key}={c.weight:g}" for c in self.criteria)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def public(self) -> dict[str, object]:
        return {
            "form": self.digest,
            "target": self.target,
            "criteria": [{"key": c.key, "label": c.label, "weight": c.weight} for c in self.criteria],
        }

    def sheet(self, ratings: object) -> Sheet:
        """Check ``{"greeting": 100, ..., "cross_selling": null}``: every criterion, nothing else."""
        if not isinstance(ratings, Mapping):
            raise ScoreError('ratings must be an object {"<criterion>": 0-100 or null}')
        known = {c.key for c in self.criteria}
        unknown = sorted(str(k)[:32] for k in ratings if k not in known)
        if unknown:
            raise ScoreError(f"unknown criteria {', '.join(unknown)} (the form has {', '.join(known)})")
        checked: list[tuple[Criterion, float | None]] = []
        for criterion in self.criteria:
            if criterion.key not in ratings:
                raise ScoreError(f"{criterion.key} is not rated (give 0-100, or null if it does not apply)")
            checked.append((criterion, _rating(criterion.key, ratings[criterion.key])))
        total = weighted_total((c.weight, r) for c, r in checked)
        if total is None:
            raise ScoreError("at least one criterion must apply (not every rating can be null)")
        return Sheet(self.digest, tuple(checked), total)


def _rating(key: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScoreError(f"{key}: the rating must be a number 0-100 or null")
    if not 0 <= value <= 100:
        raise ScoreError(f"{key}: the rating {value} is outside 0-100")
    return float(value)
