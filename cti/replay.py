"""Per-subject event streams: increasing ids and a bounded buffer of recent messages.

A subject is whoever a token names (agent ``1001``, team leader ``tl.ani``). Its
ids increase by one per message, whatever socket (or none) is connected, so a
client that reconnects with the last id it saw can be sent exactly what it missed.
The buffer is bounded (``size`` messages per subject, ``max_subjects`` subjects,
least recently used forgotten first); a gap older than the buffer is reported,
never silently skipped.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Final

DEFAULT_SIZE: Final = 200
DEFAULT_MAX_SUBJECTS: Final = 20_000


@dataclass
class Stream:
    last_id: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=deque)

    def replay_after(self, last_seen: int) -> tuple[list[str], int | None]:
        """Messages after ``last_seen``, and the first id that can no longer be sent (None: no gap)."""
        if last_seen >= self.last_id:
            return [], None
        oldest = self.buffer[0][0] if self.buffer else self.last_id + 1
        missing = oldest if last_seen + 1 < oldest else None
        return [text for number, text in self.buffer if number > last_seen], missing


class Streams:
    def __init__(self, size: int = DEFAULT_SIZE, max_subjects: int = DEFAULT_MAX_SUBJECTS) -> None:
        self.size = size
        self._max = max_subjects
        self._streams: OrderedDict[str, Stream] = OrderedDict()

    def get(self, subject: str) -> Stream | None:
        return self._streams.get(subject)

    def stream(self, subject: str) -> Stream:
        stream = self._streams.get(subject)
        if stream is None:
            stream = self._streams[subject] = Stream(buffer=deque(maxlen=self.size))
            while len(self._streams) > self._max:
                self._streams.popitem(last=False)
        else:
            self._streams.move_to_end(subject)
        return stream

    def next_id(self, subject: str) -> int:
        stream = self.stream(subject)
        stream.last_id += 1
        return stream.last_id

    def record(self, subject: str, number: int, text: str) -> None:
        """Keep a sent message for a later replay (only when the buffer is on)."""
        if self.size > 0:
            self.stream(subject).buffer.append((number, text))

    def __len__(self) -> int:
        return len(self._streams)
