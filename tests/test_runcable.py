"""``manage.py runcable``: the cable, the endpoint and the health check in a process alone."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from django.template import Context, Template
from websockets.exceptions import InvalidStatus

from tests.cable_client import CableClient
from tests.raw_websocket import RawWebSocket, frame_header
from tests.redis_support import RedisServer
from tests.servers import ROOT, LiveServer, free_port, live_server
from tests.test_cable_resources import connection_outcomes
from tests.test_page_positions import rendered_position
from turbo_cable.broadcast import broadcast
from turbo_cable.streams import signed_stream_name

SERVICE_RESTART = 1012  # what both servers close every WebSocket with when they stop
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013
MAX_FRAME_SIZE = 1024 * 1024  # the default
STARTUP_FAILURE = 3  # the exit status when it cannot listen (uvicorn's, kept by the builtin)
SERVERS = ["builtin", "uvicorn"]  # --server: the cable's own (default), and uvicorn
# What each server logs when it has stopped gracefully.
STOPPED_LINES = {
    "builtin": ("INFO: application shut down", "INFO: stopped"),
    "uvicorn": ("Application shutdown complete", "Finished server process"),
}


def server_args(server: str) -> tuple[str, ...]:
    return ("--server", server)


@pytest.fixture(scope="module", params=SERVERS)
def cable(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    settings = {"PING_INTERVAL": 0.5, "IDLE_TIMEOUT": 5}
    with live_server("runcable", settings=settings, extra_args=server_args(request.param)) as up:
        yield up


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


async def test_a_page_rendered_by_a_wsgi_process_replays_what_came_before_its_subscribe(
    cable: LiveServer, configure: Callable[..., None]
) -> None:
    """This process plays gunicorn: no cable of its own, broadcasts to ``BROADCAST_URL``.
    Its pages read each stream's position from that cable, so a broadcast sent between
    rendering and subscribing is replayed, and one the page already shows is not."""
    configure(BROADCAST_URL=f"{cable.http_url}/_broadcast")
    assert broadcast("rendered elsewhere", "<p>shown</p>")
    page = Template("{% load turbo_cable %}{% turbo_stream_from 'rendered elsewhere' %}")
    since = rendered_position(page.render(Context()))
    assert since["epoch"]  # the first broadcast started the stream's epoch
    assert broadcast("rendered elsewhere", "<p>after the render</p>")
    async with await CableClient.connect(cable.cable_url) as client:
        await client.send(
            {"type": "subscribe", "stream": signed_stream_name("rendered elsewhere"), **since}
        )
        assert (await client.receive())["type"] == "subscribed"
        replayed = await client.receive()
    assert replayed["data"] == "<p>after the render</p>"


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


def test_the_server_refuses_a_frame_over_max_frame_size_as_its_header_arrives(
    cable: LiveServer,
) -> None:
    """The builtin server, and uvicorn with the cable's protocol class: plain uvicorn
    would buffer up to 16 MiB and wait for the rest of the frame before anything saw it."""
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


@pytest.mark.parametrize("server", SERVERS)
def test_connections_beyond_max_connections_are_told_to_try_again_later(server: str) -> None:
    settings = {"MAX_CONNECTIONS": 5}
    with live_server("runcable", settings=settings, extra_args=server_args(server)) as cable:
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


@pytest.mark.parametrize("server", SERVERS)
async def test_sigterm_closes_every_socket_as_a_restart_and_shuts_down_gracefully(
    server: str,
) -> None:
    with live_server("runcable", extra_args=server_args(server)) as cable:
        client = await CableClient.connect(cable.cable_url)
        assert (await client.subscribe(signed_stream_name("bye")))["type"] == "subscribed"
        cable.process.send_signal(signal.SIGTERM)
        close, _frames = await client.read_until_closed()
        assert close is not None
        assert close.code == SERVICE_RESTART
        # After a graceful shutdown the server raises the signal again, as a process
        # manager expects of a process that stopped because it was told to.
        assert cable.process.wait(15) == -signal.SIGTERM
        for line in STOPPED_LINES[server]:
            assert line in cable.output()


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


def test_the_builtin_server_needs_no_uvicorn() -> None:
    """``pip install django-turbo-cable`` alone is enough for ``runcable``: the process
    it becomes serves with uvicorn impossible to import."""
    port = free_port()
    code = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "from turbo_cable.cable_server import main\n"
        f"sys.exit(main(['--port', '{port}']))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while status != 200 and process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/_health")
                status = connection.getresponse().status
            time.sleep(0.1)
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _out, errors = process.communicate(timeout=15)
    assert process.returncode == -signal.SIGTERM, errors
    assert "INFO: stopped" in errors


def test_without_uvicorn_it_says_how_to_install_it() -> None:
    block_uvicorn = (
        "import sys; sys.modules['uvicorn'] = None\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', *sys.argv[1:]])\n"
    )
    result = run_command("--server", "uvicorn", code=block_uvicorn)
    assert result.returncode == 1
    assert "runcable --server uvicorn runs the cable under uvicorn, which cannot be imported" in (
        result.stderr
    )
    assert "pip install 'django-turbo-cable[uvicorn]'" in result.stderr


ORM_REPORTED = {"DJANGO_SETTINGS_MODULE": "tests.settings_orm_reported"}
STARTED = "turbo_cable started with the memory backend"


def test_the_cable_process_serves_without_the_orm_forms_and_templates() -> None:
    """``runcable`` hands over to a process that reads the settings only: the apps,
    the ORM and the template engine stay out, which is most of Django's memory."""
    with live_server("runcable", env=ORM_REPORTED) as cable:
        assert f"{STARTED} [django.db.models not imported]" in cable.output()
        assert cable.request("GET", "/_health")[0] == 200


