"""``GET /_metrics``: Prometheus figures that move when the cable does something."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.asgi_client import in_process_cable
from tests.cable_client import CableClient
from tests.redis_support import RedisServer, eventually
from tests.servers import SERVERS, LiveServer, live_server
from tests.test_cable_slow_consumer import stalled_reader
from turbo_cable.streams import signed_stream_name

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(body: bytes) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def scrape(server: LiveServer, path: str = "/_metrics") -> Samples:
    status, body = server.request("GET", path)
    assert status == 200, body
    return parse(body)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((f"turbo_cable_{name}", tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_server(request.param) as running:
        yield running


async def test_figures_move_when_sockets_subscribe_and_broadcasts_are_delivered(
    server: LiveServer,
) -> None:
    before = await asyncio.to_thread(scrape, server)
    clients = [await CableClient.connect(server.cable_url) for _ in range(3)]
    try:
        for client in clients:
            await client.subscribe(signed_stream_name("metrics:news"))
        await clients[0].subscribe(signed_stream_name("metrics:quiet"))
        await clients[0].send({"type": "subscribe", "stream": "metrics:forged"})
        assert (await clients[0].receive())["type"] == "reject"
        await asyncio.to_thread(server.broadcast, "metrics:news", "<p>héllo</p>")
        received = [await client.receive() for client in clients]
        assert {message["data"] for message in received} == {"<p>héllo</p>"}
        during = await asyncio.to_thread(scrape, server)
    finally:
        for client in clients:
            await client.close()
    # The frame as sent: the client's copy re-encoded, positions included.
    frame = json.dumps(received[0], ensure_ascii=False, separators=(",", ":"))

    def moved(name: str, **labels: str) -> float:
        return value(during, name, **labels) - value(before, name, **labels)

    assert moved("connections") == 3
    assert moved("subscriptions") == 4
    assert moved("streams") == 2
    assert value(during, "stream_subscribers", stream="metrics:news") == 3
    assert value(during, "stream_subscribers", stream="metrics:quiet") == 1
    assert moved("broadcasts_total") == 1
    assert moved("deliveries_total") == 3
    assert moved("sent_bytes_total") == 3 * len(frame.encode())
    assert moved("rejected_subscriptions_total", reason="invalid stream signature") == 1
    assert moved("fan_out_seconds_count") == 1
    assert moved("fan_out_seconds_bucket", le="+Inf") == 1
    assert value(during, "redis_connected") == 0  # memory: no such figure
    assert "process_cpu_seconds_total" in {name for name, _ in during}


def test_only_loopback_get_requests_without_a_page_or_proxy_may_read_them(
    server: LiveServer,
) -> None:
    def refused(method: str, **headers: str) -> tuple[int, object]:
        status, body = server.request(method, "/_metrics", headers=headers)
        return status, json.loads(body)

    assert refused("POST") == (405, {"error": "only GET is allowed"})
    page = {"error": "requests from web pages (with an Origin header) are refused"}
    assert refused("GET", Origin=server.http_url) == (403, page)
    # uvicorn takes the forwarded address as the client's; daphne keeps the proxy's.
    assert refused("GET", **{"X-Forwarded-For": "203.0.113.9"}) in [
        (403, {"error": "metrics can be read from loopback or with the token only"}),
        (403, {"error": "a request with forwarding headers (from a proxy) needs BROADCAST_TOKEN"}),
    ]


async def test_with_a_token_a_proxied_scraper_gets_in() -> None:
    async with in_process_cable(BROADCAST_TOKEN="s3cret") as cable:
        remote = ("203.0.113.9", 40000)
        assert (await cable.request("GET", "/_metrics", client=remote))[0] == 403
        token = {"Authorization": "Bearer s3cret"}
        status, body = await cable.request("GET", "/_metrics", headers=token, client=remote)
        assert status == 200
        assert value(parse(body), "connections") == 0


def test_without_prometheus_client_it_says_what_to_install(tmp_path: Path) -> None:
    hidden = tmp_path / "prometheus_client"
    hidden.mkdir()
    (hidden / "__init__.py").write_text("raise ImportError('not installed here')\n")
    with live_server("uvicorn", env={"PYTHONPATH": str(tmp_path)}) as server:
        status, body = server.request("GET", "/_metrics")
        assert (status, json.loads(body)) == (
            501,
            {"error": "metrics need prometheus-client: pip install 'django-turbo-cable[metrics]'"},
        )
        assert server.broadcast("news", "still serving")[0] == 200


async def test_the_path_is_a_setting_and_none_turns_metrics_off() -> None:
    async with in_process_cable(METRICS_PATH=None) as cable:
        assert (await cable.request("GET", "/_metrics"))[0] == 404  # Django's, as any other path
    async with in_process_cable(METRICS_PATH="/ops/metrics") as cable:
        status, body = await cable.request("GET", "/ops/metrics")
        assert status == 200
        assert value(parse(body), "connections") == 0


async def test_with_redis_its_link_and_reconnections_are_shown(redis_server: RedisServer) -> None:
    with live_server("uvicorn", settings={"BACKEND": redis_server.url}) as server:
        async with await CableClient.connect(server.cable_url) as client:
            await client.subscribe(signed_stream_name("metrics:relayed"))
            samples = await asyncio.to_thread(scrape, server)
            assert value(samples, "redis_connected") == 1
            assert value(samples, "redis_reconnects_total") == 0
            redis_server.kill()
            redis_server.start()

            def reconnected() -> bool:
                samples = scrape(server)
                return (
                    value(samples, "redis_reconnects_total") == 1
                    and value(samples, "redis_connected") == 1
                )

            assert await eventually(lambda: reconnected(), timeout=15)


async def test_replays_resyncs_and_dropped_slow_sockets_are_counted() -> None:
    with live_server("uvicorn", settings={"SEND_QUEUE_SIZE": 4, "HISTORY_SIZE": 5}) as server:
        wire = signed_stream_name("metrics:missed")
        async with await CableClient.connect(server.cable_url) as client:
            subscribed = await client.subscribe(wire)
        position = {"epoch": subscribed["epoch"], "offset": subscribed["offset"]}
        for n in range(3):
            await asyncio.to_thread(server.broadcast, "metrics:missed", n)
        async with await CableClient.connect(server.cable_url) as client:
            await client.send({"type": "subscribe", "stream": wire, **position})
            frames = [await client.receive() for _ in range(4)]
            assert [frame["type"] for frame in frames] == ["subscribed", *["message"] * 3]
        for n in range(6):  # more than the window of 5 holds
            await asyncio.to_thread(server.broadcast, "metrics:missed", n)
        async with await CableClient.connect(server.cable_url) as client:
            await client.send({"type": "subscribe", "stream": wire, **position})
            assert [(await client.receive())["type"] for _ in range(2)] == ["subscribed", "resync"]
        flood = signed_stream_name("metrics:flood")
        stalled = await asyncio.to_thread(stalled_reader, server, flood)
        try:
            dropped = 0.0
            for _ in range(40):
                await asyncio.to_thread(server.broadcast, "metrics:flood", "x" * 256 * 1024)
                dropped = value(
                    await asyncio.to_thread(scrape, server), "dropped_slow_connections_total"
                )
                if dropped:
                    break
        finally:
            stalled.close()
        samples = await asyncio.to_thread(scrape, server)
    assert value(samples, "replayed_messages_total") == 3
    assert value(samples, "resyncs_total") == 1
    assert dropped == 1
    assert "dropping slow connection" in server.output()


async def test_the_standalone_cable_server_answers_them_too() -> None:
    with live_server("runcable") as cable:
        async with await CableClient.connect(cable.cable_url) as client:
            await client.subscribe(signed_stream_name("metrics:standalone"))
            await asyncio.to_thread(cable.broadcast, "metrics:standalone", "<p>hi</p>")
            await client.receive()
            samples = await asyncio.to_thread(scrape, cable)
    assert value(samples, "connections") == 1
    assert value(samples, "stream_subscribers", stream="metrics:standalone") == 1
    assert value(samples, "deliveries_total") == 1
