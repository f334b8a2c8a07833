"""POST /_broadcast: loopback or token only, a reason for every refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

TOKEN = "s3cret-token"
REMOTE = {"X-Forwarded-For": "203.0.113.9", "Content-Type": "application/json"}


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """Behind a (loopback) proxy, so a forwarded address is a non-local client."""
    proxy_args = ("--proxy-headers",) if request.param == "daphne" else ()
    settings = {"BROADCAST_TOKEN": TOKEN, "MAX_BROADCAST_SIZE": 4096}
    with live_server(request.param, settings=settings, extra_args=proxy_args) as running:
        yield running


def post(
    server: LiveServer, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    status, raw = server.request("POST", "/_broadcast", body, headers)
    return status, json.loads(raw)


def test_loopback_may_broadcast_without_a_token(server: LiveServer) -> None:
    assert post(server, b'{"stream": "s", "data": "x"}') == (200, {"recipients": 0})


def test_a_non_local_client_without_the_token_is_refused(server: LiveServer) -> None:
    status, body = post(server, b'{"stream": "s", "data": "x"}', REMOTE)
    assert status == 403
    assert "loopback" in body["error"]


def test_a_non_local_client_with_a_wrong_token_is_refused(server: LiveServer) -> None:
    headers = {**REMOTE, "Authorization": "Bearer not-the-token"}
    assert post(server, b'{"stream": "s", "data": "x"}', headers)[0] == 403


async def test_a_non_local_client_with_the_token_may_broadcast(server: LiveServer) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(signed_stream_name("remote"))
        headers = {**REMOTE, "Authorization": f"Bearer {TOKEN}"}
        assert post(server, b'{"stream": "remote", "data": "hi"}', headers) == (
            200,
            {"recipients": 1},
        )
        assert (await client.receive())["data"] == "hi"


async def test_a_broadcast_without_data_delivers_null_as_the_rails_engine_does(
    server: LiveServer,
) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(signed_stream_name("no-data"))
        assert post(server, b'{"stream": "no-data"}') == (200, {"recipients": 1})
        frame = await client.receive()
        assert frame["type"] == "message"
        assert "data" in frame
        assert frame["data"] is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{nope", "body is not valid JSON"),
        (b"\xff\xfe", "body is not valid JSON"),
        (b"", "body is not valid JSON"),
        (b'["stream", "data"]', "body must be a JSON object"),
        (b'{"data": "x"}', "'stream' must be a non-empty string"),
        (b'{"stream": "", "data": "x"}', "'stream' must be a non-empty string"),
        (b'{"stream": 5, "data": "x"}', "'stream' must be a non-empty string"),
        (
            json.dumps({"stream": "s", "data": "x" * 5000}).encode(),
            "body is larger than 4096 bytes",
        ),
    ],
)
def test_a_malformed_broadcast_gets_400_with_the_reason(
    server: LiveServer, body: bytes, reason: str
) -> None:
    assert post(server, body) == (400, {"error": reason})


def test_an_oversized_body_without_content_length_is_refused_too(server: LiveServer) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunks = (b"x" * 1024 for _ in range(8))
    connection.request("POST", "/_broadcast", body=chunks, encode_chunked=True)
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (
        400,
        {"error": "body is larger than 4096 bytes"},
    )
    connection.close()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_405(server: LiveServer, method: str) -> None:
    status, raw = server.request(method, "/_broadcast")
    assert status == 405
    assert json.loads(raw) == {"error": "only POST is allowed"}


def test_refusals_are_logged_as_warnings(server: LiveServer) -> None:
    post(server, b"{nope")
    assert "refused broadcast from" in server.output()
