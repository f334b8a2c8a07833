"""One benchmark run against one target: the scenarios, and what is sampled around them.

The Node.js load generator holds the sockets and times every delivery; this side
starts the server, tells the generator what to do step by step, and reads the
server's RSS and CPU time (user + system, via psutil) between the steps. A
multi-worker target runs the traffic scenarios only, and reports how its sockets
were split between the workers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import resource
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.processes import Sampler
from benchmarks.targets import Server, Target

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024
TRAFFIC_PING_INTERVAL = 30.0  # the cable's default
SPREAD_ATTEMPTS = 10  # connects tried before giving up on a worker that takes no socket


@dataclasses.dataclass(frozen=True)
class Scale:
    """Sizes of the scenarios; ``Scale.full()`` is the published one."""

    idle: tuple[int, ...] = (1000, 5000, 10000)
    hold_seconds: float = 5.0
    ping_interval: float = 1.0
    rate_subscribers: int = 1000
    rate_streams: int = 10
    rate_per_s: int = 100
    rate_seconds: float = 10.0
    fanout_subscribers: int = 5000
    fanout_broadcasts: int = 50
    payload_bytes: int = 500
    budget_seconds: float = 60.0
    drain_seconds: float = 60.0
    # How long a warmed-up server rests before it is measured (half of it after each
    # step of idle sockets, before its RSS is read).
    settle_seconds: float = 1.0

    @classmethod
    def scaled(cls, factor: float) -> Scale:
        full = cls()
        return cls(
            idle=tuple(max(10, int(n * factor)) for n in full.idle),
            hold_seconds=max(1.5, full.hold_seconds * min(1.0, factor * 10)),
            rate_subscribers=max(10, int(full.rate_subscribers * factor)),
            rate_seconds=max(1.0, full.rate_seconds * min(1.0, factor * 10)),
            fanout_subscribers=max(10, int(full.fanout_subscribers * factor)),
            budget_seconds=max(10.0, full.budget_seconds * min(1.0, factor * 10)),
            drain_seconds=max(10.0, full.drain_seconds * min(1.0, factor * 10)),
        )


def raise_open_file_limit(needed: int) -> None:
    """10,000 sockets on each side need more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise RuntimeError(f"need {needed} open files, the hard limit allows {soft}")


