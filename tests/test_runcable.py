"""``manage.py runcable``: the cable, the endpoint and the health check in a process alone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from websockets.exceptions import InvalidStatus

from tests.cable_client import CableClient
from tests.raw_websocket import RawWebSocket, frame_header
from tests.redis_support import RedisServer
from tests.servers import ROOT, LiveServer, live_server
from tests.test_cable_resources import connection_outcomes
from turbo_cable.streams import signed_stream_name

SERVICE_RESTART = 1012  # what uvicorn closes every WebSocket with when it stops
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013
MAX_FRAME_SIZE = 1024 * 1024  # the default


@pytest.fixture(scope="module")
def cable() -> Iterator[LiveServer]:
    with live_server("runcable", settings={"PING_INTERVAL": 0.5, "IDLE_TIMEOUT": 5}) as running:
        yield running


def run_command(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """``runcable`` as a user types it, in a process that must end by itself."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    entry = ["-c", code, "runcable"] if code else ["-m", "django", "runcable"]
    return subprocess.run(
        [sys.executable, *entry, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_it_serves_the_cable_and_the_broadcast_endpoint(cable: LiveServer) -> None:
    async with await CableClient.connect(cable.cable_url) as client:
        subscribed = await client.subscribe(signed_stream_name("standalone"))
        assert subscribed["type"] == "subscribed"
        status, body = cable.broadcast("standalone", "<p>hello</p>")
        assert (status, body["recipients"]) == (200, 1)
        message = await client.receive()
        assert (message["type"], message["data"]) == ("message", "<p>hello</p>")
        assert message["offset"] == subscribed["offset"] + 1  # positions, as on the ASGI route


async def test_it_keeps_sockets_alive_with_the_cables_own_pings(cable: LiveServer) -> None:
    async with await CableClient.connect(cable.cable_url) as client:
        assert await client.receive_any(timeout=5) == {"type": "ping"}


async def test_it_checks_signatures_and_origins_as_the_asgi_route_does(
    cable: LiveServer,
) -> None:
    async with await CableClient.connect(cable.cable_url, origin=cable.http_url) as client:
        forged = await client.subscribe("standalone--forged")
        assert forged["type"] == "reject"
    with pytest.raises(InvalidStatus) as refused:
        await CableClient.connect(cable.cable_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403


def test_uvicorn_itself_refuses_a_frame_over_max_frame_size_as_its_header_arrives(
    cable: LiveServer,
) -> None:
    """The cable's protocol class is in place: plain uvicorn would buffer up to 16 MiB
    and wait for the rest of the frame before anything saw it."""
    raw = RawWebSocket(cable.port)
    try:
        raw.sock.sendall(frame_header(2 * MAX_FRAME_SIZE) + b"x" * 1024)
        opcode, payload = read_frame(raw)
        while opcode != 0x8:  # the cable's pings may come first
            opcode, payload = read_frame(raw)
    finally:
        raw.close()
    assert struct.unpack("!H", payload[:2]) == (MESSAGE_TOO_BIG,)


def read_frame(raw: RawWebSocket) -> tuple[int, bytes]:
    """One unmasked server frame of under 126 bytes: its opcode and payload."""

    def read(count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = raw.sock.recv(count - len(data))
            assert chunk, "the server closed the socket without a close frame"
            data += chunk
        return data

    first, length = read(2)
    assert length < 126, length
    return first & 0x0F, read(length)


def test_connections_beyond_max_connections_are_told_to_try_again_later() -> None:
    with live_server("runcable", settings={"MAX_CONNECTIONS": 5}) as cable:
        assert asyncio.run(connection_outcomes(cable, 7)) == {"open": 5, TRY_AGAIN_LATER: 2}


def test_it_answers_the_health_check(cable: LiveServer) -> None:
    status, body = cable.request("GET", "/_health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


@pytest.mark.parametrize("path", ["/", "/admin/", "/static/turbo_cable/turbo_streams.js"])
def test_every_other_path_is_not_found(cable: LiveServer, path: str) -> None:
    status, body = cable.request("GET", path)
    assert (status, body) == (404, b"Not Found: this server only serves the cable.\n")


async def test_a_websocket_on_another_path_is_refused(cable: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await CableClient.connect(f"ws://127.0.0.1:{cable.port}/elsewhere")
    assert refused.value.response.status_code == 403


async def test_it_never_imports_the_sites_urlconf() -> None:
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings_exploding_urls"}
    with live_server("runcable", env=env) as cable:
        assert cable.request("GET", "/")[0] == 404
        async with await CableClient.connect(cable.cable_url) as client:
            assert (await client.subscribe(signed_stream_name("s")))["type"] == "subscribed"
        assert "the site's URLconf was imported" not in cable.output()
    # The same settings under the ASGI route, which serves pages: the URLconf explodes.
    with live_server("uvicorn", env=env) as site:
        assert site.request("GET", "/")[0] == 500
        assert "the site's URLconf was imported" in site.output()


@pytest.mark.redis
async def test_two_processes_on_one_redis_share_streams_and_history(
    redis_server: RedisServer,
) -> None:
    """``--backend`` wins over the settings (memory here): a broadcast POSTed to one
    process reaches a client of the other, and a client that moves from one to the
    other resumes from its position."""
    backend = ("--backend", redis_server.url)
    with (
        live_server("runcable", extra_args=backend) as one,
        live_server("runcable", extra_args=backend) as other,
    ):
        stream = signed_stream_name("shared")
        async with await CableClient.connect(one.cable_url) as client:
            assert (await client.subscribe(stream))["type"] == "subscribed"
            status, body = other.broadcast("shared", "from the other process")
            assert (status, body["recipients"]) == (200, 0)  # none of its own
            seen = await client.receive()
            assert seen["data"] == "from the other process"
        for n in range(2):
            assert one.broadcast("shared", f"missed {n}")[0] == 200
        async with await CableClient.connect(other.cable_url) as client:
            position = {"epoch": seen["epoch"], "offset": seen["offset"]}
            await client.send({"type": "subscribe", "stream": stream, **position})
            assert (await client.receive())["type"] == "subscribed"
            replayed = [(await client.receive())["data"] for _ in range(2)]
            assert replayed == ["missed 0", "missed 1"]
        assert "turbo_cable started with the redis backend" in one.output()


async def test_sigterm_closes_every_socket_as_a_restart_and_shuts_down_gracefully() -> None:
    with live_server("runcable") as cable:
        client = await CableClient.connect(cable.cable_url)
        assert (await client.subscribe(signed_stream_name("bye")))["type"] == "subscribed"
        cable.process.send_signal(signal.SIGTERM)
        close, _frames = await client.read_until_closed()
        assert close is not None
        assert close.code == SERVICE_RESTART
        # After its graceful shutdown uvicorn re-raises the signal, as a process
        # manager expects of a process that stopped because it was told to.
        assert cable.process.wait(15) == -signal.SIGTERM
        assert "Application shutdown complete" in cable.output()
        assert "Finished server process" in cable.output()


def test_reload_restarts_the_server_when_a_python_file_changes(tmp_path: Path) -> None:
    settings = tmp_path / "reloaded_settings.py"
    settings.write_text("from tests.settings import *  # noqa: F403\n")
    env = {"DJANGO_SETTINGS_MODULE": "reloaded_settings", "PYTHONPATH": str(tmp_path)}
    banner = "Serving the cable on"
    with live_server("runcable", env=env, extra_args=("--reload",)) as cable:
        try:
            assert cable.output().count(banner) == 1
            deadline = time.monotonic() + 20
            while cable.output().count(banner) < 2:
                # Until the reloader, which polls once a second, has seen a change.
                settings.write_text(settings.read_text() + "CHANGED = True\n")
                assert time.monotonic() < deadline, cable.output()
                time.sleep(0.5)
            assert wait_healthy(cable), cable.output()
        finally:
            # The reloader's parent does not pass SIGTERM on to the process it restarts.
            serving = psutil.Process(cable.process.pid).children(recursive=True)
            cable.stop()
            for process in serving:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.terminate()
                    process.wait(15)


def wait_healthy(server: LiveServer, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if server.request("GET", "/_health")[0] == 200:
                return True
        time.sleep(0.1)
    return False


def test_without_reload_there_is_no_reloader() -> None:
    with live_server("runcable") as cable:
        assert "Watching for file changes" not in cable.output()
        assert cable.request("GET", "/_health")[0] == 200


def test_a_bad_backend_is_refused_with_the_reason() -> None:
    result = run_command("--backend", "mysql://db")
    assert result.returncode == 1
    assert "--backend 'mysql://db': TURBO_CABLE['BACKEND'] must be" in result.stderr


def test_a_bad_port_is_refused_with_the_reason() -> None:
    result = run_command("--port", "70000")
    assert result.returncode == 2
    assert "must be a port number from 1 to 65535, not '70000'" in result.stderr


def test_without_uvicorn_it_says_how_to_install_it() -> None:
    block_uvicorn = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', *sys.argv[1:]])\n"
    )
    result = run_command(code=block_uvicorn)
    assert result.returncode == 1
    assert "runcable runs the cable under uvicorn, which cannot be imported" in result.stderr
    assert "pip install 'django-turbo-cable[uvicorn]'" in result.stderr
