"""What one client can make the server hold, and for how long.

Each test plays a client that misbehaves on purpose (stops reading, floods pings,
announces a huge frame, opens sockets without end) against a real server, and
measures the server process itself: its resident memory and the sockets it holds.
uvicorn runs as README.rst recommends, with ``turbo_cable.uvicorn_protocol``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator

import psutil
import pytest
from websockets.exceptions import ConnectionClosed

from tests.cable_client import CableClient
from tests.raw_websocket import PING, RawWebSocket, encode_frame, frame_header
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

MiB = 1024 * 1024
MEGABYTE_OF_HTML = "x" * 1_000_000  # fits MAX_BROADCAST_SIZE (1 MiB) with its envelope


def held_sockets(server: LiveServer) -> int:
    """TCP connections the server process holds on its port, in any state."""
    connections = psutil.Process(server.process.pid).net_connections(kind="tcp")
    return sum(
        1
        for connection in connections
        if connection.laddr and connection.laddr.port == server.port
        and connection.status != psutil.CONN_LISTEN
    )  # fmt: skip


def rss(server: LiveServer) -> int:
    return int(psutil.Process(server.process.pid).memory_info().rss)


def wait_until(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``condition`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"still not true after {timeout}s"
        time.sleep(0.1)
    return time.monotonic() - started


def stalled_reader(server: LiveServer, stream: str) -> RawWebSocket:
    """Subscribes, then never reads again, with the smallest receive buffer."""
    raw = RawWebSocket(server.port, receive_buffer=1024)
    raw.send_frame(json.dumps({"type": "subscribe", "stream": signed_stream_name(stream)}).encode())
    return raw


def subscribed(server: LiveServer, stream: str, count: int) -> None:
    """Waits until ``count`` sockets of the server listen to ``stream``."""
    wait_until(lambda: server.broadcast(stream, "")[1]["recipients"] == count, timeout=10)


@pytest.fixture(scope="module", params=["uvicorn", "runcable"])
def bounded_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The two servers whose own code bounds a client: uvicorn with the cable's protocol
    class, and ``runcable``'s builtin server."""
    with live_server(request.param) as running:
        yield running


def test_slow_readers_are_dropped_within_a_few_megabytes_and_their_sockets_released(
    bounded_server: LiveServer,
) -> None:
    server, readers = bounded_server, 20
    baseline_sockets, baseline_rss = held_sockets(server), rss(server)
    stalled = [stalled_reader(server, "big") for _ in range(readers)]
    try:
        subscribed(server, "big", readers)
        sent = peak = 0
        while server.broadcast("big", MEGABYTE_OF_HTML)[1]["recipients"]:
            sent += 1
            peak = max(peak, rss(server) - baseline_rss)
            assert sent < 40, "the slow readers were never dropped"
        # The queue holds at most SEND_QUEUE_BYTES (4 MiB) beyond what the kernel and
        # the transport buffer; 256 frames of 1 MB each before it was bounded in bytes.
        assert sent <= 16
        assert peak < 64 * MiB
        released_after = wait_until(lambda: held_sockets(server) <= baseline_sockets, 10)
    finally:
        for raw in stalled:
            raw.close()
    assert released_after < 10
    assert "dropping slow connection" in server.output()


@pytest.fixture(scope="module", params=[*SERVERS, "runcable"])
def impatient_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live_server(request.param, settings={"PING_INTERVAL": 0.5, "IDLE_TIMEOUT": 1.0}) as s:
        yield s


def test_a_silent_socket_that_does_not_read_is_released_after_the_idle_timeout(
    impatient_server: LiveServer,
) -> None:
    server = impatient_server
    baseline = held_sockets(server)
    raw = stalled_reader(server, "quiet")
    try:
        subscribed(server, "quiet", 1)
        # Fill what it does not read, so that even the close frame cannot get through.
        for _ in range(6):
            server.broadcast("quiet", MEGABYTE_OF_HTML)
        # IDLE_TIMEOUT + a ping interval + the 5 s a closing peer gets, at most.
        released_after = wait_until(lambda: held_sockets(server) <= baseline, 10)
    finally:
        raw.close()
    assert released_after < 10


