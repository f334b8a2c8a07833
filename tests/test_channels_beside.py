"""A Channels project keeps its consumers, its HTTP and its lifespan with the cable in front.

One process under daphne and under uvicorn: a real Channels consumer on
``/ws/echo/<room>/``, the cable on ``/cable``, Django on every other HTTP path.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer
from turbo_cable.streams import signed_stream_name

APP = "tests.channels_asgi:application"


@pytest.mark.parametrize("kind", SERVERS)
async def test_channels_consumer_and_cable_share_one_process(kind: str, tmp_path: Path) -> None:
    log = tmp_path / "lifespan.log"
    server = await asyncio.to_thread(
        LiveServer, kind, app=APP, env={"TURBO_CABLE_TEST_LIFESPAN_LOG": str(log)}
    )
    try:
        async with connect(f"ws://127.0.0.1:{server.port}/ws/echo/lobby/") as consumer:
            await consumer.send("hello")
            assert await asyncio.wait_for(consumer.recv(), 10) == "lobby: hello"

        async with await CableClient.connect(server.cable_url) as cable:
            answer = await cable.subscribe(signed_stream_name("room"))
            assert answer["type"] == "subscribed"
            status, _ = await asyncio.to_thread(server.broadcast, "room", "<p>hi</p>")
            assert status == 200
            frame = await cable.receive()
            assert (frame["type"], frame["data"]) == ("message", "<p>hi</p>")

        status, body = await asyncio.to_thread(server.request, "GET", "/")
        assert (status, body) == (200, b"django says hello")
    finally:
        returncode = server.stop()
    assert returncode in (0, -signal.SIGTERM), server.output()
    # uvicorn runs the wrapped application's lifespan; daphne sends none.
    events = log.read_text().split() if log.exists() else []
    assert events == (["startup", "shutdown"] if kind == "uvicorn" else []), server.output()


@pytest.mark.parametrize("kind", SERVERS)
async def test_a_path_the_channels_router_does_not_know_is_its_own_business(kind: str) -> None:
    server = await asyncio.to_thread(LiveServer, kind, app=APP)
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{server.port}/ws/nowhere/"):
                pass
        # Channels' own answer to a path its URLRouter does not know.
        assert refused.value.response.status_code == 500
        async with await CableClient.connect(server.cable_url) as cable:
            answer = await cable.subscribe(signed_stream_name("still-serving"))
            assert answer["type"] == "subscribed"
    finally:
        server.stop()
