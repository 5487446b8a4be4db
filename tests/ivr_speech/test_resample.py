"""The 8 -> 16 kHz upsampler: level kept, images removed, streaming equals one pass."""

from __future__ import annotations

import math
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.speech.resample import HALF_TAPS, Upsampler2x


def tone(freq: float, count: int, rate: int = 8000, amplitude: float = 10000) -> bytes:
    return array(
        "h", [round(amplitude * math.sin(2 * math.pi * freq * i / rate)) for i in range(count)]
    ).tobytes()


def samples(pcm: bytes) -> list[int]:
    values = array("h")
    values.frombytes(pcm)
    return values.tolist()


def level(values: list[int], freq: float, rate: int) -> float:
    """Amplitude of one frequency (Goertzel)."""
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in values:
        s1, s2 = x + k * s1 - s2, s1
    return math.sqrt(s1 * s1 + s2 * s2 - k * s1 * s2) * 2 / len(values)


def test_output_has_twice_the_samples() -> None:
    assert len(Upsampler2x().process(bytes(640))) == 1280
    assert Upsampler2x().process(b"") == b""


@pytest.mark.parametrize("freq", [300, 1000, 2500])
def test_voice_band_keeps_its_level_and_pitch(freq: int) -> None:
    out = samples(Upsampler2x().process(tone(freq, 8000)))[100:]
    assert level(out, freq, 16000) == pytest.approx(10000, rel=0.01)


@pytest.mark.parametrize(("freq", "min_rejection_db"), [(1000, 70), (2500, 50), (3000, 40)])
def test_mirror_images_above_4khz_are_removed(freq: int, min_rejection_db: float) -> None:
    """Linear interpolation would leave an image at 8000 - f; the filter must not."""
    out = samples(Upsampler2x().process(tone(freq, 8000)))[100:]
    image = level(out, 8000 - freq, 16000)
    assert 20 * math.log10(10000 / max(image, 1e-9)) > min_rejection_db


def test_input_samples_pass_through_unchanged_after_the_delay() -> None:
    source = samples(tone(700, 400))
    out = samples(Upsampler2x().process(array("h", source).tobytes()))
    assert out[2 * HALF_TAPS :: 2] == source[: len(source) - HALF_TAPS]


def test_silence_stays_silent_and_dc_stays_level() -> None:
    assert Upsampler2x().process(bytes(320)) == bytes(640)
    out = samples(Upsampler2x().process(array("h", [1000] * 200).tobytes()))
    assert all(abs(v - 1000) <= 1 for v in out[4 * HALF_TAPS :])


def test_full_scale_edges_are_clipped_not_wrapped() -> None:
    square = array("h", ([32767] * 4 + [-32768] * 4) * 50).tobytes()
    out = samples(Upsampler2x().process(square))
    assert max(out) == 32767 and min(out) == -32768
    # Overshoot at an edge would wrap to the opposite sign without clipping.
    assert all(v >= 0 for v in out[2 * HALF_TAPS + 1 : 2 * HALF_TAPS + 6])


def test_odd_byte_count_is_refused() -> None:
    with pytest.raises(ValueError, match="whole 16-bit samples"):
        Upsampler2x().process(b"\x00\x01\x02")


@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=300), st.integers(1, 50))
def test_chunked_stream_equals_one_pass(values: list[int], chunk: int) -> None:
    pcm = array("h", values).tobytes()
    whole = Upsampler2x().process(pcm)
    streaming = Upsampler2x()
    parts = b"".join(streaming.process(pcm[i : i + 2 * chunk]) for i in range(0, len(pcm), 2 * chunk))
    assert parts == whole
