"""The counting rules of groups and intervals (hotline.kpi.definitions), on real queue_log calls."""

from __future__ import annotations

import dataclasses

import pytest

from hotline.kpi.definitions import (
    BY_AGENT,
    BY_QUEUE,
    BY_SITE,
    PER_ATTEMPT,
    PER_CALL,
    by_agent,
    by_queue,
    by_site,
    group_attempts,
    summarize,
    summarize_by,
)
from hotline.kpi.facts import QueueAttempt
from hotline.kpi.from_queue_log import parse_queue_log
from hotline.kpi.reconcile import reconcile

from .conftest import CAPTURES, WITH_QUEUE_LOG


def _attempts(*names: str, pbx: str = "ref") -> list[QueueAttempt]:
    rows: list[QueueAttempt] = []
    for name in names:
        text = (CAPTURES / name / "queue_log").read_text(encoding="utf-8")
        rows += parse_queue_log(text, pbx=pbx).attempts
    return rows


def test_a_transfer_into_the_next_interval_is_offered_once() -> None:
    first, second = _attempts("blind-transfer")
    # Move the second queue's attempt past a boundary, as a long first conversation would.
    moved = [first, dataclasses.replace(second, entered_at=second.entered_at + 900)]
    buckets = summarize_by(moved, lambda a: 0 if a.attempt == 1 else 1)
    assert (buckets[0].offered, buckets[0].answered, buckets[1].offered) == (1, 1, 0)
    # Each interval measures the ACD call that entered in it.
    assert (buckets[0].acd_calls, buckets[0].aht, buckets[0].transfers) == (1, 4.0, 1)
    assert (buckets[1].acd_calls, buckets[1].aht, buckets[1].asa) == (1, 6.0, 2.0)
    whole = summarize(moved)
    assert sum(b.offered for b in buckets.values()) == whole.offered == 1
    assert sum(b.acd_calls for b in buckets.values()) == whole.acd_calls == 2


def test_buckets_add_up_to_the_whole() -> None:
    rows = _attempts(*WITH_QUEUE_LOG)
    whole = summarize(rows)
    per_queue_of_entry = summarize_by(rows, lambda a: int(a.entered_at) // 300)
    for name in ("offered", "answered", "abandoned", "timed_out", "waiting", "acd_calls", "transfers"):
        assert sum(getattr(b, name) for b in per_queue_of_entry.values()) == getattr(whole, name), name
    one_bucket = summarize_by(rows, lambda a: "all")
    assert one_bucket == {"all": whole}


def test_per_attempt_buckets_count_attempts() -> None:
    rows = _attempts("blind-transfer")
    assert summarize_by(rows, lambda a: "x", unit=PER_ATTEMPT)["x"].offered == 2
    with pytest.raises(ValueError, match="unit"):
        summarize_by(rows, lambda a: "x", unit="minute")


def test_groups_follow_by_queue_and_by_agent() -> None:
    rows = _attempts(*WITH_QUEUE_LOG)
    for by, reference in ((BY_QUEUE, by_queue(rows)), (BY_AGENT, by_agent(rows))):
        groups, unit = group_attempts(rows, by)
        assert unit == PER_ATTEMPT
        assert {name: summarize(members, unit=unit) for name, members in groups.items()} == reference
    with pytest.raises(ValueError, match="grouping"):
        group_attempts(rows, "team")


def test_sites_count_calls() -> None:
    rows = _attempts("abandon", "answered-hold", pbx="jakarta-1") + _attempts("blind-transfer", pbx="yogya-1")
    sites = by_site(rows, site_of=lambda pbx: pbx.split("-")[0].capitalize())
    assert list(sites) == ["Jakarta", "Yogya"]
    assert (sites["Jakarta"].offered, sites["Jakarta"].abandoned) == (2, 1)
    assert sites["Yogya"].offered == 1  # the blind transfer is one call
    assert group_attempts(rows, BY_SITE, site_of=str)[1] == PER_CALL


def test_reconcile_compares_field_by_field() -> None:
    rows = _attempts("ringnoanswer")
    same = reconcile(rows, [dataclasses.replace(r, source="queue_log") for r in rows])
    assert same.agree and same.attempts_compared == 1
    other_agent = [dataclasses.replace(rows[0], agent="Siti Rahma", handle_s=7.0)]
    differs = reconcile(rows, other_agent)
    assert not differs.agree and differs.kpis_differing == ["aht"]
    [difference] = differs.differences
    assert difference.fields == {"agent": ("Budi Santoso", "Siti Rahma"), "handle_s": (6.0, 7.0)}
    assert str(difference) == (
        "call 1795515046.0 attempt 1 (ref): agent ami=Budi Santoso queue_log=Siti Rahma; "
        "handle_s ami=6 queue_log=7"
    )
