"""Limits the cable enforces itself, whatever the ASGI server allows.

Subscription answers, in-process through ASGI; the limits a server and the cable
enforce on sockets and bytes are in test_cable_resources.py and test_cable_bad_input.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.asgi_client import InProcessCable, in_process_cable
from turbo_cable.streams import signed_stream_name

LIMITS = {"MAX_SUBSCRIPTIONS": 3, "MAX_STREAM_NAME_LENGTH": 100}


@pytest.fixture
async def cable() -> AsyncIterator[InProcessCable]:
    async with in_process_cable(**LIMITS) as running:
        yield running


async def test_subscriptions_beyond_the_limit_are_rejected(cable: InProcessCable) -> None:
    async with await cable.connect() as client:
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


async def test_a_stream_name_over_the_length_limit_is_rejected(cable: InProcessCable) -> None:
    long_name = signed_stream_name("x" * 100)
    async with await cable.connect() as client:
        assert await client.subscribe(long_name) == {
            "type": "reject",
            "stream": long_name,
            "reason": "stream name too long",
        }
        assert await cable.broadcast("x" * 100, "x") == (200, {"recipients": 0})
