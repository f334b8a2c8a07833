"""``manage.py turbo_cable_status`` against a running cable."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command

from tests.cable_client import CableClient
from tests.redis_support import RedisServer
from tests.servers import free_port, live_server
from turbo_cable.streams import signed_stream_name


def status(**options: object) -> str:
    out = io.StringIO()
    call_command("turbo_cable_status", stdout=out, **options)
    return out.getvalue()


async def test_it_prints_the_figures_and_the_busiest_streams_of_the_cable_broadcasts_go_to(
    configure: Callable[..., None],
) -> None:
    with live_server("uvicorn") as server:
        configure(BROADCAST_URL=f"{server.http_url}/_broadcast")
        clients = [await CableClient.connect(server.cable_url) for _ in range(3)]
        try:
            for n, client in enumerate(clients):
                await client.subscribe(signed_stream_name("lobby"))
                if n:
                    await client.subscribe(signed_stream_name("room", n))
            for _ in range(4):
                await asyncio.to_thread(server.broadcast, "lobby", "<p>hi</p>")
            printed = await asyncio.to_thread(status, interval=0)
        finally:
            for client in clients:
                await client.close()
    lines = printed.splitlines()
    assert lines[0] == f"Cable at {server.http_url}/_metrics"
    assert lines[1].split() == ["connections", "3"]
    assert lines[2].split() == ["subscriptions", "5"]
    assert lines[3].split() == ["streams", "3"]
    assert lines[4].split() == ["broadcasts", "4"]
    assert lines[5].split() == ["deliveries", "12"]
    assert "Busiest streams (subscribers)" in lines
    busiest = lines[lines.index("Busiest streams (subscribers)") + 1 :]
    assert [line.split() for line in busiest] == [["lobby", "3"], ["room:1", "1"], ["room:2", "1"]]


def test_rates_come_from_two_readings_and_redis_is_shown(
    redis_server: RedisServer,
) -> None:
    with live_server("uvicorn", settings={"BACKEND": redis_server.url}) as server:
        printed = status(url=f"{server.http_url}/_metrics", interval=0.2)
    assert "(0.0/s)" in printed
    assert [line.split()[:2] for line in printed.splitlines() if "redis" in line] == [
        ["redis", "connected"]
    ]


def test_it_says_when_no_cable_answers_or_metrics_are_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}/_metrics"
    with pytest.raises(CommandError, match=r"no cable answers at .*; is it running\?"):
        status(url=url)
    with (
        live_server("uvicorn", settings={"METRICS_PATH": None}) as server,
        pytest.raises(CommandError, match=r"/_metrics answered 404"),
    ):
        status(url=f"{server.http_url}/_metrics", interval=0)
