"""The handshake is refused for origins Django would refuse (cross-site hijacking).

As Django's CSRF check does, an origin is the site's own (scheme, host and port of
the request, the host in ALLOWED_HOSTS) or one of CSRF_TRUSTED_ORIGINS. Which
origins pass is decided from the handshake's Host and Origin alone, in-process
through ASGI; the servers show what they make of it: a 403 for a refusal, the
scheme each reports, and forwarded headers behind a proxy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from websockets.exceptions import InvalidStatus

from tests.asgi_client import InProcessCable, Refused, in_process_cable
from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name


async def test_a_foreign_origin_is_refused_with_403(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await CableClient.connect(server.cable_url, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    assert "origin 'https://evil.example' not allowed" in server.output()


@pytest.mark.parametrize("origin", ["{site}", "https://trusted.example"])
async def test_the_sites_own_origin_and_trusted_origins_may_connect(
    server: LiveServer, origin: str
) -> None:
    origin = origin.format(site=server.http_url)
    async with await CableClient.connect(server.cable_url, origin=origin) as client:
        assert (await client.subscribe(signed_stream_name("o")))["type"] == "subscribed"


SITE = "127.0.0.1:8000"  # the Host of every in-process handshake
POLICY_VIOLATION = 1008


@pytest.fixture
async def cable() -> AsyncIterator[InProcessCable]:
    async with in_process_cable() as running:
        yield running


async def handshake(cable: InProcessCable, origin: str) -> int | None:
    """None if the cable accepts a handshake from ``origin``, else its close code."""
    try:
        client = await cable.connect(origin=origin, headers={"Host": SITE})
    except Refused as refused:
        return refused.code
    await client.close()
    return None


def answer(allowed: bool) -> int | None:
    return None if allowed else POLICY_VIOLATION


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://127.0.0.1:8000", True),  # the site's own
        ("https://trusted.example", True),  # CSRF_TRUSTED_ORIGINS
        ("http://127.0.0.1:8001", False),  # another port: another site
        ("http://127.0.0.1", False),
        ("http://localhost:8000", False),  # in ALLOWED_HOSTS, but not the host asked for
        ("http://LOCALHOST:9999", False),
        ("http://trusted.example", False),
        ("https://trusted.example:8443", False),
        ("https://127.0.0.1:8000", False),  # another scheme, where the server tells it
    ],
)
async def test_only_the_sites_own_origin_and_trusted_origins_may_connect(
    cable: InProcessCable, origin: str, allowed: bool
) -> None:
    assert await handshake(cable, origin) == answer(allowed)


async def test_another_scheme_is_another_origin_where_the_server_tells_the_scheme(
    server: LiveServer,
) -> None:
    """uvicorn says ``ws``; daphne's WebSocket scope has no scheme, so only host and port count."""
    https_twin = f"https://127.0.0.1:{server.port}"
    if server.kind == "uvicorn":
        with pytest.raises(InvalidStatus):
            await CableClient.connect(server.cable_url, origin=https_twin)
    else:
        client = await CableClient.connect(server.cable_url, origin=https_twin)
        await client.close()


@pytest.fixture(scope="module", params=SERVERS)
def proxied_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """Told to believe X-Forwarded-* headers, as behind nginx."""
    with live_server(request.param, extra_args=("--proxy-headers",)) as running:
        yield running


@pytest.mark.parametrize(("proto", "allowed"), [("https", True), ("http", False)])
async def test_behind_a_tls_proxy_the_forwarded_scheme_decides(
    proxied_server: LiveServer, proto: str, allowed: bool
) -> None:
    """uvicorn rewrites the scheme; SECURE_PROXY_SSL_HEADER tells the cable under daphne."""
    origin = f"https://127.0.0.1:{proxied_server.port}"
    forwarded = {"X-Forwarded-Proto": proto, "X-Forwarded-For": "127.0.0.1"}
    url = proxied_server.cable_url
    if allowed:
        client = await CableClient.connect(url, origin=origin, additional_headers=forwarded)
        await client.close()
    else:
        with pytest.raises(InvalidStatus):
            await CableClient.connect(url, origin=origin, additional_headers=forwarded)


async def test_a_client_without_origin_is_not_a_browser_and_may_connect(server: LiveServer) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        assert (await client.subscribe(signed_stream_name("o")))["type"] == "subscribed"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://app.example", True),
        ("https://www.example.org", True),
        ("http://www.example.org:8080", True),  # a bare host pattern: any scheme and port
        ("http://app.example", False),
        ("https://app.example:8443", False),
        ("http://127.0.0.1:8000", False),  # the site's own no longer counts
        ("https://app.example.evil", False),
    ],
)
async def test_allowed_origins_setting_replaces_the_derived_list(
    origin: str, allowed: bool
) -> None:
    settings = {"ALLOWED_ORIGINS": ["https://app.example", ".example.org"]}
    async with in_process_cable(**settings) as cable:
        assert await handshake(cable, origin) == answer(allowed)
