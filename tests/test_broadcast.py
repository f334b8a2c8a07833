"""Delivery over HTTP: kept-alive connections, timeouts, and failures that never raise."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from tests.cable_client import CableClient
from tests.servers import LiveServer, free_port, live_server
from tests.testapp.models import Comment
from turbo_cable.broadcast import (
    abroadcast,
    abroadcast_json,
    broadcast,
    broadcast_json,
    close_connections,
)
from turbo_cable.streams import signed_stream_name

MAX_BODY = 2000


@pytest.fixture(scope="module")
def cable() -> Iterator[LiveServer]:
    with live_server("uvicorn", settings={"MAX_BROADCAST_SIZE": MAX_BODY}) as running:
        yield running


def settings_for(server: LiveServer, **extra: object) -> override_settings:
    return override_settings(
        TURBO_CABLE={"BROADCAST_URL": f"{server.http_url}/_broadcast", **extra}
    )


class Recorder(BaseHTTPRequestHandler):
    """A stand-in cable endpoint that remembers who called and what was sent."""

    protocol_version = "HTTP/1.1"  # keeps connections alive
    calls: list[tuple[int, dict[str, str], dict]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.calls.append((self.client_address[1], dict(self.headers), json.loads(body)))
        reply = b'{"recipients": 0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list]]:
    calls: list = []
    handler = type("BoundRecorder", (Recorder,), {"calls": calls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    close_connections()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/_broadcast", calls
    finally:
        close_connections()
        server.shutdown()
        server.server_close()


async def test_broadcast_posts_to_the_cable_and_a_subscriber_receives_it(
    cable: LiveServer,
) -> None:
    async with await CableClient.connect(cable.cable_url) as client:
        stream = signed_stream_name("room", 1)
        await client.subscribe(stream)
        with settings_for(cable):
            assert broadcast(("room", 1), "<turbo-stream></turbo-stream>") is True
            assert broadcast_json("room:1", {"n": 1}) is True
        assert (await client.receive())["data"] == "<turbo-stream></turbo-stream>"
        assert (await client.receive())["data"] == {"n": 1}


async def test_async_broadcasts_reach_subscribers(cable: LiveServer) -> None:
    async with await CableClient.connect(cable.cable_url) as client:
        await client.subscribe(signed_stream_name("lobby"))
        with settings_for(cable):
            assert await abroadcast("lobby", "<p>a</p>") is True
            assert await abroadcast_json("lobby", [1, 2]) is True
        assert [(await client.receive())["data"] for _ in range(2)] == ["<p>a</p>", [1, 2]]


def test_one_connection_is_kept_alive_across_broadcasts(recorder: tuple[str, list]) -> None:
    url, calls = recorder
    with override_settings(TURBO_CABLE={"BROADCAST_URL": url}):
        for n in range(3):
            assert broadcast_json("s", n) is True
        close_connections()
        assert broadcast_json("s", 3) is True
    ports = [port for port, _, _ in calls]
    assert ports[0] == ports[1] == ports[2] != ports[3]
    assert [body for _, _, body in calls] == [{"stream": "s", "data": n} for n in range(4)]


def test_the_token_is_sent_as_a_bearer(recorder: tuple[str, list]) -> None:
    url, calls = recorder
    with override_settings(TURBO_CABLE={"BROADCAST_URL": url, "BROADCAST_TOKEN": "s3cret"}):
        broadcast("s", "x")
    with override_settings(TURBO_CABLE={"BROADCAST_URL": url}):
        broadcast("s", "y")
    assert calls[0][1]["Authorization"] == "Bearer s3cret"
    assert "Authorization" not in calls[1][1]
    assert calls[0][1]["Content-Type"] == "application/json"


async def test_a_stale_kept_alive_connection_is_replaced_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    with live_server("uvicorn", port=port) as first, settings_for(first):
        assert broadcast("s", "before restart") is True
    with live_server("uvicorn", port=port) as second, settings_for(second):
        async with await CableClient.connect(second.cable_url) as client:
            await client.subscribe(signed_stream_name("s"))
            with caplog.at_level(logging.DEBUG, "turbo_cable"):
                assert broadcast("s", "after restart") is True
            assert (await client.receive())["data"] == "after restart"
    assert f"kept-alive connection to 127.0.0.1:{port} was closed; reconnecting" in caplog.text


def test_a_refused_broadcast_logs_the_reason_and_returns_false(
    cable: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    with settings_for(cable), caplog.at_level(logging.WARNING, "turbo_cable"):
        assert broadcast("big", "x" * MAX_BODY) is False
    assert f"broadcast to stream 'big' failed: HTTP 400: body is larger than {MAX_BODY}" in (
        caplog.text
    )
    assert f"(from {cable.http_url}/_broadcast)" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_save_succeeds_and_warns_when_the_broadcast_server_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = f"http://127.0.0.1:{free_port()}/_broadcast"
    with override_settings(TURBO_CABLE={"BROADCAST_URL": down}):
        with caplog.at_level(logging.WARNING, "turbo_cable"):
            comment = Comment.objects.create(body="still saved")
        assert broadcast("x", "y") is False
    assert Comment.objects.filter(pk=comment.pk).exists()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w.split(" (connection refused)")[0] for w in warnings] == [
        f"broadcast to stream 'comments' failed: nothing listens at {down}",
        f"broadcast to stream 'x' failed: nothing listens at {down}",
    ]


def test_a_server_that_never_answers_is_given_up_on_after_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections in the kernel, never reads nor answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/_broadcast"
        with override_settings(TURBO_CABLE={"BROADCAST_URL": url, "BROADCAST_TIMEOUT": 0.3}):
            started = time.monotonic()
            with caplog.at_level(logging.WARNING, "turbo_cable"):
                assert broadcast("slow", "x") is False
            elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 2.0
    assert (
        f"broadcast to stream 'slow' failed: {url} did not answer within 0.3 s "
        "(TURBO_CABLE['BROADCAST_TIMEOUT'])"
    ) in caplog.text


def test_bad_stream_names_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="blank"):
        broadcast(" ", "x")
    with pytest.raises(TypeError, match="must be a string"):
        broadcast("s", 42)  # type: ignore[arg-type]


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_refused_before_anything_is_sent(
    recorder: tuple[str, list], number: float
) -> None:
    """Browsers cannot parse them back; the endpoint would refuse them too."""
    url, calls = recorder
    with override_settings(TURBO_CABLE={"BROADCAST_URL": url}):
        with pytest.raises(ValueError, match="not JSON compliant"):
            broadcast_json("s", {"score": number})
        assert broadcast_json("s", {"score": 1.5}) is True
    assert [body for _, _, body in calls] == [{"stream": "s", "data": {"score": 1.5}}]
