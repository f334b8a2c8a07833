"""Presence: who is on a stream, told to its subscribers at most once per interval."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from tests.test_broadcast_full_path import migrated_database
from turbo_cable.streams import signed_stream_name

ROOM = "presence:room"


async def join(
    server: LiveServer, stream: str = ROOM, seen: Any = True, query: str = "", **options: Any
) -> CableClient:
    client = await CableClient.connect(server.cable_url + query, **options)
    await client.send({"type": "subscribe", "stream": signed_stream_name(stream), "presence": seen})
    assert (await client.receive())["type"] == "subscribed"
    return client


async def presence_until(
    client: CableClient, wanted: Any, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Presence updates ``client`` receives until ``wanted(update)`` holds; all of them."""
    updates: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        frame = await client.receive(timeout=max(0.1, deadline - time.monotonic()))
        data = frame.get("data")
        if isinstance(data, dict) and "presence" in data:
            updates.append(data["presence"])
            if wanted(data["presence"]):
                return updates


def log_in(server: LiveServer, username: str) -> tuple[str, int]:
    """Log in through the server: its session cookie, and the user's pk."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", f"/testapp/log-in/?username={username}")
        response = connection.getresponse()
        pk = json.loads(response.read())["pk"]
        assert response.status == 200
        cookie = response.getheader("Set-Cookie") or ""
    finally:
        connection.close()
    return cookie.split(";")[0], pk  # sessionid=...


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrated_database(tmp_path_factory.mktemp("presence"))


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest, database: str) -> Iterator[LiveServer]:
    with live_server(request.param, env={"TURBO_CABLE_TEST_DB": database}) as running:
        yield running


async def test_a_logged_in_user_with_two_tabs_counts_once_beside_anonymous_visitors(
    server: LiveServer,
) -> None:
    cookie, pk = await asyncio.to_thread(log_in, server, "alice")
    tabs = [await join(server, additional_headers={"Cookie": cookie}) for _ in range(2)]
    anonymous = await join(server)
    alice = {"id": f"user:{pk}", "name": "alice"}
    try:
        updates = await presence_until(anonymous, lambda p: p["count"] == 2 and p["anonymous"])
        assert updates[-1] == {"users": [alice], "anonymous": 1, "count": 2}
        await tabs[0].close()  # one tab closed: alice is still there
        await anonymous.close()
        updates = await presence_until(tabs[1], lambda p: p["anonymous"] == 0)
        assert updates[-1] == {"users": [alice], "anonymous": 0, "count": 1}
    finally:
        for client in (*tabs, anonymous):
            await client.close()


async def test_subscribers_that_did_not_ask_are_not_counted_but_are_told(
    server: LiveServer,
) -> None:
    watcher = await CableClient.connect(server.cable_url)
    try:
        await watcher.subscribe(signed_stream_name("presence:quiet"))
        visitor = await join(server, "presence:quiet")
        updates = await presence_until(watcher, lambda p: p["count"] == 1)
        assert updates[-1] == {"users": [], "anonymous": 1, "count": 1}
        await visitor.close()
        assert (await presence_until(watcher, lambda p: p["count"] == 0))[-1]["count"] == 0
    finally:
        await watcher.close()


async def test_a_page_with_a_target_gets_the_presence_rendered_into_it(server: LiveServer) -> None:
    cookie, pk = await asyncio.to_thread(log_in, server, "bob")
    client = await join(
        server,
        "presence:rendered",
        {"target": "who-is-here"},
        additional_headers={"Cookie": cookie},
    )
    try:
        html = ""
        while "<turbo-stream" not in html:
            frame = await client.receive()
            html = frame["data"] if isinstance(frame.get("data"), str) else ""
        assert '<turbo-stream action="update" target="who-is-here">' in html
        assert f'data-user-id="user:{pk}">bob</span>' in html
    finally:
        await client.close()


async def test_joins_and_leaves_make_at_most_one_update_per_second() -> None:
    with live_server("uvicorn") as server:
        watcher = await join(server, "presence:busy")
        await presence_until(watcher, lambda p: p["count"] == 1)
        started = time.monotonic()
        visitors = []
        for _ in range(15):  # 30 joins and leaves in about 1.5 s
            visitors.append(await join(server, "presence:busy"))
            await asyncio.sleep(0.05)
            if len(visitors) > 1:
                await visitors.pop(0).close()
        updates = await presence_until(watcher, lambda p: p["count"] == 2, timeout=5)
        elapsed = time.monotonic() - started
        for visitor in visitors:
            await visitor.close()
        await watcher.close()
    assert len(updates) <= int(elapsed) + 1, (len(updates), elapsed)


async def test_an_identify_hook_decides_who_a_connection_is() -> None:
    settings = {"IDENTIFY": "tests.testapp.identity.from_query_string"}
    with live_server("uvicorn", settings=settings) as server:
        url = server.cable_url
        clients = [
            await CableClient.connect(f"{url}?name=ada"),
            await CableClient.connect(f"{url}?name=ada"),
            await CableClient.connect(f"{url}?fail=1"),
        ]
        try:
            for client in clients:
                await client.send(
                    {"type": "subscribe", "stream": signed_stream_name(ROOM), "presence": True}
                )
                assert (await client.receive())["type"] == "subscribed"
            updates = await presence_until(clients[0], lambda p: p["count"] == 2)
            assert updates[-1] == {
                "users": [{"id": "device:ada", "name": "Ada"}],
                "anonymous": 1,
                "count": 2,
            }
        finally:
            for client in clients:
                await client.close()
        assert "identifying a cable connection failed" in server.output()


def test_the_tag_renders_what_makes_the_client_ask_to_be_seen() -> None:
    from django.template import Context, Template

    page = Template(
        '{% load turbo_cable %}{% turbo_stream_from "notes" presence=True %}'
        '{% turbo_stream_from "notes" 1 presence_target=target %}{% turbo_stream_from "n" %}'
    ).render(Context({"target": "who<>"}))
    seen, rendered, plain = page.split("</turbo-cable-stream>")[:3]
    assert seen.endswith(" presence>")
    assert "presence-target" not in seen
    assert rendered.endswith(' presence presence-target="who&lt;&gt;">')
    assert 'name="notes:1"' in rendered
    assert "presence" not in plain


def test_presence_settings_are_validated() -> None:
    from turbo_cable.conf import validate

    assert validate({"IDENTIFY": "nodots"}) == [
        "TURBO_CABLE['IDENTIFY'] must be None or the dotted path of an async callable; "
        "got 'nodots'."
    ]
    assert validate({"PRESENCE_TTL": 0.5})[0].startswith("TURBO_CABLE['PRESENCE_TTL'] must be")
    assert validate({"PRESENCE_INTERVAL": 0})[0].startswith("TURBO_CABLE['PRESENCE_INTERVAL']")
    assert validate({"METRICS_PATH": None, "PRESENCE_TEMPLATE": "x.html"}) == []


def test_an_identify_hook_that_does_not_import_is_a_check_error(settings: Any) -> None:
    from turbo_cable.checks import check_identify_hook

    settings.TURBO_CABLE = {"IDENTIFY": "tests.testapp.identity.no_such_hook"}
    [error] = check_identify_hook()
    assert error.id == "turbo_cable.E006"
    assert "'tests.testapp.identity.no_such_hook' cannot be imported" in error.msg
    settings.TURBO_CABLE = {"IDENTIFY": "tests.testapp.identity.from_query_string"}
    assert check_identify_hook() == []
