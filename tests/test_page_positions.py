"""A page's markers carry where their streams stood when its request began.

The view reads its data first and the template renders ``{% turbo_stream_from %}``
after; a message broadcast in between is not in the page, so the page's position
must come before it and its subscribe must get it replayed. Each route a position
takes is tried: this process's cable (ASGI), Redis from a process without one, and
``runcable`` asked over HTTP by a WSGI process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator

import pytest
from django.template import Context, Template
from django.test import Client

from tests.asgi_client import in_process_cable
from tests.cable_client import CableClient
from tests.redis_support import RedisServer
from tests.servers import LiveServer, free_port, live_server
from turbo_cable.backends import stream_position
from turbo_cable.broadcast import broadcast
from turbo_cable.streams import signed_stream_name

PAGE = "/testapp/changed-while-rendering/?stream={}"
SENT = "<p>sent while the page rendered</p>"


def rendered_position(html: str) -> dict[str, object]:
    marker = re.search(r' epoch="([^"]*)" offset="(\d+)"', html)
    assert marker is not None, html
    return {"epoch": marker[1], "offset": int(marker[2])}


async def test_a_page_served_by_the_cables_own_process_replays_what_came_during_its_render() -> (
    None
):
    async with in_process_cable() as cable:
        status, html = await cable.request("GET", PAGE.format("asgi"))
        assert status == 200
        position = rendered_position(html.decode())
        assert position["offset"] == 0  # before the message, though rendered after it
        async with await cable.connect() as client:
            subscribed = await client.subscribe(signed_stream_name("asgi"), **position)
            replayed = await client.receive()
    assert (subscribed["offset"], replayed["data"], replayed["offset"]) == (1, SENT, 1)


def test_a_wsgi_page_beside_redis_reads_the_position_from_when_its_request_began(
    redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    configure(BACKEND=redis_server.url, REDIS_PREFIX="pages:")
    html = Client().get(PAGE.format("wsgi redis")).content.decode()
    position = rendered_position(html)
    now = stream_position("wsgi redis")
    assert now is not None
    assert position == {"epoch": now.epoch, "offset": 0}
    assert now.offset == 1


@pytest.fixture(scope="module")
def runcable() -> Iterator[LiveServer]:
    with live_server("runcable") as cable:
        yield cable


async def test_a_wsgi_page_beside_runcable_asks_it_where_the_stream_stood(
    runcable: LiveServer, configure: Callable[..., None]
) -> None:
    configure(BROADCAST_URL=f"{runcable.http_url}/_broadcast")
    html = Client().get(PAGE.format("wsgi runcable")).content.decode()
    position = rendered_position(html)
    async with await CableClient.connect(runcable.cable_url) as client:
        await client.send(
            {"type": "subscribe", "stream": signed_stream_name("wsgi runcable"), **position}
        )
        subscribed = await client.receive()
        replayed = await client.receive()
    assert (position["offset"], subscribed["offset"]) == (0, 1)
    assert (replayed["data"], replayed["offset"]) == (SENT, 1)


def test_pages_get_positions_as_soon_as_runcable_is_up(
    configure: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    """A refused connection costs a page no wait, so it pauses nothing: the pages
    rendered while the cable starts say so once, and the next one after gets it."""
    port = free_port()
    configure(BROADCAST_URL=f"http://127.0.0.1:{port}/_broadcast")
    marker = Template("{% load turbo_cable %}{% turbo_stream_from 'starting' %}")
    with caplog.at_level(logging.WARNING, "turbo_cable"):
        early = [marker.render(Context()) for _ in range(3)]
    assert not any("epoch=" in page for page in early)
    assert [record.getMessage() for record in caplog.records] == [
        f"no position for 'starting' from the cable at http://127.0.0.1:{port}/_broadcast "
        "([Errno 111] Connection refused): live delivery only, no replay"
    ]
    with live_server("runcable", port=port):
        assert rendered_position(marker.render(Context())) == {"epoch": "", "offset": 0}


def test_outside_a_request_a_marker_reads_where_the_stream_is_now(
    redis_server: RedisServer, configure: Callable[..., None]
) -> None:
    """A broadcast's own template, a script: no request began, so now is the moment."""
    configure(BACKEND=redis_server.url, REDIS_PREFIX="now:")
    assert broadcast("now", "<p>one</p>")
    now = stream_position("now")
    assert now is not None
    html = Template("{% load turbo_cable %}{% turbo_stream_from 'now' %}").render(Context())
    assert rendered_position(html) == {"epoch": now.epoch, "offset": 1}
