"""A PBX that resets the TCP connection (RST) right after writing: nothing it sent is lost.

The fake servers write real Asterisk 22 events, wait until the client's kernel has acknowledged
every byte (so the RST discards nothing that was sent), then close with SO_LINGER 0, which makes
Linux send an RST instead of a FIN. The client must still hand every complete event to the
subscriber, drop a trailing partial frame with a warning, and reconnect. The hardest case is a
client that writes (a Ping, an action) before it has read what waits in its kernel: asyncio
then stops reading the socket at once, and those events were lost with asyncio streams.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
import sys
import termios
import threading
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any

import pytest
from structlog.testing import capture_logs

from hotline.ami.actions import AmiLinkDown
from hotline.ami.client import AmiClient
from hotline.ami.dispatch import EventDispatcher, PbxEvent
from hotline.ami.protocol import AmiParser, Event
from hotline.config import PbxConfig

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SIOCOUTQ and RST-on-close are Linux's")


def _unacknowledged(sock: Any) -> int:
    """Bytes of the socket's send queue the peer has not acknowledged yet (Linux SIOCOUTQ)."""
    raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    return int(struct.unpack("i", raw)[0])


def _reset_on_close(sock: Any) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def _write_then_reset(conn: Any, data: bytes) -> None:
    writer = conn.writer
    writer.write(data)
    await writer.drain()
    sock = writer.get_extra_info("socket")
    while _unacknowledged(sock):
        await asyncio.sleep(0.001)
    _reset_on_close(sock)
    writer.transport.abort()


def _events_after_login(kit: ModuleType, scenario: str) -> bytes:
    body: bytes = kit.without_banner(kit.fixture_bytes(scenario))
    return body[body.index(b"\r\n\r\n") + 4 :]


class Subscriber:
    """An AmiClient feeding a real EventDispatcher, and one '*' subscriber that keeps every event."""

    def __init__(self, server: Any, **pbx_overrides: Any) -> None:
        self.dispatcher = EventDispatcher()
        self.received: list[PbxEvent] = []
        self.dispatcher.subscribe("*", self.received.append, name="test")
        self.client = AmiClient(
            server.pbx(**pbx_overrides),
            on_event=self.dispatcher.publish,
            jitter=lambda: 0.0,
            backoff_base=0.01,
        )

    def on_connection(self, number: int) -> list[Event]:
        return [item.event for item in self.received if item.connection == number]


@pytest.fixture
async def subscriber(fake_ami: Any) -> AsyncIterator[tuple[Any, Subscriber]]:
    server = fake_ami()
    await server.start()
    made = Subscriber(server)
    await made.dispatcher.start()
    yield server, made
    await made.client.stop()
    await made.dispatcher.stop()


def _reset_first_connection(server: Any, data: bytes) -> list[asyncio.Task[None]]:
    """After the first login, write ``data`` and reset; later connections get nothing."""
    tasks: list[asyncio.Task[None]] = []

    def after_login(conn: Any) -> None:
        if conn.number == 1:
            tasks.append(asyncio.create_task(_write_then_reset(conn, data)))

    server.after_login = after_login
    return tasks


@pytest.mark.parametrize("copies", [1, 40])
async def test_every_event_sent_before_the_reset_reaches_the_subscriber(
    subscriber: tuple[Any, Subscriber], kit: ModuleType, copies: int
) -> None:
    server, sub = subscriber
    one_call = _events_after_login(kit, "two-calls-concurrent")
    data = one_call * copies  # 40 copies: about 4.6 MB, far more than one socket read
    expected = [m for m in AmiParser(expect_banner=False).messages(data) if isinstance(m, Event)]
    tasks = _reset_first_connection(server, data)
    with capture_logs() as logs:
        await sub.client.start()
        await kit.eventually(lambda: sub.client.status.connections == 2, within=20)
        await asyncio.gather(*tasks)
        await kit.eventually(lambda: len(sub.on_connection(1)) >= len(expected), within=20)
    assert sub.on_connection(1) == expected
    assert [item.seq for item in sub.received if item.connection == 1] == list(range(1, len(expected) + 1))
    [down] = [e for e in logs if e["event"] == "AMI link down"]
    assert down["error"].startswith("ConnectionResetError")
    assert not [e for e in logs if "mid-frame" in e["event"]]


