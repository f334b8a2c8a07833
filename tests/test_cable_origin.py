"""The handshake is refused for origins Django would not serve (cross-site hijacking)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus

from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name


async def test_a_foreign_origin_is_refused_with_403(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await CableClient.connect(server.cable_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    assert "origin 'https://evil.example' not allowed" in server.output()


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:8000", "http://localhost", "https://trusted.example"],
)
async def test_origins_from_allowed_hosts_and_trusted_origins_may_connect(
    server: LiveServer, origin: str
) -> None:
    async with await CableClient.connect(server.cable_url, origin=origin) as client:
        assert (await client.subscribe(signed_stream_name("o")))["type"] == "subscribed"


async def test_a_client_without_origin_is_not_a_browser_and_may_connect(server: LiveServer) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        assert (await client.subscribe(signed_stream_name("o")))["type"] == "subscribed"


@pytest.fixture(scope="module", params=SERVERS)
def strict_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    settings = {"ALLOWED_ORIGINS": ["https://app.example", ".example.org"]}
    with live_server(request.param, settings=settings) as running:
        yield running


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example", True),
        ("https://www.example.org", True),
        ("http://127.0.0.1:8000", False),
        ("https://app.example.evil", False),
    ],
)
async def test_allowed_origins_setting_replaces_the_derived_list(
    strict_server: LiveServer, origin: str, allowed: bool
) -> None:
    if allowed:
        client = await CableClient.connect(strict_server.cable_url, origin=origin)
        await client.close()
    else:
        with pytest.raises(InvalidStatus):
            await CableClient.connect(strict_server.cable_url, origin=origin)
