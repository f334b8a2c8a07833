"""A real redis-server for the tests: a free loopback port, a temp dir, nothing saved."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.servers import LiveServer, free_port, live_server

PREFIX = "turbo_cable:"


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed; the Redis tests need the real server "
            "(run .ci/install-system, or apt-get install redis-server)."
        )
    return binary


class RedisServer:
    """One redis-server process that a test can kill and start again on the same port."""

    def __init__(self) -> None:
        self.binary = redis_server_binary()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="turbo-cable-redis-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.dir),
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start-up:\n{self.log()}")
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server did not answer in {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """Stop Redis the hard way, as a crash or a lost host would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def channels(self, prefix: str = PREFIX) -> list[bytes]:
        """Every channel someone is subscribed to under ``prefix``."""
        with self.client() as client:
            return sorted(client.pubsub_channels(f"{prefix}*"))

    def subscriber_count(self, channel: str) -> int:
        with self.client() as client:
            return int(client.pubsub_numsub(channel)[0][1])


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@contextlib.contextmanager
def two_processes(
    redis_server: RedisServer, env: dict[str, str] | None = None
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two uvicorn processes of the test project, sharing ``redis_server``."""
    settings = {"BACKEND": redis_server.url}
    with (
        live_server("uvicorn", settings=settings, env=env) as first,
        live_server("uvicorn", settings=settings, env=env) as second,
    ):
        yield first, second
