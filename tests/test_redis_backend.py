"""The Redis backend from a process without a cable, its message format, and its checks."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from tests.redis_support import RedisServer
from tests.servers import free_port
from turbo_cable.backends import BackendUnavailable, get_backend, relay_publisher
from turbo_cable.backends.redis import RedisBackend
from turbo_cable.backends.redis_history import Scripts, decode_envelope
from turbo_cable.broadcast import broadcast_json
from turbo_cable.checks import check_redis_backend
from turbo_cable.conf import CableSettings

pytestmark = pytest.mark.redis


@pytest.fixture
def listener(redis_server: RedisServer) -> Iterator[redis.client.PubSub]:
    """A plain Redis client listening to every channel, as another process would."""
    with redis_server.client() as client, client.pubsub() as pubsub:
        pubsub.psubscribe("*")
        assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
        yield pubsub


def next_message(pubsub: redis.client.PubSub) -> dict[str, Any]:
    message = pubsub.get_message(timeout=5)
    assert message is not None, "nothing was published"
    return message


def test_a_sync_broadcast_is_published_once_as_json_on_the_prefixed_channel(
    configure: Callable[..., None], redis_server: RedisServer, listener: redis.client.PubSub
) -> None:
    configure(BACKEND=redis_server.url, REDIS_PREFIX="shop:")
    publisher = relay_publisher()
    assert publisher is not None
    assert publisher.publish_sync("room:é", {"n": 1}) == 0  # no socket in this process
    message = next_message(listener)
    assert message["channel"] == "shop:room:é".encode()
    published = json.loads(message["data"])
    assert {key: published[key] for key in ("stream", "data")} == {
        "stream": "room:é",
        "data": {"n": 1},
    }
    assert published["offset"] == 1
    assert listener.get_message(timeout=0.2) is None


def test_a_broadcast_over_max_broadcast_size_is_refused_before_redis(
    configure: Callable[..., None],
    redis_server: RedisServer,
    listener: redis.client.PubSub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same limit as the endpoint's, though Redis would take it."""
    configure(BACKEND=redis_server.url, MAX_BROADCAST_SIZE=100)
    assert broadcast_json("big", "x" * 200) is False
    assert "body is larger than 100 bytes" in caplog.text
    assert broadcast_json("small", "x") is True
    assert json.loads(next_message(listener)["data"])["stream"] == "small"


def test_apps_with_different_prefixes_share_one_redis_apart(
    configure: Callable[..., None], redis_server: RedisServer, listener: redis.client.PubSub
) -> None:
    channels = []
    for prefix in ("one:", "two:"):
        configure(BACKEND=redis_server.url, REDIS_PREFIX=prefix)
        relay_publisher().publish_sync("news", "<p>hi</p>")  # type: ignore[union-attr]
        channels.append(next_message(listener)["channel"])
    assert channels == [b"one:news", b"two:news"]


async def test_an_async_broadcast_from_a_loop_without_a_cable_is_published(
    configure: Callable[..., None], redis_server: RedisServer, listener: redis.client.PubSub
) -> None:
    configure(BACKEND=redis_server.url)
    publisher = relay_publisher()
    assert publisher is not None
    assert await publisher.publish("jobs", "done") == 0
    published = json.loads(next_message(listener)["data"])
    assert (published["stream"], published["data"], published["offset"]) == ("jobs", "done", 1)


def test_a_sync_broadcast_fails_fast_without_leaking_the_password(
    configure: Callable[..., None],
) -> None:
    port = free_port()  # nothing listens there
    configure(BACKEND=f"redis://:hunter2@127.0.0.1:{port}/0")
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as failure:
        relay_publisher().publish_sync("jobs", "lost")  # type: ignore[union-attr]
    assert time.monotonic() - started < 1.5
    assert f"Redis at redis://127.0.0.1:{port}/0 did not take the broadcast" in str(failure.value)
    assert "hunter2" not in str(failure.value)


