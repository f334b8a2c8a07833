"""Redis goes away under two running servers, then comes back on the same port."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.cable_client import CableClient
from tests.redis_support import PREFIX, RedisServer, eventually, two_processes
from tests.servers import LiveServer, live_server
from turbo_cable.streams import signed_stream_name

pytestmark = pytest.mark.redis

FAIL_FAST = 2.5  # seconds a broadcast may take to fail while Redis is away
RESUME = 5.0  # seconds for cross-process delivery to come back after Redis does


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer) -> Iterator[tuple[LiveServer, LiveServer]]:
    with two_processes(redis_server) as processes:
        yield processes


def timed_broadcast(server: LiveServer, stream: str, data: object) -> tuple[int, dict, float]:
    started = time.monotonic()
    status, body = server.broadcast(stream, data)
    return status, body, time.monotonic() - started


def redis_connections(server: LiveServer, redis_server: RedisServer) -> int:
    connections = psutil.Process(server.process.pid).net_connections(kind="tcp")
    return sum(1 for c in connections if c.raddr and c.raddr.port == redis_server.port)


async def test_while_redis_is_down_local_delivery_works_and_broadcasts_answer_503(
    pair: tuple[LiveServer, LiveServer], restartable_redis: RedisServer
) -> None:
    first, second = pair
    stream = signed_stream_name("outage")
    async with (
        await CableClient.connect(first.cable_url) as local,
        await CableClient.connect(second.cable_url) as remote,
    ):
        await local.subscribe(stream)
        await remote.subscribe(stream)
        restartable_redis.kill()

        status, body, took = timed_broadcast(first, "outage", "local only")
        assert status == 503
        assert "Redis at redis://127.0.0.1" in body["error"]
        assert "1 subscriber(s) of this process" in body["error"]
        assert took < FAIL_FAST
        assert await local.receive() == {"type": "message", "stream": stream, "data": "local only"}
        with pytest.raises(TimeoutError):
            await remote.receive(timeout=0.3)

        # The cable keeps serving: new sockets connect and subscribe as usual.
        async with await CableClient.connect(first.cable_url) as newcomer:
            assert (await newcomer.subscribe(stream))["type"] == "subscribed"
            assert first.broadcast("outage", "still local")[0] == 503
            for client in (local, newcomer):
                assert (await client.receive())["data"] == "still local"


async def test_a_hung_redis_fails_broadcasts_within_a_bounded_time(
    pair: tuple[LiveServer, LiveServer], restartable_redis: RedisServer
) -> None:
    assert restartable_redis.process is not None
    restartable_redis.process.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        status, body, took = timed_broadcast(pair[0], "nobody-listens", "lost")
    finally:
        restartable_redis.process.send_signal(signal.SIGCONT)
    assert status == 503, body
    assert took < FAIL_FAST


async def test_after_redis_restarts_cross_process_delivery_resumes_within_seconds(
    pair: tuple[LiveServer, LiveServer], restartable_redis: RedisServer
) -> None:
    first, second = pair
    before, during = signed_stream_name("before"), signed_stream_name("during")
    async with await CableClient.connect(first.cable_url) as client:
        await client.subscribe(before)
        failures = first.output().count("still unreachable")  # the module's servers
        restartable_redis.kill()
        assert (await client.subscribe(during))["type"] == "subscribed"
        assert second.broadcast("before", "lost")[0] == 503

        # The subscriber fails to reconnect a few times (its log says so at DEBUG).
        def failed_a_few_times() -> bool:
            return first.output().count("still unreachable") >= failures + 3

        assert await eventually(failed_a_few_times)
        restartable_redis.start()
        restarted = time.monotonic()

        # Every stream with local subscribers is subscribed again, however it started.
        expected = sorted(f"{PREFIX}{name}".encode() for name in ("before", "during"))
        assert await eventually(lambda: restartable_redis.channels() == expected, RESUME)
        assert time.monotonic() - restarted < RESUME
        assert second.broadcast("before", "back")[0] == 200
        assert second.broadcast("during", "back too")[0] == 200
        assert [(await client.receive())["data"] for _ in range(2)] == ["back", "back too"]

        # Failed reconnection attempts left no sockets behind.
        assert redis_connections(first, restartable_redis) <= 2
    assert await eventually(lambda: restartable_redis.channels() == [])


async def test_a_server_stops_promptly_while_redis_is_down(
    redis_server: RedisServer, restartable_redis: RedisServer
) -> None:
    with live_server("uvicorn", settings={"BACKEND": redis_server.url}) as server:
        async with await CableClient.connect(server.cable_url) as client:
            await client.subscribe(signed_stream_name("stopping"))
            restartable_redis.kill()
            started = time.monotonic()
            assert server.stop() in (0, -signal.SIGTERM), server.output()
            assert time.monotonic() - started < 5
