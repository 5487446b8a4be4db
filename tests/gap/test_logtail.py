"""Reading only the recent end of a large, rotated queue_log."""

from __future__ import annotations

import os
from pathlib import Path

from hotline.gapfill import queue_log_time
from hotline.logtail import BLOCK, read_since, rotated_siblings


def _line(at: int, verb: str = "RINGNOANSWER") -> str:
    return f"{at}|{at}.0|cc-informasi|Siti Rahma|{verb}|6000"


def _write(path: Path, stamps: range | list[int], *, mtime: float | None = None) -> None:
    path.write_text("".join(_line(t) + "\n" for t in stamps), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def _times(lines: list[str]) -> list[int]:
    return [int(line.split("|")[0]) for line in lines]


def test_only_the_tail_of_a_large_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    _write(path, range(1_000_000, 1_050_000))
    tail = read_since(path, 1_049_900, queue_log_time)
    assert _times(tail.lines) == list(range(1_049_900, 1_050_000))
    assert tail.reached_since and tail.files == [path]
    assert tail.bytes_read <= 2 * BLOCK < path.stat().st_size / 10


def test_the_whole_file_when_everything_is_newer(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    _write(path, range(100, 110))
    tail = read_since(path, 50, queue_log_time)
    assert _times(tail.lines) == list(range(100, 110))
    assert not tail.reached_since


def test_a_line_still_being_written_is_left_for_later(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    _write(path, range(100, 110))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("110|110.0|cc-informasi|NONE|ABAN")
    tail = read_since(path, 105, queue_log_time)
    assert _times(tail.lines) == list(range(105, 110))
    assert tail.unfinished


def test_malformed_lines_do_not_stop_the_scan_and_are_kept_for_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text(
        "\n".join(
            [_line(100), _line(101), "garbage without a time", "", _line(103), "\x00\x00|x", _line(104)]
        )
        + "\n",
        encoding="utf-8",
    )
    tail = read_since(path, 101, queue_log_time)
    assert tail.lines == [_line(101), "garbage without a time", _line(103), "\x00\x00|x", _line(104)]


def test_lines_longer_than_a_block_and_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    long_name = "Ś" * BLOCK
    path.write_bytes(
        (_line(100) + "\n").encode()
        + f"101|101.0|cc-informasi|NONE|ENTERQUEUE||{long_name}|1\n".encode()
        + b"102|102.0|cc-informasi|NONE|ENTERQUEUE||\xff\xfe|1\n"
    )
    tail = read_since(path, 101, queue_log_time)
    assert _times(tail.lines) == [101, 102]
    assert tail.lines[0].endswith(f"{long_name}|1")
    assert "\ufffd" in tail.lines[1]


def test_a_rotation_during_the_gap_is_followed_into_the_older_file(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    _write(tmp_path / "queue_log.1", range(10, 20), mtime=1_000)  # older rotation
    _write(tmp_path / "queue_log.0", range(20, 30), mtime=2_000)  # rotate: .0 is the newest
    _write(path, range(30, 35), mtime=3_000)
    (tmp_path / "queue_log.2.gz").write_bytes(b"\x1f\x8b compressed, never read")
    (tmp_path / "queue_log.old").write_text(_line(5) + "\n", encoding="utf-8")
    assert rotated_siblings(path) == [tmp_path / "queue_log.0", tmp_path / "queue_log.1"]
    tail = read_since(path, 25, queue_log_time)
    assert _times(tail.lines) == list(range(25, 35))
    assert tail.files == [path, tmp_path / "queue_log.0"]
    tail = read_since(path, 15, queue_log_time)
    assert _times(tail.lines) == list(range(15, 35))
    assert tail.files == [path, tmp_path / "queue_log.0", tmp_path / "queue_log.1"]


def test_sequential_rotation_is_ordered_by_age_not_by_number(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    _write(tmp_path / "queue_log.0", range(10, 20), mtime=1_000)  # sequential: the highest is newest
    _write(tmp_path / "queue_log.1", range(20, 30), mtime=2_000)
    tail = read_since(path, 18, queue_log_time)  # the current file is missing (just rotated)
    assert _times(tail.lines) == list(range(18, 30))
    assert tail.files == [tmp_path / "queue_log.1", tmp_path / "queue_log.0"]


def test_a_rotated_file_ending_without_a_newline_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    (tmp_path / "queue_log.0").write_text(_line(10) + "\n" + _line(11), encoding="utf-8")
    assert _times(read_since(path, 0, queue_log_time).lines) == [10, 11]


def test_no_file_at_all(tmp_path: Path) -> None:
    tail = read_since(tmp_path / "queue_log", 0, queue_log_time)
    assert (tail.lines, tail.files) == ([], [])
    assert rotated_siblings(tmp_path / "absent" / "queue_log") == []
