"""The server pings every PING_INTERVAL and closes sockets silent for IDLE_TIMEOUT."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

PING_INTERVAL, IDLE_TIMEOUT = 0.2, 0.7


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    settings = {"PING_INTERVAL": PING_INTERVAL, "IDLE_TIMEOUT": IDLE_TIMEOUT}
    with live_server(request.param, settings=settings) as running:
        yield running


async def test_the_server_sends_pings(server: LiveServer) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        assert await client.receive_any(timeout=PING_INTERVAL * 5) == {"type": "ping"}


async def test_a_client_that_answers_pings_stays_connected(server: LiveServer) -> None:
    stream = signed_stream_name("kept-alive")
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(stream)
        deadline = time.monotonic() + IDLE_TIMEOUT * 3
        while time.monotonic() < deadline:
            assert await client.receive_any() == {"type": "ping"}
            await client.send({"type": "pong"})
        server.broadcast("kept-alive", "still connected")
        assert (await client.receive())["data"] == "still connected"


async def test_a_silent_client_is_closed_after_the_idle_timeout(server: LiveServer) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(signed_stream_name("silent"))
        started = time.monotonic()
        close, _ = await client.read_until_closed(timeout=IDLE_TIMEOUT * 5)
        waited = time.monotonic() - started
    assert close is not None
    assert close.code == 1000
    assert IDLE_TIMEOUT <= waited < IDLE_TIMEOUT + PING_INTERVAL * 4
    # The cable forgets a socket before it sends the close frame.
    assert server.broadcast("silent", "x") == (200, {"recipients": 0})
    assert "closing idle connection" in server.output()
