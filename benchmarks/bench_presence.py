"""Presence under churn: SUBSCRIBERS on one stream while visitors come and go.

A uvicorn server (the test project, memory backend, or Redis with ``--redis``)
holds SUBSCRIBERS sockets on one stream, all asking to be seen. Then for SECONDS,
every 1/RATE s one visitor joins and the oldest one leaves (RATE joins and RATE
leaves per second). Measured: presence updates each subscriber received (the most
in any one second, the closest two as received, and per second on average),
deliveries per second (from
``/_metrics``) and the server's CPU. The same churn runs again with visitors that
do not ask to be seen, so the difference is what presence costs.

Run: ``.venv/bin/python benchmarks/bench_presence.py [SUBSCRIBERS] [RATE] [SECONDS] [--redis]``.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cable_client import CableClient  # noqa: E402
from tests.redis_support import RedisServer  # noqa: E402
from tests.servers import LiveServer, live_server  # noqa: E402
from tests.test_metrics import scrape, value  # noqa: E402

STREAM = "bench:presence"


class Watcher:
    """A subscriber that notes when each presence update arrived."""

    def __init__(self, client: CableClient) -> None:
        self.client = client
        self.updates: list[float] = []
        self.last: dict[str, Any] | None = None
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for raw in self.client.websocket:
            if '"presence":{' in str(raw):
                self.updates.append(time.monotonic())


async def connect(server: LiveServer, seen: bool) -> CableClient:
    client = await CableClient.connect(server.cable_url)
    frame: dict[str, Any] = {"type": "subscribe", "stream": STREAM}
    if seen:
        frame["presence"] = True
    await client.send(frame)
    return client


def most_in_one_second(times: list[float]) -> int:
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def churn(server: LiveServer, rate: int, seconds: float, seen: bool) -> dict[str, float]:
    process = psutil.Process(server.process.pid)  # type: ignore[union-attr]
    visitors: collections.deque[CableClient] = collections.deque()
    for _ in range(rate):
        visitors.append(await connect(server, seen))
    await asyncio.sleep(2.0)  # the joins above are told and settled
    before_metrics = scrape(server)
    before_cpu = sum(process.cpu_times()[:2])
    started = time.monotonic()
    ticks = 0
    while time.monotonic() - started < seconds:
        visitors.append(await connect(server, seen))
        await visitors.popleft().close()
        ticks += 1
        await asyncio.sleep(max(0.0, started + ticks / rate - time.monotonic()))
    elapsed = time.monotonic() - started
    cpu = sum(process.cpu_times()[:2]) - before_cpu
    after_metrics = scrape(server)
    for visitor in visitors:
        await visitor.close()
    deliveries = value(after_metrics, "deliveries_total") - value(
        before_metrics, "deliveries_total"
    )
    return {
        "seconds": elapsed,
        "joins_per_s": ticks / elapsed,
        "deliveries_per_s": deliveries / elapsed,
        "server_cpu_percent": 100 * cpu / elapsed,
        "window_start": started,
        "window_end": started + elapsed,
    }


async def run(subscribers: int, rate: int, seconds: float, backend: str | None) -> None:
    settings: dict[str, Any] = {"SIGNED_STREAMS": False, "MAX_CONNECTIONS": subscribers + 500}
    if backend:
        settings["BACKEND"] = backend
    with live_server("uvicorn", settings=settings) as server:
        watchers = []
        for n in range(subscribers):
            watchers.append(Watcher(await connect(server, seen=True)))
            if n % 100 == 99:
                await asyncio.sleep(0)
        for seen in (True, False):
            result = await churn(server, rate, seconds, seen)
            start, end = result["window_start"], result["window_end"]
            during = [[t for t in w.updates if start <= t <= end] for w in watchers]
            most = max(most_in_one_second(times) for times in during)
            gaps = [b - a for times in during for a, b in itertools.pairwise(times)]
            closest = f"{min(gaps):.3f}s" if gaps else "-"
            average = sum(len(times) for times in during) / len(during) / result["seconds"]
            label = "presence on " if seen else "presence off"
            print(
                f"{label}: {subscribers} subscribers, {result['joins_per_s']:.1f} joins + "
                f"leaves/s for {result['seconds']:.1f}s: updates per subscriber "
                f"{average:.2f}/s (most in any 1 s: {most}, closest two: {closest} apart), "
                f"{result['deliveries_per_s']:,.0f} deliveries/s, "
                f"server CPU {result['server_cpu_percent']:.1f}%"
            )
        for watcher in watchers:
            watcher.task.cancel()
            await watcher.client.close()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    subscribers = int(args[0]) if args else 1000
    rate = int(args[1]) if len(args) > 1 else 10
    seconds = float(args[2]) if len(args) > 2 else 10.0
    if "--redis" in sys.argv:
        redis = RedisServer()
        try:
            asyncio.run(run(subscribers, rate, seconds, redis.url))
        finally:
            redis.stop()
    else:
        asyncio.run(run(subscribers, rate, seconds, None))


if __name__ == "__main__":
    main()
