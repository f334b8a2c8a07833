"""The whole line: ``save()`` in a view -> on_commit -> delivery -> a real browser socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.cable_client import CableClient, contract
from tests.servers import ROOT, LiveServer, free_port, live_server
from turbo_cable.streams import signed_stream_name


def migrated_database(directory: Path) -> str:
    """A file sqlite database with every table, for a server process to share."""
    path = str(directory / "db.sqlite3")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    environment["TURBO_CABLE_TEST_DB"] = path
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.core.management import call_command; "
            "call_command('migrate', run_syncdb=True, verbosity=0)",
        ],
        cwd=ROOT,
        env=environment,
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrated_database(tmp_path_factory.mktemp("full-path"))


# (server, how the view's process delivers): in-process to the hub, or HTTP to itself.
ROUTES = [("uvicorn", "in-process"), ("daphne", "in-process"), ("uvicorn", "http")]


@pytest.fixture(scope="module", params=ROUTES, ids=["-".join(r) for r in ROUTES])
def site(request: pytest.FixtureRequest, database: str) -> Iterator[LiveServer]:
    kind, route = request.param
    port = free_port()
    env = {"TURBO_CABLE_TEST_DB": database}
    if route == "http":
        env["TURBO_CABLE_BROADCAST_URL"] = f"http://127.0.0.1:{port}/_broadcast"
    with live_server(kind, port=port, env=env) as running:
        running.route = route  # type: ignore[attr-defined]
        yield running


def post_form(server: LiveServer, path: str, fields: dict[str, str]) -> tuple[int, dict]:
    status, body = server.request(
        "POST",
        path,
        urlencode(fields).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    return status, json.loads(body)


async def test_saving_in_a_view_reaches_a_subscribed_socket_as_exact_html(
    site: LiveServer,
) -> None:
    async with await CableClient.connect(site.cable_url) as client:
        stream = signed_stream_name("comments")
        assert contract(await client.subscribe(stream)) == {"type": "subscribed", "stream": stream}
        status, created = post_form(site, "/testapp/comments/", {"body": "<b>hi</b> & bye"})
        assert status == 201, site.output()
        frame = await client.receive()
    assert contract(frame) == {
        "type": "message",
        "stream": stream,
        "data": '<turbo-stream action="append" target="comments">'
        "<template><li>&lt;b&gt;hi&lt;/b&gt; &amp; bye</li></template></turbo-stream>",
    }, created
    # The endpoint logs each broadcast it serves: only the HTTP route passes through it.
    went_through_endpoint = "broadcast to 'comments' reached 1" in site.output()
    assert went_through_endpoint == (site.route == "http"), site.output()  # type: ignore[attr-defined]


async def test_an_async_view_broadcasts_from_the_servers_own_loop(site: LiveServer) -> None:
    async with await CableClient.connect(site.cable_url) as client:
        stream = signed_stream_name("announcements")
        await client.subscribe(stream)
        status, body = site.request("GET", "/testapp/announce/?text=tea")
        assert (status, json.loads(body)) == (200, {"delivered": True}), site.output()
        frame = await client.receive()
    assert frame["data"] == {"text": "tea"}
