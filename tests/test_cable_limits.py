"""Limits the cable enforces itself, whatever the ASGI server allows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

LIMITS = {"MAX_SUBSCRIPTIONS": 3, "MAX_STREAM_NAME_LENGTH": 100}


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_server(request.param, settings=LIMITS) as running:
        yield running


async def test_subscriptions_beyond_the_limit_are_rejected(server: LiveServer) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        for n in range(3):
            assert (await client.subscribe(signed_stream_name(f"s{n}")))["type"] == "subscribed"
        extra = signed_stream_name("s3")
        assert await client.subscribe(extra) == {
            "type": "reject",
            "stream": extra,
            "reason": "too many subscriptions",
        }
        # Leaving one makes room again.
        await client.unsubscribe(signed_stream_name("s0"))
        assert (await client.subscribe(extra))["type"] == "subscribed"


async def test_a_stream_name_over_the_length_limit_is_rejected(server: LiveServer) -> None:
    long_name = signed_stream_name("x" * 100)
    async with await CableClient.connect(server.cable_url) as client:
        assert await client.subscribe(long_name) == {
            "type": "reject",
            "stream": long_name,
            "reason": "stream name too long",
        }
        assert server.broadcast("x" * 100, "x") == (200, {"recipients": 0})
