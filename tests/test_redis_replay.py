"""Replay with Redis: any process gives a returning client what it missed on any other."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest

from tests.cable_client import CableClient
from tests.redis_support import PREFIX, RedisServer, eventually
from tests.servers import LiveServer, free_port, live_server
from turbo_cable.backends import relay_publisher, stream_position
from turbo_cable.history import BEFORE_HISTORY, Position
from turbo_cable.hub import Hub
from turbo_cable.streams import signed_stream_name

pytestmark = pytest.mark.redis

WINDOW = 5


@pytest.fixture(scope="module")
def pair(redis_server: RedisServer) -> Iterator[tuple[LiveServer, LiveServer]]:
    settings = {"BACKEND": redis_server.url, "HISTORY_SIZE": WINDOW}
    with (
        live_server("uvicorn", settings=settings) as first,
        live_server("uvicorn", settings=settings) as second,
    ):
        yield first, second


async def subscribe_from(
    server: LiveServer, name: str, position: dict[str, Any] | None = None
) -> tuple[CableClient, dict[str, Any]]:
    client = await CableClient.connect(server.cable_url)
    await client.send({"type": "subscribe", "stream": signed_stream_name(name), **(position or {})})
    return client, await client.receive()


def where(frame: dict[str, Any]) -> dict[str, Any]:
    return {"epoch": frame["epoch"], "offset": frame["offset"]}


def broadcast(server: LiveServer, stream: str, data: object) -> None:
    assert server.broadcast(stream, data)[0] == 200, server.output()


async def test_a_client_gets_on_one_server_what_it_missed_while_broadcasts_went_to_another(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    client, subscribed = await subscribe_from(first, "travelling")
    async with client:
        broadcast(second, "travelling", "seen")
        seen = await client.receive()
    assert where(seen) == {"epoch": subscribed["epoch"], "offset": subscribed["offset"] + 1}
    for n in range(3):
        broadcast(second, "travelling", f"missed {n}")
    client, again = await subscribe_from(second, "travelling", where(seen))
    async with client:
        assert (again["type"], again["epoch"]) == ("subscribed", seen["epoch"])
        replayed = [await client.receive() for _ in range(3)]
        broadcast(first, "travelling", "live")
        live = await client.receive()
        # Each exactly once: a copy would come before what the same path carries next.
        broadcast(first, "travelling", "end")
        assert (await client.receive())["data"] == "end"
    assert [m["data"] for m in [*replayed, live]] == ["missed 0", "missed 1", "missed 2", "live"]
    start = seen["offset"]
    assert [m["offset"] for m in [*replayed, live]] == [start + 1, start + 2, start + 3, start + 4]
    assert {m["epoch"] for m in [*replayed, live]} == {seen["epoch"]}


async def test_a_gap_beyond_the_history_window_asks_the_client_to_resync(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    client, subscribed = await subscribe_from(first, "flooded")
    await client.close()
    for n in range(WINDOW + 1):
        broadcast(second, "flooded", n)
    client, again = await subscribe_from(first, "flooded", where(subscribed))
    async with client:
        resync = await client.receive()
        await client.barrier()  # nothing replayed: the subscribe was answered in full
    assert where(again) == {"epoch": subscribed["epoch"], "offset": WINDOW + 1}
    assert resync == {
        "type": "resync",
        "stream": signed_stream_name("flooded"),
        **where(again),
    }


async def test_a_gap_exactly_the_window_wide_is_still_replayed(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    client, subscribed = await subscribe_from(first, "brim")
    await client.close()
    for n in range(WINDOW):
        broadcast(second, "brim", n)
    client, _again = await subscribe_from(first, "brim", where(subscribed))
    async with client:
        assert [(await client.receive())["data"] for _ in range(WINDOW)] == list(range(WINDOW))


async def test_broadcasts_racing_a_replay_keep_order_without_duplicates(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    client, subscribed = await subscribe_from(first, "racing")
    await client.close()
    broadcast(second, "racing", "before 1")
    broadcast(second, "racing", "before 2")
    total = 40

    def keep_broadcasting() -> None:
        for n in range(total):
            broadcast(second if n % 2 else first, "racing", f"during {n}")

    racer = threading.Thread(target=keep_broadcasting)
    racer.start()
    try:
        client, _again = await subscribe_from(second, "racing", where(subscribed))
        async with client:
            frames = []
            while not frames or frames[-1]["offset"] < total + 2:
                frames.append(await client.receive())
    finally:
        await asyncio.to_thread(racer.join)
    assert [frame["offset"] for frame in frames] == list(range(1, total + 3))
    assert [frame["data"] for frame in frames[:2]] == ["before 1", "before 2"]


async def test_a_page_rendered_in_a_process_without_a_cable_gets_what_followed_it_replayed(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    first, second = pair
    configure(BACKEND=redis_server.url, HISTORY_SIZE=WINDOW)
    rendered = stream_position("rendered")  # before the stream's first broadcast
    assert rendered == BEFORE_HISTORY
    broadcast(second, "rendered", "between render and subscribe")
    client, subscribed = await subscribe_from(first, "rendered", rendered.as_dict())
    async with client:
        assert subscribed["epoch"]
        assert subscribed["offset"] == 1
        replayed = await client.receive()
    assert (replayed["data"], replayed["offset"]) == ("between render and subscribe", 1)
    assert replayed["epoch"] == subscribed["epoch"]
    assert stream_position("rendered") == Position(subscribed["epoch"], 1)


def test_rendering_a_position_only_reads_redis(
    redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    configure(BACKEND=redis_server.url, REDIS_PREFIX="render:", HISTORY_TTL=60)
    relay = relay_publisher()
    assert relay is not None
    assert [stream_position("never broadcast") for _ in range(3)] == [BEFORE_HISTORY] * 3
    relay.publish_sync("broadcast", "x")
    with redis_server.client() as client:
        client.pexpire(b"render:{broadcast}:position", 5_000)
        assert stream_position("broadcast") == Position(
            client.hget(b"render:{broadcast}:position", "epoch").decode(), 1
        )
        assert client.keys("render:*never*") == []  # no epoch was started for a page
        assert client.pttl(b"render:{broadcast}:position") <= 5_000  # nor an expiry pushed back


async def test_expired_history_starts_a_new_epoch_and_old_positions_resync(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    configure(BACKEND=redis_server.url, HISTORY_SIZE=WINDOW, HISTORY_TTL=0.3)
    relay = relay_publisher()
    assert relay is not None
    relay.publish_sync("expiring", "old")
    old = stream_position("expiring")
    assert old is not None
    assert old.offset == 1
    with redis_server.client() as client:
        assert await eventually(lambda: not client.keys(f"{PREFIX}{{expiring}}*"))
    relay.publish_sync("expiring", "new")
    client, again = await subscribe_from(pair[0], "expiring", old.as_dict())
    async with client:
        resync = await client.receive()
    assert again["epoch"] != old.epoch
    assert again["offset"] == 1
    assert resync == {"type": "resync", "stream": signed_stream_name("expiring"), **where(again)}


def test_a_page_reads_where_the_stream_stood_when_its_request_began_by_redis_clock(
    redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    """Only the request's age crosses to Redis, which dates its kept messages itself."""
    configure(BACKEND=redis_server.url, REDIS_PREFIX="aged:", HISTORY_SIZE=30)
    relay = relay_publisher()
    assert relay is not None
    for n in range(20):
        relay.publish_sync("aged", f"m{n}")  # more than one batch of the script's walk
    time.sleep(0.3)
    relay.publish_sync("aged", "after")
    epoch = cast(Position, stream_position("aged")).epoch
    assert stream_position("aged") == Position(epoch, 21)
    assert stream_position("aged", since=time.monotonic() - 0.15) == Position(epoch, 20)
    assert stream_position("aged", since=time.monotonic() - 60) == Position(epoch, 0)


