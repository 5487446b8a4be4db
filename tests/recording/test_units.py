"""Pure pieces: Range parsing, WAV measuring, the capture tracker on real Asterisk 22 traffic, settings."""

from __future__ import annotations

import io
import zoneinfo
from pathlib import Path

import pytest

from hotline.ami.protocol import AmiParser, Event
from hotline.config import Config, ConfigError, PbxConfig, RecordingConfig
from recording.archive import UnsafeName, archive_relpath, archived_path, spool_candidates
from recording.capture import Answered, CaptureTracker, Ended, Joined, Muted, Started
from recording.ranges import ByteRange, RangeError, parse_range
from recording.search import FilterError, parse_filters
from recording.settings import RecordingSettings, parse_spool_dirs
from recording.wav import WavError, parse_header, pcm_header, write_tone

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk22"
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-", ByteRange(0, 999)),
        ("bytes=100-199", ByteRange(100, 199)),
        ("bytes=900-5000", ByteRange(900, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        (" Bytes = 5-5 ", ByteRange(5, 5)),
    ],
)
def test_ranges_that_are_served(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("bytes=1000-", 416),
        ("bytes=5000-6000", 416),
        ("bytes=-0", 416),
        ("bytes=abc", 400),
        ("bytes=-", 400),
        ("bytes=10-5", 400),
        ("items=0-10", 400),
        ("bytes=0-1,5-9", 400),
        ("0-10", 400),
        ("bytes=" + "9" * 300, 400),
    ],
)
def test_ranges_that_are_refused_say_why(header: str, status: int) -> None:
    with pytest.raises(RangeError) as caught:
        parse_range(header, 1000)
    assert caught.value.status == status and str(caught.value)


def test_wav_duration_from_a_written_tone_and_a_header_not_closed() -> None:
    buffer = io.BytesIO()
    write_tone(buffer, 1.5)
    data = buffer.getvalue()
    info = parse_header(data[:4096], len(data))
    assert (info.sample_rate, info.channels, info.audio_format) == (8000, 1, 1)
    assert info.duration_s == pytest.approx(1.5) and info.header_ok
    # Asterisk fills the sizes in only when it closes the file: a crash leaves 0 there.
    torn = pcm_header(0) + b"\x00" * 16000
    cut = parse_header(torn, len(torn))
    assert cut.duration_s == pytest.approx(1.0) and not cut.header_ok
    with pytest.raises(WavError):
        parse_header(b"ID3\x03not a wav at all", 100)


def _events(scenario: str) -> list[Event]:
    data = (FIXTURES / scenario / "ami.raw").read_bytes()
    return [m for m in AmiParser().messages(data) if isinstance(m, Event)]


def _facts(scenario: str) -> list[object]:
    tracker = CaptureTracker()
    return [fact for event in _events(scenario) for fact in tracker.feed("jakarta", event, 0.0)]


def test_capture_with_stopmixmonitor_in_h_ends_once() -> None:
    facts = _facts("answered-hold-stopmixmonitor")
    started = [f for f in facts if isinstance(f, Started)]
    ended = [f for f in facts if isinstance(f, Ended)]
    assert [(s.call_id, s.uniqueid, s.caller_number, s.direction) for s in started] == [
        ("1795516068.0", "1795516068.0", "081234567890", "inbound")
    ]
    # MixMonitorStop comes first; the caller's Hangup after it changes nothing.
    assert [(e.call_id, e.how) for e in ended] == [("1795516068.0", "stop")]
    answered = [f for f in facts if isinstance(f, Answered)]
    assert [(a.agent_name, a.interface, a.queue) for a in answered] == [
        ("Siti Rahma", "PJSIP/1001", "cc-informasi")
    ]
    assert [f.queue for f in facts if isinstance(f, Joined)] == ["cc-informasi"]


def test_capture_without_mixmonitorstop_ends_at_the_callers_hangup() -> None:
    facts = _facts("answered-hold")
    ended = [f for f in facts if isinstance(f, Ended)]
    assert len([f for f in facts if isinstance(f, Started)]) == 1
    assert [e.how for e in ended] == ["hangup"]


def test_blind_transfer_stays_one_recording_until_the_caller_leaves() -> None:
    events = _events("blind-transfer")
    tracker = CaptureTracker()
    facts = [fact for event in events for fact in tracker.feed("jakarta", event, 0.0)]
    started = [f for f in facts if isinstance(f, Started)]
    ended = [f for f in facts if isinstance(f, Ended)]
    assert len(started) == 1 and len(ended) == 1
    # The transferring agent's Hangup did not end it: the caller's did, at the very end.
    last_hangup = [e for e in events if e.name == "Hangup"][-1]
    assert ended[0].at == float(last_hangup["Timestamp"])
    assert [a.agent_name for a in facts if isinstance(a, Answered)] == ["Siti Rahma", "Budi Santoso"]


