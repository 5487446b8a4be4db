"""A small Prometheus registry that renders the text exposition format 0.0.4.

Why not ``prometheus_client``: hotline needs counters, gauges and values read
at scrape time, nothing more, and one module is easier to pin with tests than
another dependency. The components keep their own stats objects (the AMI
client, the AGI server); :meth:`Registry.gauge_func` / :meth:`Registry.counter_func`
read them when Prometheus scrapes, so no increment has to be wired twice.

Everything runs on the event loop thread, so there is no locking.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

from hotline.logs import get_logger

log = get_logger(__name__)

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

MetricType = Literal["counter", "gauge"]
LabelValues = tuple[str, ...]
CallbackValue = float | Mapping[Any, float]
"""A callback returns one number (no labels), or a number per label value (one label) or per
tuple of label values."""


def format_value(value: float) -> str:
    """Go-style float text: integers without a fraction, ``+Inf``/``-Inf``/``NaN`` spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _check_labels(labelnames: Iterable[str]) -> tuple[str, ...]:
    names = tuple(labelnames)
    for label in names:
        if not _LABEL_NAME.match(label) or label.startswith("__"):
            raise ValueError(f"invalid label name {label!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate label names in {names!r}")
    return names


class _Metric:
    """What every metric shares: a name, help text, label names and a way to list its samples."""

    type: MetricType

    def __init__(self, name: str, help: str, labelnames: Iterable[str] = ()) -> None:
        if not _METRIC_NAME.match(name):
            raise ValueError(f"invalid metric name {name!r}")
        self.name = name
        self.help = help
        self.labelnames = _check_labels(labelnames)

    def _key(self, args: tuple[str, ...], kwargs: Mapping[str, str]) -> LabelValues:
        if args and kwargs:
            raise ValueError("give label values by position or by name, not both")
        if kwargs:
            if set(kwargs) != set(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(kwargs)}")
            return tuple(str(kwargs[n]) for n in self.labelnames)
        if len(args) != len(self.labelnames):
            raise ValueError(f"{self.name} takes {len(self.labelnames)} label values, got {len(args)}")
        return tuple(str(a) for a in args)

    def samples(self) -> Iterable[tuple[LabelValues, float]]:
        raise NotImplementedError


class _Child:
    """One labelled series of a Counter or Gauge."""

    __slots__ = ("_is_counter", "value")

    def __init__(self, is_counter: bool) -> None:
        self.value = 0.0
        self._is_counter = is_counter

    def inc(self, amount: float = 1.0) -> None:
        if self._is_counter and amount < 0:
            raise ValueError("a counter only goes up; use a gauge for values that fall")
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        if self._is_counter:
            raise ValueError("a counter cannot be decremented")
        self.value -= amount

    def set(self, value: float) -> None:
        if self._is_counter:
            raise ValueError("a counter cannot be set")
        self.value = float(value)


class _Stored(_Metric):
    def __init__(self, name: str, help: str, labelnames: Iterable[str] = ()) -> None:
        super().__init__(name, help, labelnames)
        self._children: dict[LabelValues, _Child] = {}
        if not self.labelnames:
            # An unlabelled metric is exported as 0 from the start, so rates work from the first scrape.
            self._children[()] = _Child(self.type == "counter")

    def labels(self, *values: str, **named: str) -> _Child:
        key = self._key(values, named)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = _Child(self.type == "counter")
        return child

    def _unlabelled(self) -> _Child:
        if self.labelnames:
            raise ValueError(f"{self.name} has labels {self.labelnames}: use .labels(...)")
        return self._children[()]

    def samples(self) -> Iterable[tuple[LabelValues, float]]:
        return [(k, c.value) for k, c in self._children.items()]

    def value(self, *values: str, **named: str) -> float:
        """Current value of one series (0 if never touched); for tests and health checks."""
        child = self._children.get(self._key(values, named))
        return child.value if child else 0.0


class Counter(_Stored):
    type: MetricType = "counter"

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)


class Gauge(_Stored):
    type: MetricType = "gauge"

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        self._unlabelled().dec(amount)

    def set(self, value: float) -> None:
        self._unlabelled().set(value)


class _Callback(_Metric):
    def __init__(
        self,
        name: str,
        help: str,
        kind: MetricType,
        func: Callable[[], CallbackValue],
        labelnames: Iterable[str] = (),
    ) -> None:
        super().__init__(name, help, labelnames)
        self.type = kind
        self._func = func

    def samples(self) -> Iterable[tuple[LabelValues, float]]:
        result = self._func()
        if isinstance(result, Mapping):
            out = []
            for key, value in result.items():
                values = (key,) if isinstance(key, str) else tuple(key)
                if len(values) != len(self.labelnames):
                    raise ValueError(f"{self.name}: label values {values!r} do not match {self.labelnames}")
                out.append((tuple(str(v) for v in values), float(value)))
            return out
        if self.labelnames:
            raise ValueError(f"{self.name} has labels but its callback returned a single number")
        return [((), float(result))]


class Registry:
    """The metrics of one process; :meth:`render` is what ``GET /metrics`` returns."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def register(self, metric: _Metric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name!r} is already registered")
        self._metrics[metric.name] = metric

    def counter(self, name: str, help: str, labelnames: Iterable[str] = ()) -> Counter:
        metric = Counter(name, help, labelnames)
        self.register(metric)
        return metric

    def gauge(self, name: str, help: str, labelnames: Iterable[str] = ()) -> Gauge:
        metric = Gauge(name, help, labelnames)
        self.register(metric)
        return metric

    def gauge_func(
        self, name: str, help: str, func: Callable[[], CallbackValue], labelnames: Iterable[str] = ()
    ) -> None:
        """A gauge whose value(s) ``func`` returns at each scrape."""
        self.register(_Callback(name, help, "gauge", func, labelnames))

    def counter_func(
        self, name: str, help: str, func: Callable[[], CallbackValue], labelnames: Iterable[str] = ()
    ) -> None:
        """A counter kept elsewhere (a stats object's running total), read at each scrape."""
        self.register(_Callback(name, help, "counter", func, labelnames))

    def names(self) -> list[str]:
        return sorted(self._metrics)

    def render(self) -> str:
        """Exposition format 0.0.4. A failing callback costs its own samples, never the scrape."""
        lines: list[str] = []
        for name in sorted(self._metrics):
            metric = self._metrics[name]
            try:
                samples = list(metric.samples())
            except Exception as exc:  # one broken stats object must not hide every other metric
                log.warning("metric callback failed", metric=name, error=repr(exc))
                samples = []
            lines.append(f"# HELP {name} {escape_help(metric.help)}")
            lines.append(f"# TYPE {name} {metric.type}")
            for values, number in sorted(samples):
                if values:
                    pairs = ",".join(
                        f'{label}="{escape_label_value(v)}"'
                        for label, v in zip(metric.labelnames, values, strict=True)
                    )
                    lines.append(f"{name}{{{pairs}}} {format_value(number)}")
                else:
                    lines.append(f"{name} {format_value(number)}")
        return "\n".join(lines) + "\n" if lines else ""