def ensure_load_generator() -> None:
    """Install the generator's one npm dependency (``ws``) the first time."""
    if (HERE / "node_modules" / "ws").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("the load generator needs Node.js and npm (apt-get install nodejs npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


class LoadGenerator:
    """The Node.js process; ``ask`` sends one command and waits for its answer."""

    def __init__(
        self, cable_urls: list[str], broadcast_urls: list[str], fresh_posts: bool = False
    ) -> None:
        # A fresh connection per POST lets each broadcast land on any worker; with
        # several URLs, sockets and broadcasts are spread over them in turn.
        posts = ["fresh"] if fresh_posts else []
        urls = [",".join(cable_urls), ",".join(broadcast_urls)]
        self.process = subprocess.Popen(
            ["node", str(HERE / "loadgen.mjs"), *urls, *posts],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.stats = Sampler(self.process.pid)
        self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"load generator exited with {self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"load generator failed: {answer['error']}")
        return answer

    def ask(self, cmd: str, **options: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **options}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def cpu_seconds(self) -> float:
        """Counted like the server's, per thread in nanoseconds: a short run's share of
        10 ms ticks may be none at all."""
        return self.stats.cpu_seconds()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _post(url: str, stream: str, data: str) -> None:
    body = json.dumps({"stream": stream, "data": data}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _measured_broadcast(
    loadgen: LoadGenerator, server: Sampler, redis: Sampler | None, **options: Any
) -> dict[str, Any]:
    cpu, client_cpu, started = server.cpu_seconds(), loadgen.cpu_seconds(), time.monotonic()
    redis_cpu = 0.0 if redis is None else redis.cpu_seconds()
    result = loadgen.ask("broadcast", **options)
    wall = time.monotonic() - started
    server_cpu = server.cpu_seconds() - cpu
    client_share = (loadgen.cpu_seconds() - client_cpu) / wall
    delivered = max(1, result["received"])
    measured = {
        **result,
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_1k": server_cpu / delivered * 1e6,
        "server_cpu_share": server_cpu / wall,
        "client_cpu_share": client_share,
        "client_bound": client_share > 0.9,
    }
    if redis is not None:
        measured["redis_cpu_ms_per_1k"] = (redis.cpu_seconds() - redis_cpu) / delivered * 1e6
    return measured


def run_target(target: Target, scale: Scale, log: Any = print) -> dict[str, Any]:
    """Every scenario against one target, started afresh for the memory and traffic runs.

    The memory run pings every ``scale.ping_interval`` so the held sockets see pings;
    the traffic runs use the default interval, so ping bursts do not colour latency.
    """
    raise_open_file_limit(max(scale.idle) + 1000)
    result: dict[str, Any] = {"target": target.name}
    if target.workers > 1 or target.processes > 1:
        return {**result, **_traffic(target, scale, log)}
    with _serving(target, scale.ping_interval, scale.settle_seconds) as (_, sampler, loadgen):
        result["idle_rss"] = sampler.rss()
        result["idle_uss"] = sampler.uss()
        opened = 0
        for count in scale.idle:
            answer = loadgen.ask("connect", count=count - opened, prefix="idle", streams=10)
            opened = answer["open"]
            time.sleep(scale.settle_seconds / 2)
            result[f"rss_{count}"] = sampler.rss()
            result[f"open_{count}"] = opened
            log(f"  {target.name}: {opened} idle connections, RSS {sampler.rss() / MIB:.1f} MiB")
        result["held"] = loadgen.ask("hold", seconds=scale.hold_seconds)
        result["held_rss"] = sampler.rss()
        loadgen.ask("close")
    return {**result, **_traffic(target, scale, log)}


def _traffic(target: Target, scale: Scale, log: Any) -> dict[str, Any]:
    """The rate and fan-out runs, on a fresh server with the default ping interval."""
    result: dict[str, Any] = {}
    serving = _serving(target, TRAFFIC_PING_INTERVAL, scale.settle_seconds)
    with serving as (server, sampler, loadgen):
        redis = None if server.redis is None else Sampler(server.redis.pid)
        split = _connect(
            server, sampler, loadgen, scale.rate_subscribers, "rate", scale.rate_streams
        )
        result["rate"] = _measured_broadcast(
            loadgen,
            sampler,
            redis,
            prefix="rate",
            streams=scale.rate_streams,
            count=int(scale.rate_per_s * scale.rate_seconds),
            rate=scale.rate_per_s,
            size=scale.payload_bytes,
            budget=scale.budget_seconds,
            drain=scale.drain_seconds,
        )
        result["rate"]["split"] = split
        log(f"  {target.name}: rate {_brief(result['rate'])}")
        loadgen.ask("close")

        split = _connect(server, sampler, loadgen, scale.fanout_subscribers, "fanout", 1)
        result["fanout"] = _measured_broadcast(
            loadgen,
            sampler,
            redis,
            prefix="fanout",
            streams=1,
            count=scale.fanout_broadcasts,
            rate=0,
            size=scale.payload_bytes,
            budget=scale.budget_seconds,
            drain=scale.drain_seconds,
        )
        result["fanout"]["split"] = split
        log(f"  {target.name}: fan-out {_brief(result['fanout'])}")
        loadgen.ask("close")
    return result


def _connect(
    server: Server, sampler: Sampler, loadgen: LoadGenerator, count: int, prefix: str, streams: int
) -> list[int] | None:
    """Open and subscribe ``count`` sockets; with several workers or processes, the
    sockets each one holds.

    A worker that took none (one may win every accept of a burst) makes the run
    meaningless, so the sockets are closed and opened again. Processes side by side
    hold the sockets the generator spread over their ports (each one's subscribed count).
    """
    for attempt in range(SPREAD_ATTEMPTS):
        # Workers share one listening socket, and the first to wake accepts the whole
        # burst; after a lopsided try, sockets open one at a time, so each is a new race.
        concurrency = 100 if attempt == 0 else 1
        answer = loadgen.ask(
            "connect", count=count, prefix=prefix, streams=streams, concurrency=concurrency
        )
        if sampler.side_by_side:
            return list(answer["per_url"])
        if not sampler.workers:
            return None
        split = sampler.sockets_per_worker(server.port)
        if all(split):
            return split
        loadgen.ask("close")
    raise RuntimeError(f"{server.target.name}: one worker took no socket: {split}")


@contextlib.contextmanager
def _serving(
    target: Target, ping_interval: float, settle_seconds: float
) -> Iterator[tuple[Server, Sampler, LoadGenerator]]:
    """A fresh server, warmed up by broadcasts, and a load generator pointed at it."""
    server = target.start(ping_interval)
    loadgen = None
    try:
        sampler = Sampler(*server.pids)
        for _ in range(4 * target.workers):  # load the broadcast path's code, in every worker
            for url in server.broadcast_urls:
                _post(url, "warm-up", "x")
        time.sleep(settle_seconds)
        loadgen = LoadGenerator(server.cable_urls, server.broadcast_urls, target.workers > 1)
        yield server, sampler, loadgen
    finally:
        if loadgen is not None:
            loadgen.stop()
        server.stop()


def _brief(run: dict[str, Any]) -> str:
    return (
        f"{run['received']}/{run['expected']} delivered, {run['deliveries_per_s']:.0f}/s, "
        f"p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, "
        f"CPU {run['server_cpu_ms_per_1k']:.1f} ms/1k"
    )
