"""What one misbehaving client makes a server hold: memory and sockets, measured.

Against a real uvicorn started as the tests start it (the recommended protocol class):

- 20 readers that subscribe and never read, sent 1 MB broadcasts until the cable
  has dropped them all: how many broadcasts that took, the peak growth of the
  server's RSS, and how many of their sockets the server still holds afterwards;
- one client sending 125-byte pings for 10 s without reading: RSS growth;
- 20 sockets each announcing a 16 MiB frame and sending its payload: how many the
  server refused, and RSS growth.

Run from a checkout: ``.venv/bin/python benchmarks/bench_client_bounds.py``. To see
the figures of another server command, edit ``tests/servers.py`` in that checkout.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from tests.raw_websocket import PING, RawWebSocket, encode_frame, frame_header  # noqa: E402
from tests.servers import LiveServer, live_server  # noqa: E402
from tests.test_cable_resources import (  # noqa: E402
    MEGABYTE_OF_HTML,
    MiB,
    held_sockets,
    rss,
    stalled_reader,
    subscribed,
)

READERS, MOST_BROADCASTS, SOCKETS_WAIT = 20, 60, 45.0


def slow_readers(server: LiveServer) -> str:
    sockets_before, rss_before = held_sockets(server), rss(server)
    stalled = [stalled_reader(server, "big") for _ in range(READERS)]
    subscribed(server, "big", READERS)
    sent = peak = 0
    while server.broadcast("big", MEGABYTE_OF_HTML)[1]["recipients"] and sent < MOST_BROADCASTS:
        sent += 1
        peak = max(peak, rss(server) - rss_before)
    started = time.monotonic()
    while held_sockets(server) > sockets_before and time.monotonic() - started < SOCKETS_WAIT:
        time.sleep(0.2)
    held = held_sockets(server) - sockets_before
    for raw in stalled:
        raw.close()
    dropped = f"{sent}" if sent < MOST_BROADCASTS else f"not within {MOST_BROADCASTS}"
    return (
        f"{READERS} stalled readers: dropped after {dropped} broadcasts of 1 MB; peak RSS "
        f"+{peak / MiB:.0f} MiB; sockets held {time.monotonic() - started:.1f} s later: {held}"
    )


def ping_flood(server: LiveServer, seconds: float = 10.0) -> str:
    before = rss(server)
    raw = RawWebSocket(server.port, receive_buffer=1024)
    raw.sock.settimeout(0.2)
    pings, sent = encode_frame(b"p" * 125, PING) * 200, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            raw.sock.sendall(pings)
            sent += len(pings)
        except TimeoutError:
            continue
    growth = rss(server) - before
    raw.close()
    taken = f"{sent / MiB:.0f} MiB of pings taken"
    return f"ping flood {seconds:.0f} s: {taken}, RSS +{growth / MiB:.0f} MiB"


def unfinished_frames(server: LiveServer, count: int = 20) -> str:
    before, refused, sockets = rss(server), 0, []
    for _ in range(count):
        raw = RawWebSocket(server.port)
        raw.sock.settimeout(2)
        try:
            raw.sock.sendall(frame_header(16 * MiB - 1))
            for _ in range(63):
                raw.sock.sendall(b"x" * (256 * 1024))
        except (ConnectionError, TimeoutError):
            refused += 1
        sockets.append(raw)
    growth = rss(server) - before
    for raw in sockets:
        raw.close()
    return f"{count} unfinished 16 MiB frames: {refused} refused, RSS +{growth / MiB:.0f} MiB"


def main() -> None:
    with live_server("uvicorn") as server:
        print(slow_readers(server))
        time.sleep(1)
        print(ping_flood(server))
        time.sleep(1)
        print(unfinished_frames(server))


if __name__ == "__main__":
    main()
