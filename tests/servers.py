"""Real ASGI servers for the tests: daphne or uvicorn on a free loopback port."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("daphne", "uvicorn")
ALL_SERVERS = (*SERVERS, "runserver")  # runserver: daphne's, through manage.py


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """One server process; ``stop()`` sends SIGTERM and returns the exit code."""

    def __init__(
        self,
        kind: str,
        *,
        settings: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        app: str = "tests.asgi:application",
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        file_limit: int | None = None,
    ) -> None:
        self.kind = kind
        self.port = port or free_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (lives as long as the server)
            prefix=f"turbo-cable-{kind}-", suffix=".log", delete=False
        )
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "TURBO_CABLE_TEST_SETTINGS": json.dumps(settings or {}),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        if kind == "daphne":
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        elif kind == "uvicorn":
            command = [
                sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(self.port),
                "--no-access-log", "--ws-per-message-deflate", "false",
                "--ws", "turbo_cable.uvicorn_protocol:WebSocketProtocol",
            ]  # fmt: skip
        elif kind == "runserver":
            environment["TURBO_CABLE_TEST_WITH_DAPHNE"] = "1"
            command = [
                sys.executable, "-m", "django", "runserver", "--noreload", "--skip-checks",
                f"127.0.0.1:{self.port}",
            ]  # fmt: skip
            app = ""
        elif kind == "gunicorn":  # pages only, under WSGI: pass a WSGI ``app``
            command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
        elif kind == "runcable":  # the cable alone, on its builtin server; no pages
            command = [
                sys.executable, "-m", "django", "runcable", "--host", "127.0.0.1",
                "--port", str(self.port),
            ]  # fmt: skip
            app = ""
        else:
            raise ValueError(f"unknown server {kind!r}")
        self.process = subprocess.Popen(
            [*command, *extra_args, *([app] if app else [])],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _as_from_a_terminal(file_limit),
        )
        self._wait_until_serving()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cable_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/cable"

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def _wait_until_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at start-up:\n{self.output()}")
            with contextlib.suppress(OSError):
                status, _ = self.request("GET", "/")
                if status:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.kind} did not start in {timeout}s:\n{self.output()}")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def broadcast(self, stream: str, data: Any) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"stream": stream, "data": data}).encode()
        status, raw = self.request(
            "POST", "/_broadcast", body, {"Content-Type": "application/json"}
        )
        return status, json.loads(raw)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _as_from_a_terminal(file_limit: int | None) -> None:
    """Run in the child before exec: SIGINT stops the server, whoever started the suite.

    A suite started in the background (``make test &``, some CI runners) ignores
    SIGINT, and an ignored signal stays ignored across exec: daphne would then never
    hear the SIGINT the shutdown tests send. ``file_limit``: at most that many open
    file descriptors.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if file_limit is not None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (file_limit, file_limit))


@contextlib.contextmanager
def live_server(kind: str, **options: Any) -> Iterator[LiveServer]:
    server = LiveServer(kind, **options)
    try:
        yield server
    finally:
        server.stop()
