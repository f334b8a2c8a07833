"""What history costs: memory per stream, and broadcast throughput with it on and off.

In process, with the memory backend: the memory that ``STREAMS`` streams of
``MESSAGES`` messages of 200 bytes hold (tracemalloc), and how many broadcasts per
second ``Backend.publish`` fans out to one subscriber per stream with no positions at
all, with positions only (``HISTORY_SIZE=0``) and with history (``HISTORY_SIZE=100``).
With Redis (a redis-server of its own on a free loopback port): the round trip of one
broadcast from a process without a cable, a bare PUBLISH vs the history script
without and with kept messages, and the Redis memory per stream of kept history.
Beside ``runcable`` (its builtin server, memory backend): the round trip of a broadcast
``POST`` and of the position ``GET`` a page rendered in a WSGI process runs.

Run: ``.venv/bin/python benchmarks/bench_history.py [STREAMS] [MESSAGES]``.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.redis_support import RedisServer  # noqa: E402
from tests.servers import live_server  # noqa: E402
from turbo_cable.backends.memory import MemoryBackend  # noqa: E402
from turbo_cable.backends.redis import RedisBackend  # noqa: E402
from turbo_cable.conf import CableSettings  # noqa: E402
from turbo_cable.history import MemoryHistory  # noqa: E402
from turbo_cable.http_delivery import position_over_http, post_broadcast  # noqa: E402
from turbo_cable.protocol import encode_json  # noqa: E402

PAYLOAD = 200  # bytes per message
WINDOW = 100  # HISTORY_SIZE when history is on
PUBLISHES = 50_000  # in-process broadcasts per round
ROUND_TRIPS = 1_000  # Redis publishes per round
ROUNDS = 5


def payload(n: int) -> str:
    """A distinct 200-byte message, as each decoded broadcast is."""
    return f"{n:>{PAYLOAD}}"


def memory_per_stream(streams: int, messages: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    history = MemoryHistory(WINDOW, 300.0)
    for s in range(streams):
        name = f"room:{s}"
        for m in range(messages):
            history.append(name, payload(s * messages + m))
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del history
    return used / streams


class Inbox:
    """A subscriber that takes frames and does nothing, so only the hub is measured."""

    def deliver(self, event: dict[str, Any]) -> None:
        pass


def fan_out(history_size: int | None, streams: int = 100) -> tuple[MemoryBackend, list[str]]:
    """A memory backend with one do-nothing subscriber on each of ``streams`` streams."""
    backend = MemoryBackend(CableSettings(HISTORY_SIZE=max(history_size or 0, 0)))
    if history_size is None:
        backend.history = None  # as before positions existed
    names = [f"room:{s}" for s in range(streams)]
    for name in names:
        backend.hub.add(name, name, Inbox())
    return backend, names


def publish_rates(sizes: dict[str, int | None]) -> dict[str, float]:
    """Broadcasts per second for each history size, interleaved rounds, best of."""
    setups = {label: fan_out(size) for label, size in sizes.items()}
    messages = [payload(n) for n in range(1000)]

    async def run(backend: MemoryBackend, names: list[str]) -> float:
        started = time.perf_counter()
        for n in range(PUBLISHES):
            await backend.publish(names[n % len(names)], messages[n % 1000])
        return PUBLISHES / (time.perf_counter() - started)

    best = dict.fromkeys(sizes, 0.0)
    for _round in range(ROUNDS):
        for label, (backend, names) in setups.items():
            best[label] = max(best[label], asyncio.run(run(backend, names)))
    return best


def redis_round_trips(url: str) -> dict[str, float]:
    """Microseconds per broadcast published from a process without a cable, and per
    position read."""
    on = RedisBackend(CableSettings(BACKEND=url, HISTORY_SIZE=WINDOW, REDIS_PREFIX="bench-on:"))
    off = RedisBackend(CableSettings(BACKEND=url, HISTORY_SIZE=0, REDIS_PREFIX="bench-off:"))
    bare = off._blocking_client()
    runs = {
        "bare PUBLISH (no positions)": lambda n: bare.publish(b"bench-bare:s", payload(n)),
        "positions, HISTORY_SIZE=0": lambda n: off.publish_sync(f"s{n % 100}", payload(n)),
        f"positions + history, HISTORY_SIZE={WINDOW}": lambda n: on.publish_sync(
            f"s{n % 100}", payload(n)
        ),
        # What a page's marker costs: the read-only position read the tag runs, next to
        # the history script a subscribe runs (which may start an epoch and push expiries).
        "a page's position now (HMGET)": lambda n: on.position(f"s{n % 100}"),
        # In a request the tag reads where the stream stood when the request began.
        "a page's position 5 ms back (script)": lambda n: on.position(
            f"s{n % 100}", time.monotonic() - 0.005
        ),
        "a subscribe's history read (script)": lambda n: on.blocking_scripts().read(
            on.history.keys(f"s{n % 100}"), on.history.read_args(None)
        ),
    }
    results = best_round_trips(runs)
    on._blocking_client().close()
    bare.close()
    return results


def runcable_round_trips() -> dict[str, float]:
    """Microseconds per broadcast POSTed to ``runcable`` and per position read from it,
    from this process (a WSGI process's place), over one kept-alive connection."""
    with live_server("runcable") as cable:
        settings = CableSettings(BROADCAST_URL=f"{cable.http_url}/_broadcast")
        runs = {
            "a broadcast (POST)": lambda n: post_broadcast(
                encode_json({"stream": f"s{n % 100}", "data": payload(n)}).encode(), settings
            ),
            "a page's position 5 ms back (GET ?age=)": lambda n: position_over_http(
                f"s{n % 100}", settings, time.monotonic() - 0.005
            ),
        }
        return best_round_trips(runs)


def best_round_trips(runs: dict[str, Any]) -> dict[str, float]:
    """Microseconds per call of each run, best of ``ROUNDS`` interleaved rounds."""
    for call in runs.values():
        for n in range(200):  # warm up: connections, script loading
            call(n)
    best = dict.fromkeys(runs, float("inf"))
    for _round in range(ROUNDS):  # interleaved, best of: other work on the machine only adds
        for label, call in runs.items():
            started = time.perf_counter()
            for n in range(ROUND_TRIPS):
                call(n)
            best[label] = min(best[label], (time.perf_counter() - started) / ROUND_TRIPS * 1e6)
    return best


def redis_memory_per_stream(redis: RedisServer, streams: int, messages: int) -> float:
    backend = RedisBackend(
        CableSettings(BACKEND=redis.url, HISTORY_SIZE=WINDOW, REDIS_PREFIX="bench-mem:")
    )
    with redis.client() as client:
        client.flushall()
        before = int(client.info("memory")["used_memory"])
        for s in range(streams):
            for m in range(messages):
                backend.publish_sync(f"room:{s}", payload(s * messages + m))
        used = int(client.info("memory")["used_memory"]) - before
    backend._blocking_client().close()
    return used / streams


def main() -> None:
    streams = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    messages = int(sys.argv[2]) if len(sys.argv) > 2 else WINDOW
    rows = [
        (
            f"memory backend: memory per stream, {messages} x {PAYLOAD} B kept",
            f"{memory_per_stream(streams, messages) / 1024:.1f} KiB",
        ),
    ]
    rates = publish_rates(
        {
            "no positions": None,
            "positions, HISTORY_SIZE=0": 0,
            f"positions + history, HISTORY_SIZE={WINDOW}": WINDOW,
        }
    )
    for label, rate in rates.items():
        rows.append((f"memory backend: broadcasts/s (best of {ROUNDS}), {label}", f"{rate:,.0f}"))
    redis = RedisServer()
    try:
        for label, micros in redis_round_trips(redis.url).items():
            measure = f"Redis: one round trip (best of {ROUNDS}), {label}"
            rows.append((measure, f"{micros:.0f} µs"))
        redis_streams = min(streams, 1_000)
        per_stream = redis_memory_per_stream(redis, redis_streams, messages)
        rows.append(
            (
                f"Redis: memory per stream, {messages} x {PAYLOAD} B kept",
                f"{per_stream / 1024:.1f} KiB",
            )
        )
    finally:
        redis.stop()
    for label, micros in runcable_round_trips().items():
        rows.append(
            (f"runcable over HTTP: one round trip (best of {ROUNDS}), {label}", f"{micros:.0f} µs")
        )
    python = sys.version.split()[0]
    print(f"{streams} streams x {messages} messages of {PAYLOAD} B; Python {python}")
    print()
    print("| measure | result |")
    print("|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
