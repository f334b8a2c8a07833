"""``uvicorn --workers 2`` behind one port: Redis makes the two processes deliver as one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.cable_client import CableClient
from tests.redis_support import RedisServer, eventually
from tests.servers import LiveServer, live_server
from turbo_cable.streams import signed_stream_name

pytestmark = pytest.mark.redis

CLIENTS = 50


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer) -> Iterator[LiveServer]:
    with live_server(
        "uvicorn", settings={"BACKEND": redis_server.url}, extra_args=("--workers", "2")
    ) as running:
        # The port answers as soon as one worker is up; wait for the other too.
        deadline = time.monotonic() + 30
        while running.output().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, running.output()
            time.sleep(0.05)
        yield running


def sockets_per_worker(server: LiveServer) -> list[int]:
    """How many established client sockets each worker process holds."""
    counts = []
    for worker in psutil.Process(server.process.pid).children():
        connections = worker.net_connections(kind="tcp")
        counts.append(
            sum(1 for c in connections if c.status == "ESTABLISHED" and c.laddr.port == server.port)
        )
    return sorted(count for count in counts if count)


async def test_fifty_clients_spread_over_two_workers_all_receive_every_broadcast(
    workers: LiveServer,
) -> None:
    stream = signed_stream_name("everyone")
    # One at a time: a worker woken by a burst accepts the whole burst at once. On a busy
    # machine one worker may still win every accept; then trade sockets until both serve.
    clients: list[CableClient] = []
    for _ in range(CLIENTS * 3):
        if len(clients) == CLIENTS:
            if len(sockets_per_worker(workers)) == 2:
                break
            await clients.pop(0).close()
        clients.append(await CableClient.connect(workers.cable_url))
    try:
        answers = await asyncio.gather(*(client.subscribe(stream) for client in clients))
        assert {answer["type"] for answer in answers} == {"subscribed"}
        # Sockets traded away above may take a moment to leave the server.
        assert await eventually(lambda: sum(sockets_per_worker(workers)) == CLIENTS)
        spread = sockets_per_worker(workers)
        assert len(spread) == 2, f"every socket went to one worker: {spread}"

        recipients = []
        for n in range(5):  # each POST lands on either worker
            status, body = workers.broadcast("everyone", f"update {n}")
            assert status == 200
            recipients.append(body["recipients"])
        assert set(recipients) <= set(spread), (recipients, spread)

        for client in clients:
            received = [(await client.receive())["data"] for _ in range(5)]
            assert received == [f"update {n}" for n in range(5)]
    finally:
        await asyncio.gather(*(client.close() for client in clients))
