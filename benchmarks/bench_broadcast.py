"""How long one ``broadcast_replace_to`` takes from a model, and how many a process sustains.

Starts its own uvicorn server running the test project, subscribes one real
WebSocket client, and times ``message.broadcast_replace_to("bench")`` (render the
template + POST to ``/_broadcast``) over a kept-alive connection, then with a
fresh connection per call, then back to back for a few seconds. Every broadcast
must reach the subscriber, or the run fails.

Run: ``.venv/bin/python benchmarks/bench_broadcast.py [CALLS] [SECONDS]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cable_client import CableClient  # noqa: E402
from tests.servers import LiveServer, free_port  # noqa: E402

STREAM = "bench"


class Subscriber:
    """One real WebSocket client on its own thread, counting what it receives."""

    def __init__(self, cable_url: str, signed_stream: str) -> None:
        self.received = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete,
            args=(self._listen(cable_url, signed_stream),),
            daemon=True,
        )
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the subscriber could not subscribe")

    async def _listen(self, cable_url: str, signed_stream: str) -> None:
        client = await CableClient.connect(cable_url)
        await client.subscribe(signed_stream)
        self._ready.set()
        with contextlib.suppress(ConnectionClosed):  # the server stops at the end
            while True:
                frame = await client.receive(timeout=3600)
                if frame["type"] == "message":
                    self.received += 1

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.received < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the subscriber got {self.received} of {count} broadcasts")
            time.sleep(0.01)


def timed(call: Callable[[], object], times: int) -> list[float]:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def row(name: str, durations: list[float]) -> str:
    ms = sorted(d * 1000 for d in durations)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return (
        f"| {name} | {statistics.median(ms):.3f} | {p95:.3f} | {1000 / statistics.mean(ms):,.0f} |"
    )


def main(calls: int = 500, seconds: float = 3.0) -> None:
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="turbo-cable-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["TURBO_CABLE_TEST_DB"] = str(Path(workdir) / "bench.sqlite3")
    os.environ["TURBO_CABLE_TEST_SETTINGS"] = json.dumps(
        {"BROADCAST_URL": f"http://127.0.0.1:{port}/_broadcast"}
    )
    import django

    django.setup()
    from django.core.management import call_command

    from tests.testapp.models import Message
    from turbo_cable.broadcast import close_connections
    from turbo_cable.streams import signed_stream_name
    from turbo_cable.testing import capture_broadcasts

    call_command("migrate", run_syncdb=True, verbosity=0)
    message = Message.objects.create(body="A message of ordinary length, <escaped> & all.")

    server = LiveServer("uvicorn", port=port, settings={})
    try:
        subscriber = Subscriber(server.cable_url, signed_stream_name(STREAM))

        def replace() -> None:
            if not message.broadcast_replace_to(STREAM):
                raise RuntimeError(f"a broadcast failed:\n{server.output()}")

        def replace_on_a_fresh_connection() -> None:
            close_connections()
            replace()

        with capture_broadcasts():
            render_only = timed(replace, calls)
        timed(replace, 50)  # warm up the connection and the server
        kept_alive = timed(replace, calls)
        fresh = timed(replace_on_a_fresh_connection, calls)
        sent = 50 + 2 * calls

        close_connections()
        sustained = 0
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            replace()
            sustained += 1
        elapsed = time.perf_counter() - started
        subscriber.wait_for(sent + sustained)
    finally:
        close_connections()
        server.stop()

    print(f"One `broadcast_replace_to` from a model, {calls} calls each, one subscriber:\n")
    print("| call | median ms | p95 ms | calls/s |")
    print("|---|---|---|---|")
    print(row("render only (captured, not sent)", render_only))
    print(row("render + POST, kept-alive connection", kept_alive))
    print(row("render + POST, fresh connection per call", fresh))
    print(
        f"\nSustained from one process and thread: {sustained / elapsed:,.0f} broadcasts/s "
        f"over {elapsed:.1f} s; the subscriber received all {sent + sustained}."
    )


if __name__ == "__main__":
    main(*(float(a) if "." in a else int(a) for a in sys.argv[1:3]))  # type: ignore[arg-type]