def test_mute_events_and_a_second_mixmonitor_of_the_same_call() -> None:
    tracker = CaptureTracker()
    base = (
        ("Channel", "PJSIP/provider-1"),
        ("Uniqueid", "1.0"),
        ("Linkedid", "1.0"),
        ("Context", "from-provider"),
    )
    assert tracker.feed("jakarta", Event((("Event", "MixMonitorStart"), *base)), 5.0)
    again = (("Event", "MixMonitorStart"), ("Uniqueid", "1.7"), ("Linkedid", "1.0"))
    assert tracker.feed("jakarta", Event(again), 6.0) == []
    mute = Event((("Event", "MixMonitorMute"), *base, ("Direction", "both"), ("State", "1")))
    assert tracker.feed("jakarta", mute, 7.0) == [Muted("jakarta", "1.0", 7.0, "both", True)]
    bad = Event((("Event", "MixMonitorMute"), *base, ("State", "maybe")))
    assert tracker.feed("jakarta", bad, 8.0) == []
    # Another PBX's channel with the same uniqueid is another call.
    assert tracker.feed("yogyakarta", Event((("Event", "Hangup"), *base)), 9.0) == []


def test_spool_candidates_follow_the_dialplan_and_refuse_odd_names(tmp_path: Path) -> None:
    at = 1795516071.0  # 2026-11-24 17:27 in Jakarta
    paths = spool_candidates(tmp_path, "jakarta", "1795516068.0", at, JAKARTA)
    assert paths[0] == tmp_path / "jakarta/2026/11/24/1795516068.0.wav"
    assert tmp_path / "1795516068.0.wav" in paths
    outside = spool_candidates(tmp_path, "jakarta", "1.0", at, JAKARTA, filename="/etc/passwd")
    assert Path("/etc/passwd") not in outside
    for bad in ("../x", "a/b", "", ".."):
        with pytest.raises(UnsafeName):
            spool_candidates(tmp_path, "jakarta", bad, at, JAKARTA)
    rel = archive_relpath("jakarta", at, JAKARTA, "1795516068.0", tmp_path / "1795516068.0.wav")
    assert rel == "jakarta/2026/11/24/1795516068.0/1795516068.0.wav"
    with pytest.raises(UnsafeName):
        archived_path(tmp_path, "../../etc/passwd")


def test_settings_parse_and_refuse_clearly() -> None:
    pbx = (PbxConfig("jakarta", "jakarta"), PbxConfig("yogyakarta", "yogyakarta"))
    assert parse_spool_dirs("/m", ["jakarta", "yogyakarta"]) == {
        "jakarta": Path("/m"),
        "yogyakarta": Path("/m"),
    }
    cfg = Config(
        pbx=pbx,
        recording=RecordingConfig(
            spool_dirs="jakarta=/a, yogyakarta=/b", retention_per_queue="cc-pengaduan=730"
        ),
    )
    settings = RecordingSettings.from_config(cfg)
    assert settings.spool_dirs == {"jakarta": Path("/a"), "yogyakarta": Path("/b")}
    assert (
        settings.retention_for("cc-pengaduan"),
        settings.retention_for("cc-umum"),
        settings.retention_for(None),
    ) == (
        730,
        365,
        365,
    )
    for bad, words in (
        (RecordingConfig(spool_dirs="jakarta=/a"), "no folder for PBX yogyakarta"),
        (RecordingConfig(spool_dirs="jakarta=/a,bali=/c,yogyakarta=/b"), "unknown PBX bali"),
        (RecordingConfig(retention_per_queue="cc-umum=soon"), "cc-umum"),
        (RecordingConfig(formats="mp3,flac"), "flac"),
        (RecordingConfig(retention_days=0), "retention_days"),
    ):
        with pytest.raises(ConfigError, match=words):
            RecordingSettings.from_config(Config(pbx=pbx, recording=bad))


def test_search_filters_parse_and_refuse_clearly() -> None:
    filters = parse_filters(
        {
            "from": "2026-11-24",
            "to": "2026-11-25T00:00+07:00",
            "agent": "1001",
            "scored": "false",
            "sort": "-duration",
        },
        JAKARTA,
    )
    assert filters.since == filters.until - 86400 and filters.agent == "1001" and filters.scored is False
    for params, words in (
        ({"from": "yesterday"}, "from"),
        ({"limit": "100000"}, "limit"),
        ({"sort": "caller_number"}, "sort"),
        ({"min_duration": "-3"}, "min_duration"),
        ({"from": "2026-11-25", "to": "2026-11-24"}, "before"),
        ({"password": "x"}, "unknown parameter"),
        ({"status": "gone"}, "status"),
    ):
        with pytest.raises(FilterError, match=words):
            parse_filters(params, JAKARTA)
