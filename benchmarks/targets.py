"""The servers under test, each started the same way on a free loopback port.

Most are one process; the multi-worker ones are ``uvicorn --workers N`` sharing a
redis-server that the target starts for itself and kills when it stops, and the
scaled-out ones are N processes on one such redis-server, each on a port of its own
(the load generator spreads its sockets and its broadcasts over them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.processes import wait_for_workers
from benchmarks.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent

UVICORN = ("-m", "uvicorn", "--no-access-log", "--log-level", "warning")
UVICORN_FAST = (*UVICORN, "--ws-per-message-deflate", "false")


@dataclasses.dataclass(frozen=True)
class Target:
    """How to start one server; ``{port}`` and ``{http_port}`` are filled in at start."""

    name: str
    args: tuple[str, ...]
    settings_module: str | None = None
    separate_http_port: bool = False
    workers: int = 1
    processes: int = 1
    redis: bool = False

    def start(self, ping_interval: float) -> Server:
        return Server(self, ping_interval)


def _uvicorn(app: str, *extra: str) -> tuple[str, ...]:
    return (*UVICORN_FAST, *extra, "--host", "127.0.0.1", "--port", "{port}", app)


def _runcable(*extra: str) -> tuple[str, ...]:
    """``manage.py runcable``: the cable alone, on its builtin server unless ``extra``
    says ``--server uvicorn`` (then with its own uvicorn options built in)."""
    return (
        "-m", "django", "runcable", "--host", "127.0.0.1", "--port", "{port}",
        "--log-level", "warning", *extra,
    )  # fmt: skip


def _granian(app: str) -> tuple[str, ...]:
    """granian: HTTP and WebSocket in Rust (hyper, tungstenite), the application on uvloop."""
    return (
        "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}",
        "--workers", "1", "--loop", "uvloop", "--backpressure", "200000", "--log-level", "warning",
        app,
    )  # fmt: skip


def _hypercorn(app: str) -> tuple[str, ...]:
    """hypercorn: h11 and wsproto, on uvloop."""
    return (
        "-m", "hypercorn", "--bind", "127.0.0.1:{port}", "--worker-class", "uvloop",
        "--log-level", "warning", app,
    )  # fmt: skip


def _daphne(app: str) -> tuple[str, ...]:
    return ("-m", "daphne", "-v", "0", "-b", "127.0.0.1", "-p", "{port}", app)


# The cable pings and drops silent sockets itself, so uvicorn's per-socket ping timer
# only costs memory and CPU; the cable's protocol class is uvicorn's fastest (sansio) with
# the bounds on what one client can hold.
RECOMMENDED_UVICORN = (
    "--ws", "turbo_cable.uvicorn_protocol:WebSocketProtocol", "--ws-ping-interval", "0",
)  # fmt: skip
TURBO_APP = "sample_project.asgi:application"
CABLE_APP = "benchmarks.cable_app:application"  # what runcable serves, for other servers
CHANNELS_APP = "benchmarks.channels_peer.asgi:application"
TURBO_SETTINGS = "benchmarks.turbo_settings"
CHANNELS_SETTINGS = "benchmarks.channels_peer.settings"
WORKERS = ("--workers", "2")

TARGETS = {
    target.name: target
    for target in (
        Target("turbo-uvicorn", _uvicorn(TURBO_APP, *RECOMMENDED_UVICORN), TURBO_SETTINGS),
        Target("turbo-daphne", _daphne(TURBO_APP), TURBO_SETTINGS),
        # The standalone cable server beside a WSGI site: the same cable, no pages loaded.
        Target("turbo-runcable", _runcable(), TURBO_SETTINGS),
        Target("runcable-uvicorn", _runcable("--server", "uvicorn"), TURBO_SETTINGS),
        Target("channels-uvicorn", _uvicorn(CHANNELS_APP), CHANNELS_SETTINGS),
        Target("channels-daphne", _daphne(CHANNELS_APP), CHANNELS_SETTINGS),
        Target(
            "floor-websockets",
            ("-m", "benchmarks.floor", "{port}", "{http_port}", "{ping}"),
            separate_http_port=True,
        ),
        # The recommended target without metrics: what counting for /_metrics costs.
        Target(
            "turbo-uvicorn-no-metrics",
            _uvicorn(TURBO_APP, *RECOMMENDED_UVICORN),
            "benchmarks.turbo_no_metrics_settings",
        ),
        # The other WebSocket implementations uvicorn offers, to pick the fastest.
        Target("turbo-uvicorn-legacy", _uvicorn(TURBO_APP, "--ws", "websockets"), TURBO_SETTINGS),
        Target(
            "turbo-uvicorn-wsproto",
            _uvicorn(TURBO_APP, "--ws", "wsproto", "--ws-ping-interval", "0"),
            TURBO_SETTINGS,
        ),
        # runcable's application under each candidate server, to choose the fastest.
        Target(
            "runcable-uvicorn-wsproto",
            _uvicorn(CABLE_APP, "--ws", "wsproto", "--ws-ping-interval", "0"),
            TURBO_SETTINGS,
        ),
        Target("runcable-granian", _granian(CABLE_APP), TURBO_SETTINGS),
        Target("runcable-hypercorn", _hypercorn(CABLE_APP), TURBO_SETTINGS),
        # The fan-out alone on servers that are not ASGI: what each would cost at least.
        Target(
            "floor-picows",
            ("-m", "benchmarks.floor_picows", "{port}", "{http_port}", "{ping}"),
            separate_http_port=True,
        ),
        # Two worker processes behind one port, every broadcast going through Redis.
        Target(
            "turbo-uvicorn-redis-2w",
            _uvicorn(TURBO_APP, *RECOMMENDED_UVICORN, *WORKERS),
            "benchmarks.turbo_redis_settings",
            workers=2,
            redis=True,
        ),
        Target(
            "channels-uvicorn-redis-2w",
            _uvicorn(CHANNELS_APP, *WORKERS),
            "benchmarks.channels_peer.redis_settings",
            workers=2,
            redis=True,
        ),
        # Four processes of their own on one Redis, each on its own port: runcable as a
        # WSGI site scales it out, and Channels as it scales out on channels_redis.
        Target(
            "turbo-runcable-redis-4p",
            _runcable(),
            "benchmarks.turbo_redis_settings",
            processes=4,
            redis=True,
        ),
        Target(
            "channels-uvicorn-redis-4p",
            _uvicorn(CHANNELS_APP),
            "benchmarks.channels_peer.redis_settings",
            processes=4,
            redis=True,
        ),
    )
}
DEFAULT_TARGETS = (
    "turbo-uvicorn",
    "turbo-runcable",
    "turbo-daphne",
    "channels-uvicorn",
    "channels-daphne",
    "floor-websockets",
)
WORKER_TARGETS = ("turbo-uvicorn-redis-2w", "channels-uvicorn-redis-2w")
PROCESS_TARGETS = ("turbo-runcable-redis-4p", "channels-uvicorn-redis-4p")
# The cable and Channels in the same shape, compared row by row (cable / Channels).
COMPARED = (
    ("turbo-uvicorn-redis-2w", "channels-uvicorn-redis-2w"),
    ("turbo-runcable-redis-4p", "channels-uvicorn-redis-4p"),
)
# The server candidates for runcable and their floors, beside turbo-runcable (the cable's
# builtin server) and runcable-uvicorn (uvicorn with the cable's sansio protocol class);
# their servers come with the ``bench`` extra.
SERVER_TARGETS = (
    "turbo-runcable",
    "runcable-uvicorn",
    "runcable-uvicorn-wsproto",
    "runcable-granian",
    "runcable-hypercorn",
    "floor-websockets",
    "floor-picows",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Server:
    """A running target; ``stop()`` ends it and everything it started.

    ``port`` and ``process`` are the first of ``ports`` and ``processes``: a target of
    several processes has one of each per process.
    """

    def __init__(self, target: Target, ping_interval: float) -> None:
        self.target = target
        self.ports = [free_port() for _ in range(target.processes)]
        self.port = self.ports[0]
        self.http_port = free_port() if target.separate_http_port else self.port
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (lives as long as the server)
            prefix=f"bench-{target.name}-", suffix=".log", delete=False
        )
        self.redis = RedisServer() if target.redis else None
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.redis is not None:
            env["BENCH_REDIS_URL"] = self.redis.url
        env["TURBO_CABLE_PING_INTERVAL"] = str(ping_interval)
        if target.settings_module:
            env["DJANGO_SETTINGS_MODULE"] = target.settings_module
        self.processes: list[subprocess.Popen[bytes]] = []
        try:
            for port in self.ports:
                http_port = self.http_port if port == self.port else port
                values = {"port": port, "http_port": http_port, "ping": ping_interval}
                args = [arg.format(**values) for arg in target.args]
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, *args],
                        cwd=ROOT,
                        env=env,
                        stdout=self.log,
                        stderr=subprocess.STDOUT,
                    )
                )
            self.process = self.processes[0]
            self._wait_until_serving()
        except BaseException:
            self.stop()  # a server that did not start leaves nothing behind
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    @property
    def cable_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/cable"

    @property
    def broadcast_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/_broadcast"

    @property
    def cable_urls(self) -> list[str]:
        return [self.cable_url, *(f"ws://127.0.0.1:{port}/cable" for port in self.ports[1:])]

    @property
    def broadcast_urls(self) -> list[str]:
        others = (f"http://127.0.0.1:{port}/_broadcast" for port in self.ports[1:])
        return [self.broadcast_url, *others]

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def _wait_until_serving(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        waiting = [*self.ports, self.http_port]
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                raise RuntimeError(f"{self.target.name} exited at start-up:\n{self.output()}")
            waiting = [port for port in waiting if not _accepting(port)]
            if not waiting:
                if self.target.workers > 1:
                    wait_for_workers(self.pid, self.target.workers, deadline - time.monotonic())
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.target.name} did not start in {timeout}s:\n{self.output()}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                workers = psutil.Process(process.pid).children()
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                for worker in workers:  # a master killed above leaves its workers behind
                    with contextlib.suppress(psutil.NoSuchProcess):
                        worker.kill()
        if self.redis is not None:
            self.redis.stop()