def test_a_sync_broadcast_to_a_hung_redis_fails_within_a_bounded_time(
    configure: Callable[..., None], redis_server: RedisServer
) -> None:
    configure(BACKEND=redis_server.url)
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        started = time.monotonic()
        with pytest.raises(BackendUnavailable):
            relay_publisher().publish_sync("jobs", "lost")  # type: ignore[union-attr]
        assert time.monotonic() - started < 1.5
    finally:
        redis_server.process.send_signal(signal.SIGCONT)


def test_the_memory_backend_has_no_relay_publisher(configure: Callable[..., None]) -> None:
    configure()
    assert relay_publisher() is None


@pytest.mark.parametrize(
    "stream", ["plain", "漢字 🚀", "lone \ud800 surrogate", "x" * 10_000, "*?[glob]"]
)
def test_any_stream_name_survives_the_trip_through_redis(
    stream: str, redis_server: RedisServer, listener: redis.client.PubSub
) -> None:
    """Through the real publish script: what it writes is what every process decodes."""
    data = {"html": "<p>é</p>", "n": [1, None]}
    history = RedisBackend(CableSettings(BACKEND=redis_server.url, REDIS_PREFIX="trip:")).history
    with redis_server.client() as client:
        keys, args = history.keys(stream), history.publish_args(stream, data, b"trip:channel")
        Scripts.on(client).publish(keys, args)
    message = listener.get_message(timeout=5)
    assert message is not None
    received_stream, received_data, position = decode_envelope(message["data"])
    assert (received_stream, received_data) == (stream, data)
    assert position is not None
    assert position.offset == 1


@pytest.mark.parametrize(
    "message", [b"not json", b"[]", b'{"data": 1}', b'{"stream": 1, "data": 1}', b'{"stream": "s"}']
)
def test_a_foreign_message_on_our_channel_is_refused(message: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (any ValueError: the message is ignored)
        decode_envelope(message)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://127.0.0.1:notaport/0", "Port could not be cast to integer"),
        ("redis://127.0.0.1:6379/cache", "the database 'cache' is not a number"),
        ("redis://127.0.0.1:6379/0?db=x", "Invalid value for 'db'"),
        ("unix://", "it names no socket path"),
    ],
)
def test_a_redis_url_that_cannot_work_is_a_check_error(
    configure: Callable[..., None], url: str, problem: str
) -> None:
    configure(BACKEND=url)
    [error] = check_redis_backend()
    assert error.id == "turbo_cable.E004"
    assert problem in error.msg


def test_the_check_names_the_url_without_its_password(configure: Callable[..., None]) -> None:
    configure(BACKEND="redis://user:hunter2@127.0.0.1:6379/cache")
    [error] = check_redis_backend()
    assert "'redis://127.0.0.1:6379/cache'" in error.msg
    assert "hunter2" not in error.msg


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://:pw@cache.example:6380/2", "unix:///run/r.sock"]
)
def test_a_usable_redis_url_passes_the_check(configure: Callable[..., None], url: str) -> None:
    configure(BACKEND=url)
    assert check_redis_backend() == []


def test_an_empty_prefix_is_a_check_warning(configure: Callable[..., None]) -> None:
    configure(BACKEND="redis://127.0.0.1:6379/0", REDIS_PREFIX="")
    [warning] = check_redis_backend()
    assert warning.id == "turbo_cable.W003"


async def test_sync_code_on_the_cables_loop_queues_the_broadcast_and_logs_its_failure(
    configure: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """It cannot wait for its own loop: ``True`` means queued, and a failure is still
    logged as on every other route."""
    configure(BACKEND=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    backend = get_backend()
    await backend.start()
    try:
        assert broadcast_json("queued", {"n": 1}) is True
        for _ in range(100):
            if "broadcast to stream 'queued' failed" in caplog.text:
                break
            await asyncio.sleep(0.05)
        expected = (
            "broadcast to stream 'queued' failed: BackendUnavailable: Redis at redis://127.0.0.1:"
        )
        assert expected in caplog.text
    finally:
        await backend.stop()
