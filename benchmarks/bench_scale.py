"""``python -m benchmarks.bench_scale``: one ``runcable``, N idle subscribed sockets, a broadcast.

It starts ``manage.py runcable`` (keep-alive on) with its open-file limit raised,
opens ``--connections`` sockets from the Node.js generator spread over the loopback
source addresses 127.0.0.2-127.0.0.9 (each has its own ~28k ephemeral ports), all
subscribed to one stream, holds them until the server is idle and every socket has
been pinged, then POSTs one broadcast and reports the server's RSS, the time until
the last delivery, and the server's CPU for it. Sockets are opened in batches and
the run stops, cleaning up, when free memory drops under ``--min-free-mib`` or
after ``--time-limit`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from benchmarks.harness import MIB, LoadGenerator, _post, ensure_load_generator
from benchmarks.processes import Sampler
from benchmarks.targets import ROOT, TURBO_SETTINGS, free_port

SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]
BATCH = 10_000
STREAM = "scale-0"


class TimeLimit(Exception):
    pass


def _sockets_allowed(open_files: int) -> int:
    """The cable's default ``MAX_CONNECTIONS``: the limit less a tenth (at least 64)."""
    return open_files - max(64, open_files // 10)


def _open_files(count: int) -> int:
    """Raise the open-file limit for ``count`` sockets, as far as allowed; the sockets it allows.

    The hard limit goes up only with CAP_SYS_RESOURCE (root on a host, not in every
    container); short of that the soft limit goes up to the hard one. Children inherit it.
    """
    wanted = count * 10 // 9 + 100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return count
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
        return count
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return _sockets_allowed(hard)


def _available_mib() -> int:
    return int(psutil.virtual_memory().available // MIB)


def start_runcable(connections: int, ping_interval: float, log: Any) -> subprocess.Popen[bytes]:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": TURBO_SETTINGS,
        "TURBO_CABLE_PING_INTERVAL": str(ping_interval),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runcable", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: _open_files(connections),
    )
    process.port = port  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("runcable exited at start-up")
        try:
            _post(f"http://127.0.0.1:{port}/_broadcast", "warm-up", "x")
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("runcable did not start in 60 s")


def sockets_per_source(pid: int) -> dict[str, int]:
    """The server's established sockets by the client's address: proof of the spread."""
    counts: dict[str, int] = {}
    for socket in psutil.Process(pid).net_connections(kind="tcp"):
        if socket.status == psutil.CONN_ESTABLISHED and socket.raddr:
            counts[socket.raddr.ip] = counts.get(socket.raddr.ip, 0) + 1
    return dict(sorted(counts.items()))


def wait_until_idle(sampler: Sampler, quiet_cpu: float = 0.05, timeout: float = 120) -> float:
    """Seconds until the server used under ``quiet_cpu`` s of CPU in one second."""
    started = time.monotonic()
    before = sampler.cpu_seconds()
    while time.monotonic() - started < timeout:
        time.sleep(1.0)
        now = sampler.cpu_seconds()
        if now - before < quiet_cpu:
            break
        before = now
    return time.monotonic() - started


def measure(options: argparse.Namespace, report: dict[str, Any]) -> None:
    ensure_load_generator()
    allowed = _open_files(options.connections)
    if allowed < options.connections:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        report["limited_by"] = (
            f"the hard open-file limit ({hard}) cannot be raised here (no CAP_SYS_RESOURCE): "
            f"runcable holds {allowed} sockets at most (MAX_CONNECTIONS by default)"
        )
        print(report["limited_by"], file=sys.stderr, flush=True)
        options.connections = allowed
    log = tempfile.NamedTemporaryFile(prefix="bench-scale-", suffix=".log", delete=False)  # noqa: SIM115
    report["server_log"] = log.name
    server = start_runcable(options.connections, options.ping_interval, log)
    loadgen = None
    try:
        sampler = Sampler(server.pid)
        time.sleep(1.0)
        report["idle_rss_mib"] = sampler.rss() / MIB
        base = f"127.0.0.1:{server.port}"  # type: ignore[attr-defined]
        loadgen = LoadGenerator([f"ws://{base}/cable"], [f"http://{base}/_broadcast"])
        opened, started = 0, time.monotonic()
        while opened < options.connections:
            if _available_mib() < options.min_free_mib:
                report["stopped"] = f"free memory under {options.min_free_mib} MiB"
                break
            batch = min(BATCH, options.connections - opened)
            answer = loadgen.ask(
                "connect", count=batch, prefix="scale", streams=1, sources=SOURCES, concurrency=200
            )
            if answer["failed"]:
                report["failed_connects"] = report.get("failed_connects", 0) + answer["failed"]
            opened = answer["open"]
            print(
                f"{opened} open, server RSS {sampler.rss() / MIB:.0f} MiB, "
                f"{_available_mib()} MiB free, {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            if answer["failed"] == batch:
                report["stopped"] = "a whole batch failed to connect (see the server log)"
                break
        report["connections"] = opened
        report["sockets_per_source"] = sockets_per_source(server.pid)
        report["connect_seconds"] = time.monotonic() - started
        report["settle_seconds"] = wait_until_idle(sampler)
        report["held"] = loadgen.ask("hold", seconds=options.ping_interval * 1.5)
        report["rss_mib"] = sampler.rss() / MIB
        report["kib_per_connection"] = (
            (report["rss_mib"] - report["idle_rss_mib"]) * 1024 / max(1, opened)
        )
        cpu = sampler.cpu_seconds()
        result = loadgen.ask(
            "broadcast", prefix="scale", streams=1, count=1, rate=0, size=200,
            budget=30, drain=120,
        )  # fmt: skip
        report["broadcast_cpu_s"] = sampler.cpu_seconds() - cpu
        report["broadcast"] = result
        report["rss_after_broadcast_mib"] = sampler.rss() / MIB
    finally:
        if loadgen is not None:
            loadgen.process.kill()  # closing 100k sockets politely takes longer than it tells
            loadgen.process.wait()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=100_000)
    parser.add_argument(
        "--ping-interval", type=float, default=30.0, help="the cable's keep-alive (its default)"
    )
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--min-free-mib", type=int, default=4096, help="stop opening below this")
    options = parser.parse_args(argv)
    if _available_mib() < options.min_free_mib:
        parser.error(f"only {_available_mib()} MiB free, under --min-free-mib")

    def out_of_time(*_: Any) -> None:
        raise TimeLimit(f"stopped after the time limit of {options.time_limit:.0f} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.setitimer(signal.ITIMER_REAL, options.time_limit)
    report: dict[str, Any] = {"command": " ".join(sys.argv), "requested": options.connections}
    status = 0
    try:
        measure(options, report)
    except TimeLimit as exc:
        report["stopped"] = str(exc)
        status = 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    Path(results / f"scale-{stamp}.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