async def test_a_partial_last_event_is_dropped_with_a_warning(
    subscriber: tuple[Any, Subscriber], kit: ModuleType
) -> None:
    server, sub = subscriber
    events = _events_after_login(kit, "answered-hold")
    cut = events.rindex(b"Event: ") + 40  # inside the last event
    expected = [m for m in AmiParser(expect_banner=False).messages(events[:cut]) if isinstance(m, Event)]
    tasks = _reset_first_connection(server, events[:cut])
    with capture_logs() as logs:
        await sub.client.start()
        await kit.eventually(lambda: sub.client.status.connections == 2 and sub.client.connected)
        await asyncio.gather(*tasks)
        await kit.eventually(lambda: len(sub.on_connection(1)) >= len(expected))
    assert sub.on_connection(1) == expected
    [partial] = [e for e in logs if e["event"] == "AMI link closed mid-frame; partial frame discarded"]
    assert partial["log_level"] == "warning" and partial["bytes"] == cut - events.rindex(b"Event: ")
    [down] = [e for e in logs if e["event"] == "AMI link down"]
    assert down["error"].startswith("ConnectionResetError")
    assert sub.client.status.state == "connected"


class ThreadedPbx:
    """AMI over blocking sockets in threads, so it can send and reset while the test holds the loop.

    Every connection gets the banner and answers to Login, Ping and Logoff. After the first login
    it waits for :attr:`go`, writes ``payload``, waits for the client's kernel to acknowledge it
    and resets the connection; :attr:`reset_done` tells when.
    """

    def __init__(self, payload: bytes, kit: ModuleType) -> None:
        self.payload = payload
        self._kit = kit
        self.go = threading.Event()
        self.reset_done = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def pbx(self, **overrides: Any) -> PbxConfig:
        """The same PbxConfig as the asyncio fake's, on this server's port."""
        fake = self._kit.FakeAmi()
        fake.port = self.port
        config: PbxConfig = fake.pbx(**overrides)
        return config

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        number = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            number += 1
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn:
            conn.settimeout(0.05)
            conn.sendall(b"Asterisk Call Manager/11.0.0\r\n")
            pending = b""
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                actions, pending = self._kit.parse_actions(pending + data)
                for action in actions:
                    if not self._answer(conn, number, action):
                        return

    def _answer(self, conn: socket.socket, number: int, action: dict[str, str]) -> bool:
        """Reply to one action; False once the connection is over."""
        name, action_id = action.get("Action", ""), action.get("ActionID", "")
        if name == "Logoff":
            conn.sendall(f"Response: Goodbye\r\nActionID: {action_id}\r\n\r\n".encode())
            return False
        conn.sendall(f"Response: Success\r\nActionID: {action_id}\r\n\r\n".encode())
        if name != "Login" or number != 1:
            return True
        self.go.wait(10)
        conn.sendall(self.payload)
        while _unacknowledged(conn):
            if self._stop.wait(0.001):
                return False
        _reset_on_close(conn)
        conn.close()
        self.reset_done.set()
        return False


@pytest.fixture
def threaded_pbx(kit: ModuleType) -> Iterator[ThreadedPbx]:
    # Small enough for the client's receive window while the loop is held (no read makes it grow).
    server = ThreadedPbx(_events_after_login(kit, "agi-hangup"), kit)
    yield server
    server.close()


async def test_events_waiting_in_the_kernel_survive_a_write_into_the_reset_socket(
    threaded_pbx: ThreadedPbx, kit: ModuleType
) -> None:
    expected = [
        m for m in AmiParser(expect_banner=False).messages(threaded_pbx.payload) if isinstance(m, Event)
    ]
    sub = Subscriber(threaded_pbx)
    await sub.dispatcher.start()
    try:
        await sub.client.start()
        await kit.eventually(lambda: sub.client.connected)
        threaded_pbx.go.set()
        # Hold the loop (as a busy process would) while the PBX sends and resets: the events and
        # the RST wait in the kernel. The Ping then runs before the socket is read, and its send
        # fails with ECONNRESET.
        assert threaded_pbx.reset_done.wait(10)
        ping = asyncio.ensure_future(sub.client.send_action("Ping"))
        with pytest.raises(AmiLinkDown):
            await ping
        await kit.eventually(lambda: len(sub.on_connection(1)) >= len(expected))
        assert sub.on_connection(1) == expected
        await kit.eventually(lambda: sub.client.status.connections == 2 and sub.client.connected)
    finally:
        await sub.client.stop()
        await sub.dispatcher.stop()