def test_pings_from_a_client_that_never_reads_do_not_grow_the_server(
    bounded_server: LiveServer,
) -> None:
    server = bounded_server
    baseline = rss(server)
    raw = RawWebSocket(server.port, receive_buffer=1024)
    pings = encode_frame(b"p" * 125, PING) * 200  # the largest control frames
    raw.sock.settimeout(0.2)
    sent, deadline = 0, time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            try:
                raw.sock.sendall(pings)
                sent += len(pings)
            except TimeoutError:
                continue  # the server stopped reading: the point of the test
    finally:
        raw.close()
    growth = rss(server) - baseline
    # One pong queued per ping grew the process by hundreds of MiB in seconds.
    assert growth < 16 * MiB, f"{growth / MiB:.0f} MiB after {sent / MiB:.0f} MiB of pings"


def test_a_frame_announced_over_max_frame_size_is_refused_before_it_is_buffered(
    bounded_server: LiveServer,
) -> None:
    server, announced = bounded_server, 15 * MiB
    baseline = rss(server)
    chunk = b"x" * (256 * 1024)
    refused = 0
    for _ in range(10):
        raw = RawWebSocket(server.port)
        raw.sock.settimeout(2)
        try:
            raw.sock.sendall(frame_header(announced))
            for _ in range(announced // len(chunk)):
                raw.sock.sendall(chunk)
        except (ConnectionError, TimeoutError):
            refused += 1
        finally:
            raw.close()
    growth = rss(server) - baseline
    assert refused == 10, "the server took 15 MiB frames although MAX_FRAME_SIZE is 1 MiB"
    assert growth < 32 * MiB, f"{growth / MiB:.0f} MiB"


def test_the_default_connection_limit_keeps_file_descriptors_for_pages() -> None:
    """With 160 descriptors the cable takes at most 96 sockets (160 less 64 kept)."""
    with live_server("uvicorn", file_limit=160) as server:
        assert asyncio.run(connection_outcomes(server, 150)) == {"open": 96, 1013: 54}
        status, _ = server.request("GET", "/")
        assert status == 200, "a page could not be served while the cable was full"


@pytest.mark.parametrize("kind", SERVERS)
def test_connections_beyond_max_connections_are_told_to_try_again_later(kind: str) -> None:
    with live_server(kind, settings={"MAX_CONNECTIONS": 20}) as server:
        try_later = 1013 if kind == "uvicorn" else 4013  # daphne takes private codes only
        assert asyncio.run(connection_outcomes(server, 25)) == {"open": 20, try_later: 5}


def test_connections_per_client_address_are_capped() -> None:
    with live_server("uvicorn", settings={"MAX_CONNECTIONS_PER_CLIENT": 3}) as server:
        assert asyncio.run(connection_outcomes(server, 5)) == {"open": 3, 1013: 2}
        other = asyncio.run(connection_outcomes(server, 3, local_address="127.0.0.2"))
        assert other == {"open": 3}


async def connection_outcomes(
    server: LiveServer, count: int, local_address: str = "127.0.0.1"
) -> dict[object, int]:
    """Opens ``count`` sockets one after the other, each subscribing; counts how many
    stay open (and receive a broadcast) and the close codes of the others."""
    outcomes: dict[object, int] = {}
    clients: list[CableClient] = []
    try:
        for _ in range(count):
            client = await CableClient.connect(server.cable_url, local_addr=(local_address, 0))
            try:
                answer = await client.subscribe(signed_stream_name("crowd"))
                assert answer["type"] == "subscribed"
                clients.append(client)
                outcome: object = "open"
            except ConnectionClosed as closed:
                outcome = closed.rcvd.code if closed.rcvd is not None else "dropped"
                await client.close()
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        _, body = await asyncio.to_thread(server.broadcast, "crowd", "hello")
        assert body["recipients"] == len(clients)
        for client in clients:
            assert (await client.receive())["data"] == "hello"
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    return outcomes
