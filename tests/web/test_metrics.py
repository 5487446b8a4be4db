"""hotline.metrics: the Prometheus text format 0.0.4, checked line by line."""

from __future__ import annotations

import math
import re

import pytest

from hotline.metrics import Registry, escape_label_value, format_value

# One sample line of the exposition format: name, optional {labels}, value.
_SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? '
    r"(-?[0-9.e+-]+|\+Inf|-Inf|NaN)$"
)


def assert_valid_exposition(text: str) -> None:
    """Every line is HELP, TYPE or a sample; every sample's metric was TYPE'd before it."""
    assert text.endswith("\n")
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge"}
            typed.add(name)
            continue
        assert _SAMPLE.match(line), line
        assert re.split(r"[{ ]", line, maxsplit=1)[0] in typed


def test_counter_and_gauge_render_with_help_type_and_labels() -> None:
    registry = Registry()
    calls = registry.counter("hotline_calls_total", "Calls offered", ["pbx", "queue"])
    calls.labels("jakarta", "cc-informasi").inc()
    calls.labels(pbx="jakarta", queue="cc-informasi").inc(2)
    calls.labels("yogyakarta", "cc-pengaduan").inc()
    agents = registry.gauge("hotline_agents_ready", "Agents ready")
    agents.set(5)
    agents.dec()
    text = registry.render()
    assert_valid_exposition(text)
    assert text == (
        "# HELP hotline_agents_ready Agents ready\n"
        "# TYPE hotline_agents_ready gauge\n"
        "hotline_agents_ready 4\n"
        "# HELP hotline_calls_total Calls offered\n"
        "# TYPE hotline_calls_total counter\n"
        'hotline_calls_total{pbx="jakarta",queue="cc-informasi"} 3\n'
        'hotline_calls_total{pbx="yogyakarta",queue="cc-pengaduan"} 1\n'
    )


def test_label_values_and_help_are_escaped() -> None:
    registry = Registry()
    registry.counter("x_total", 'help with \\ and\nnewline "quotes" kept', ["name"]).labels('a"b\\c\nd').inc()
    text = registry.render()
    assert '# HELP x_total help with \\\\ and\\nnewline "quotes" kept\n' in text
    assert 'x_total{name="a\\"b\\\\c\\nd"} 1\n' in text
    assert_valid_exposition(text)
    assert escape_label_value("Śantoso") == "Śantoso"


def test_callback_metrics_are_read_at_scrape_time() -> None:
    stats = {"connected": 1, "events": 10}
    registry = Registry()
    registry.gauge_func(
        "hotline_ami_connected", "AMI link up", lambda: {("jakarta",): stats["connected"]}, ["pbx"]
    )
    registry.counter_func("hotline_ami_events_total", "AMI events read", lambda: stats["events"])
    registry.gauge_func("hotline_one_label", "Mapping keyed by plain strings", lambda: {"a": 1.5}, ["k"])
    assert 'hotline_ami_connected{pbx="jakarta"} 1\n' in registry.render()
    stats.update(connected=0, events=25)
    text = registry.render()
    assert 'hotline_ami_connected{pbx="jakarta"} 0\n' in text
    assert "hotline_ami_events_total 25\n" in text
    assert 'hotline_one_label{k="a"} 1.5\n' in text
    assert "# TYPE hotline_ami_events_total counter\n" in text
    assert_valid_exposition(text)


def test_a_failing_callback_costs_only_its_own_samples() -> None:
    registry = Registry()

    def broken() -> float:
        raise RuntimeError("stats object gone")

    registry.gauge_func("a_broken", "fails", broken)
    registry.gauge("b_fine", "works").set(1)
    text = registry.render()
    assert "# TYPE a_broken gauge\n" in text
    assert "\na_broken " not in text
    assert "b_fine 1\n" in text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.25, "0.25"),
        (-3.0, "-3"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
        (1e20, "1e+20"),
    ],
)
def test_values_are_formatted_as_prometheus_reads_them(value: float, text: str) -> None:
    assert format_value(value) == text


def test_misuse_is_refused_clearly() -> None:
    registry = Registry()
    counter = registry.counter("c_total", "c", ["pbx"])
    with pytest.raises(ValueError, match="only goes up"):
        counter.labels("j").inc(-1)
    with pytest.raises(ValueError, match=r"use \.labels"):
        counter.inc()
    with pytest.raises(ValueError, match="takes 1 label values"):
        counter.labels("a", "b")
    with pytest.raises(ValueError, match="already registered"):
        registry.gauge("c_total", "again")
    with pytest.raises(ValueError, match="invalid metric name"):
        registry.gauge("bad-name", "dash")
    with pytest.raises(ValueError, match="invalid label name"):
        registry.gauge("g", "g", ["__reserved"])
    registry.gauge_func("wrong_arity", "w", lambda: {("a", "b"): 1.0}, ["only_one"])
    assert "wrong_arity{" not in registry.render()


def test_an_empty_registry_renders_nothing() -> None:
    assert Registry().render() == ""
    registry = Registry()
    registry.counter("fresh_total", "never incremented")
    assert "fresh_total 0\n" in registry.render()