def test_an_identify_hook_makes_the_cable_process_load_the_apps_at_start() -> None:
    """The hook is the project's own code and may use the ORM, so the apps are loaded."""
    settings = {"IDENTIFY": "tests.testapp.identity.from_query_string"}
    with live_server("runcable", env=ORM_REPORTED, settings=settings) as cable:
        assert f"{STARTED} [django.db.models imported]" in cable.output()
        assert "loading the installed apps, which IDENTIFY needs" in cable.output()


@pytest.mark.parametrize("cookie", [None, "sessionid=nosuchsession0000000000000000000"])
async def test_presence_loads_the_apps_when_a_connection_first_asks_for_it(
    cookie: str | None,
) -> None:
    """The presence template is rendered by Django's engine, and a session cookie is
    looked up with Django's auth: each works in a process that started without the apps."""
    headers = {"Cookie": cookie} if cookie else {}
    with live_server("runcable", env=ORM_REPORTED) as cable:
        async with await CableClient.connect(cable.cable_url, additional_headers=headers) as client:
            stream = signed_stream_name("presence:runcable")
            await client.send({"type": "subscribe", "stream": stream, "presence": {"target": "t"}})
            assert (await client.receive())["type"] == "subscribed"
            html = ""
            while "<turbo-stream" not in html:
                frame = await client.receive()
                html = frame["data"] if isinstance(frame.get("data"), str) else ""
        assert '<turbo-stream action="update" target="t">' in html
        assert "identifying a cable connection failed" not in cable.output()


def test_the_cable_process_finds_the_settings_where_manage_py_was_told_to_look(
    tmp_path: Path,
) -> None:
    """``--pythonpath`` (or manage.py's own directory) reaches the process runcable becomes."""
    (tmp_path / "elsewhere_settings.py").write_text("from tests.settings import *  # noqa: F403\n")
    options = ("--pythonpath", str(tmp_path), "--settings", "elsewhere_settings")
    with live_server("runcable", extra_args=options) as cable:
        assert cable.request("GET", "/_health")[0] == 200


@pytest.mark.parametrize("server", SERVERS)
def test_a_port_in_use_ends_the_process_with_the_reason_and_uvicorns_status(server: str) -> None:
    with live_server("runcable") as cable:
        result = run_command("--port", str(cable.port), *server_args(server))
    assert result.returncode == STARTUP_FAILURE
    assert f"[Errno 98] error while attempting to bind on address ('127.0.0.1', {cable.port})" in (
        result.stderr
    )