def test_a_page_older_than_every_kept_message_in_redis_replays_all_that_is_kept(
    redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    configure(BACKEND=redis_server.url, REDIS_PREFIX="trimmed:", HISTORY_SIZE=2)
    relay = relay_publisher()
    assert relay is not None
    for n in range(3):
        relay.publish_sync("trimmed", f"m{n}")
    position = cast(Position, stream_position("trimmed", since=time.monotonic() - 60))
    assert position.offset == 1  # m1 and m2 are kept, m0 was trimmed


def test_every_key_the_history_writes_expires(
    redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    configure(BACKEND=redis_server.url, REDIS_PREFIX="ttl:", HISTORY_TTL=60)
    relay = relay_publisher()
    assert relay is not None
    for name in ("room:é✓ 漢字 🚀", "glob*?[x]{y}", "long:" + "x" * 700):
        relay.publish_sync(name, "<p>hi</p>")
        position = stream_position(name)
        assert position is not None
        assert position.offset == 1
    with redis_server.client() as client:
        keys = client.keys("ttl:*")
        assert len(keys) == 6  # a position and a log per stream
        assert all(0 < client.pttl(key) <= 60_000 for key in keys)


def test_with_history_size_zero_positions_still_grow_and_no_message_is_kept(
    redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    configure(BACKEND=redis_server.url, REDIS_PREFIX="bare:", HISTORY_SIZE=0)
    relay = relay_publisher()
    assert relay is not None
    for _ in range(3):
        relay.publish_sync("bare", "x")
    position = stream_position("bare")
    assert position is not None
    assert position.offset == 3
    with redis_server.client() as client:
        assert client.keys("bare:*") == [b"bare:{bare}:position"]


def test_without_a_cable_the_memory_backend_knows_no_position(
    configure: Callable[..., None],
) -> None:
    configure()
    assert stream_position("anything") is None


def test_a_page_renders_without_a_position_promptly_when_redis_is_unreachable(
    configure: Callable[..., None],
) -> None:
    configure(BACKEND=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    assert stream_position("page") is None
    assert time.monotonic() - started < 1.5
    started = time.monotonic()
    assert [stream_position(f"tag {n}") for n in range(5)] == [None] * 5
    assert time.monotonic() - started < 0.1  # the next tags do not wait again


# -- the seam in the hub: live broadcasts held back while a replay is read ---------------
class Inbox:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def deliver(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def test_a_held_subscriber_gets_only_what_the_replay_did_not_cover_once_released() -> None:
    hub, held, other = Hub(), Inbox(), Inbox()
    hub.add("s", "w", held)
    hub.add("s", "w", other)
    hub.hold("w", held)
    for offset in (4, 5, 6):
        hub.deliver("s", offset, epoch="e", offset=offset)
    hub.deliver("s", "from another epoch", epoch="f", offset=1)
    assert (len(held.events), len(other.events)) == (0, 4)
    hub.release("w", held, Position("e", 5))
    assert [event["text"] for event in held.events] == [e["text"] for e in other.events[2:]]
    hub.deliver("s", 7, epoch="e", offset=7)
    assert held.events[-1] is other.events[-1]


def test_a_held_subscriber_that_leaves_is_forgotten() -> None:
    hub, held = Hub(), Inbox()
    hub.add("s", "w", held)
    hub.hold("w", held)
    hub.deliver("s", 1, epoch="e", offset=1)
    assert hub.discard("s", "w", held)
    assert not hub.holds("w", held)
    hub.release("w", held, None)
    assert held.events == []
