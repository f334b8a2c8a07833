"""Presence across processes through a real Redis, and what a killed process leaves behind."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from tests.redis_support import RedisServer
from tests.servers import LiveServer, live_server
from tests.test_presence import join, presence_until
from turbo_cable import Presence, presence
from turbo_cable.identity import Identity

TTL = 2.0  # PRESENCE_TTL of these servers: a dead process is gone within it


@pytest.fixture
def pair(redis_server: RedisServer) -> Iterator[tuple[LiveServer, LiveServer]]:
    settings = {
        "BACKEND": redis_server.url,
        "PRESENCE_TTL": TTL,
        "IDENTIFY": "tests.testapp.identity.from_query_string",
    }
    with (
        live_server("uvicorn", settings=settings) as first,
        live_server("daphne", settings=settings) as second,
    ):
        yield first, second


@pytest.fixture
def read_presence(
    redis_server: RedisServer, configure: Callable[..., None]
) -> Callable[[str], Presence]:
    """``turbo_cable.presence`` in this process, which runs no cable: it asks Redis."""
    configure(BACKEND=redis_server.url, PRESENCE_TTL=TTL)
    return presence


async def test_presence_spans_processes_and_a_killed_one_disappears_within_the_ttl(
    pair: tuple[LiveServer, LiveServer], read_presence: Callable[[str], Presence]
) -> None:
    first, second = pair
    here = await join(second, "presence:shared", {"target": "who"})
    there = [await join(first, "presence:shared") for _ in range(2)]
    try:
        await presence_until(here, lambda p: p["count"] == 3)
        assert await asyncio.to_thread(read_presence, "presence:shared") == Presence((), 3)
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)  # no goodbye: only the TTL removes it
        killed = time.monotonic()
        await presence_until(here, lambda p: p["count"] == 1, timeout=TTL + TTL / 3 + 5)
        told_after = time.monotonic() - killed
        assert await asyncio.to_thread(read_presence, "presence:shared") == Presence((), 1)
    finally:
        await here.close()
        for client in there:
            await client.close()
    # Expired after TTL; noticed by the next heartbeat (every TTL / 3) and told at once.
    assert told_after < TTL + TTL / 3 + 1.5, told_after


async def test_one_user_on_two_processes_counts_once(
    pair: tuple[LiveServer, LiveServer], read_presence: Callable[[str], Presence]
) -> None:
    first, second = pair
    tabs = [
        await join(first, "presence:user", query="?name=ada"),
        await join(second, "presence:user", query="?name=ada"),
        await join(second, "presence:user", query="?name=bo"),
    ]
    try:
        updates = await presence_until(tabs[0], lambda p: len(p["users"]) == 2)
        ada, bo = {"id": "device:ada", "name": "Ada"}, {"id": "device:bo", "name": "Bo"}
        assert updates[-1] == {"users": [ada, bo], "anonymous": 0, "count": 2}
        expected = Presence((Identity("device:ada", "Ada"), Identity("device:bo", "Bo")), 0)
        assert await asyncio.to_thread(read_presence, "presence:user") == expected
        await tabs.pop(1).close()  # Ada's tab on the second process: she is still there
        await tabs.pop(1).close()  # Bo leaves
        updates = await presence_until(tabs[0], lambda p: len(p["users"]) == 1)
        assert updates[-1] == {"users": [ada], "anonymous": 0, "count": 1}
    finally:
        for client in tabs:
            await client.close()


def test_from_a_process_without_a_cable_nobody_is_there_before_anyone_joins(
    read_presence: Callable[[str], Presence],
) -> None:
    assert read_presence("presence:empty") == Presence()
    assert Presence((Identity("user:1", "a"),), 2).count == 3
