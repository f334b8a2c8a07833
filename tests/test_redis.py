"""Two uvicorn servers sharing one real redis-server: every broadcast reaches both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.cable_client import CableClient, contract
from tests.redis_support import PREFIX, RedisServer, eventually, two_processes
from tests.servers import ROOT, LiveServer
from tests.test_broadcast_full_path import migrated_database, post_form
from turbo_cable.streams import signed_stream_name

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def pair(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {"TURBO_CABLE_TEST_DB": migrated_database(tmp_path_factory.mktemp("redis-pair"))}
    with two_processes(redis_server, env=env) as processes:
        yield processes


def publish_from_a_script(redis_server: RedisServer, stream: str, data: object) -> str:
    """``turbo_cable.broadcast`` in a separate process with no server and no cable."""
    script = (
        "import django; django.setup()\n"
        "from turbo_cable.broadcast import broadcast_json\n"
        f"print(broadcast_json({stream!r}, {data!r}))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TURBO_CABLE_TEST_SETTINGS": json.dumps({"BACKEND": redis_server.url}),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=30
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().strip()


async def test_a_client_on_one_server_receives_a_broadcast_posted_to_the_other(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    stream = signed_stream_name("across")
    async with await CableClient.connect(first.cable_url) as client:
        assert (await client.subscribe(stream))["type"] == "subscribed"
        # The server that took the POST counts only its own sockets.
        assert second.broadcast("across", "<turbo-stream>hi</turbo-stream>") == (
            200,
            {"recipients": 0},
        )
        assert contract(await client.receive()) == {
            "type": "message",
            "stream": stream,
            "data": "<turbo-stream>hi</turbo-stream>",
        }


async def test_a_broadcast_from_a_process_without_a_cable_reaches_both_servers(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer
) -> None:
    stream = signed_stream_name("from-a-worker")
    async with (
        await CableClient.connect(pair[0].cable_url) as on_first,
        await CableClient.connect(pair[1].cable_url) as on_second,
    ):
        await on_first.subscribe(stream)
        await on_second.subscribe(stream)
        assert publish_from_a_script(redis_server, "from-a-worker", {"done": 3}) == "True"
        for client in (on_first, on_second):
            assert contract(await client.receive()) == {
                "type": "message",
                "stream": stream,
                "data": {"done": 3},
            }


async def test_a_model_saved_in_a_sync_view_on_one_server_updates_sockets_on_both(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    stream = signed_stream_name("comments")
    async with (
        await CableClient.connect(first.cable_url) as on_first,
        await CableClient.connect(second.cable_url) as on_second,
    ):
        await on_first.subscribe(stream)
        await on_second.subscribe(stream)
        status, _ = post_form(second, "/testapp/comments/", {"body": "shared"})
        assert status == 201, second.output()
        for client in (on_first, on_second):
            assert (await client.receive())["data"] == (
                '<turbo-stream action="append" target="comments">'
                "<template><li>shared</li></template></turbo-stream>"
            )


async def test_an_async_view_on_one_server_broadcasts_to_sockets_on_the_other(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    first, second = pair
    async with await CableClient.connect(first.cable_url) as client:
        await client.subscribe(signed_stream_name("announcements"))
        status, body = second.request("GET", "/testapp/announce/?text=tea")
        assert (status, json.loads(body)) == (200, {"delivered": True}), second.output()
        assert (await client.receive())["data"] == {"text": "tea"}


async def test_the_publishing_server_delivers_to_its_own_clients_through_redis_too(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer
) -> None:
    first, second = pair
    stream = signed_stream_name("both-sides")
    async with (
        await CableClient.connect(first.cable_url) as local,
        await CableClient.connect(second.cable_url) as remote,
    ):
        await local.subscribe(stream)
        await remote.subscribe(stream)
        assert redis_server.subscriber_count(f"{PREFIX}both-sides") == 2
        assert first.broadcast("both-sides", "one") == (200, {"recipients": 1})
        assert first.broadcast("both-sides", "two") == (200, {"recipients": 1})
        for client in (local, remote):
            assert [(await client.receive())["data"] for _ in range(2)] == ["one", "two"]
        # Exactly once each: a second copy would come before what Redis carries next.
        assert first.broadcast("both-sides", "end") == (200, {"recipients": 1})
        assert (await local.receive())["data"] == "end"


@pytest.mark.parametrize(
    "name",
    [
        "room:é✓ 漢字 🚀",
        "glob*?[chars]\\ and spaces\nnewline",
        "long:" + "x" * 700,
    ],
    ids=["unicode", "glob-characters", "long"],
)
async def test_stream_names_of_any_characters_and_length_cross_processes(
    pair: tuple[LiveServer, LiveServer], name: str
) -> None:
    wire = signed_stream_name(name)
    async with await CableClient.connect(pair[0].cable_url) as client:
        assert (await client.subscribe(wire))["type"] == "subscribed"
        assert pair[1].broadcast(name, "odd name")[0] == 200
        assert contract(await client.receive()) == {
            "type": "message",
            "stream": wire,
            "data": "odd name",
        }


async def test_leaving_and_joining_again_at_once_keeps_the_stream_heard(
    pair: tuple[LiveServer, LiveServer],
) -> None:
    stream = signed_stream_name("flapping")
    async with await CableClient.connect(pair[0].cable_url) as client:
        for _ in range(20):
            await client.send({"type": "subscribe", "stream": stream})
            await client.send({"type": "unsubscribe", "stream": stream})
        await client.send({"type": "subscribe", "stream": stream})
        answers = [await client.receive() for _ in range(21)]
        assert {answer["type"] for answer in answers} == {"subscribed"}
        pair[1].broadcast("flapping", "still here")
        assert (await client.receive())["data"] == "still here"


async def test_no_redis_subscription_is_left_once_every_client_has_left(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer
) -> None:
    streams = [f"leaving-{n}" for n in range(5)]
    clients = [await CableClient.connect(server.cable_url) for server in pair for _ in range(3)]
    for client in clients:
        for stream in streams:
            await client.subscribe(signed_stream_name(stream))
    expected = sorted(f"{PREFIX}{stream}".encode() for stream in streams)
    assert [c for c in redis_server.channels() if c.startswith(b"turbo_cable:leaving")] == expected
    # One Redis subscription per process and stream, however many sockets listen.
    assert redis_server.subscriber_count(f"{PREFIX}leaving-0") == 2
    await clients[0].unsubscribe(signed_stream_name("leaving-0"))
    for client in clients:
        await client.close()
    assert await eventually(lambda: redis_server.channels() == []), redis_server.channels()


def test_each_server_says_at_start_up_that_it_relays_through_redis(
    pair: tuple[LiveServer, LiveServer], redis_server: RedisServer
) -> None:
    for server in pair:
        assert f"relays broadcasts through Redis at {redis_server.url}" in server.output()
