"""POST /_broadcast: loopback or token only, never from a web page, a reason for every refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

TOKEN = "s3cret-token"
JSON = {"Content-Type": "application/json"}
REMOTE = {"X-Forwarded-For": "203.0.113.9", **JSON}
BODY = b'{"stream": "s", "data": "x"}'
# What each server needs to rewrite the client address from forwarding headers,
# trusting them from anyone (uvicorn only trusts loopback unless told otherwise).
PROXY_ARGS = {
    "daphne": ("--proxy-headers",),
    "uvicorn": ("--proxy-headers", "--forwarded-allow-ips", "*"),
}


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """Behind a proxy, so a forwarded address is taken for the client's."""
    proxy_args = PROXY_ARGS[request.param]
    settings = {"BROADCAST_TOKEN": TOKEN, "MAX_BROADCAST_SIZE": 4096}
    with live_server(request.param, settings=settings, extra_args=proxy_args) as running:
        yield running


def post(
    server: LiveServer, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    """POST ``body``, as JSON unless ``headers`` say otherwise."""
    status, raw = server.request("POST", "/_broadcast", body, JSON if headers is None else headers)
    return status, json.loads(raw)


def tracebacks(server: LiveServer) -> int:
    return server.output().count("Traceback")


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
        (b'{"stream": "s", "data": NaN}', "body has NaN or Infinity, which JSON does not allow"),
        (
            b'{"stream": "s", "data": [-Infinity]}',
            "body has NaN or Infinity, which JSON does not allow",
        ),
        (
            b'{"stream": "s", "data": {"x": Infinity}}',
            "body has NaN or Infinity, which JSON does not allow",
        ),
        (
            b'{"stream": "\\ud800:abc", "data": "x"}',
            "body has a lone surrogate, which UTF-8 cannot carry",
        ),
        (
            b'{"stream": "s", "data": "a\\udfffb"}',
            "body has a lone surrogate, which UTF-8 cannot carry",
        ),
        (
            b'{"stream": "s", "data": ' + b"[" * 1500 + b"]" * 1500 + b"}",
            "body is nested deeper than 64 levels",
        ),
        (
            b'{"stream": "s", "data": ' + b"[" * 65 + b"]" * 65 + b"}",
            "body is nested deeper than 64 levels",
        ),
        (
            json.dumps({"stream": "s", "data": "x" * 5000}).encode(),
            "body is larger than 4096 bytes",
        ),
    ],
)
def test_a_malformed_broadcast_gets_400_with_the_reason(
    server: LiveServer, body: bytes, reason: str
) -> None:
    before = tracebacks(server)
    assert post(server, body) == (400, {"error": reason})
    assert tracebacks(server) == before


def test_nesting_and_surrogate_pairs_within_the_limits_are_delivered(server: LiveServer) -> None:
    data = json.loads("[" * 63 + '"\\ud83d\\ude00"' + "]" * 63)
    assert post(server, json.dumps({"stream": "s", "data": data}).encode())[0] == 200


async def test_refused_data_never_reaches_subscribers_nor_history(server: LiveServer) -> None:
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(signed_stream_name("clean"))
        for data in (b"NaN", b'"\\ud800"', b"[" * 100 + b"]" * 100):
            body = b'{"stream": "clean", "data": ' + data + b"}"
            assert post(server, body)[0] == 400
        assert post(server, b'{"stream": "clean", "data": "valid"}')[0] == 200
        frame = await client.receive()
        assert (frame["data"], frame["offset"]) == ("valid", 1)


def test_an_oversized_body_without_content_length_is_refused_too(server: LiveServer) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunks = (b"x" * 1024 for _ in range(8))
    connection.request("POST", "/_broadcast", body=chunks, headers=JSON, encode_chunked=True)
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


def test_the_rails_engines_broadcaster_is_served(server: LiveServer) -> None:
    """JSON with a charset, no Origin, a loopback Host: what Net::HTTP sends."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Host": "127.0.0.1:8000"}
    assert post(server, BODY, headers) == (200, {"recipients": 0})


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        None,
    ],
)
def test_a_body_a_web_page_could_send_without_preflight_is_refused(
    server: LiveServer, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if server.kind == "daphne" and content_type and content_type.startswith("multipart/"):
        # Twisted parses form bodies itself and refuses this one first.
        assert server.request("POST", "/_broadcast", BODY, headers) == (400, b"")
        return
    assert post(server, BODY, headers) == (
        403,
        {"error": "Content-Type must be application/json"},
    )


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:8000"])
def test_a_request_from_a_web_page_is_refused_even_with_the_token(
    server: LiveServer, origin: str
) -> None:
    for extra in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        status, body = post(server, BODY, {**JSON, "Origin": origin, **extra})
        assert status == 403
        assert body == {"error": "requests from web pages (with an Origin header) are refused"}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example"])
def test_a_loopback_request_for_a_foreign_host_is_refused(server: LiveServer, host: str) -> None:
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    status, body = post(server, BODY, {**JSON, "Host": host})
    assert status == 403
    assert body == {
        "error": "Host must be a loopback name or in ALLOWED_HOSTS, or send BROADCAST_TOKEN"
    }
    assert post(server, BODY, {**JSON, "Host": host, "Authorization": f"Bearer {TOKEN}"})[0] == 200


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "127.9.9.9", "localhost:1", "[::1]:8000", "testserver"]
)
def test_loopback_names_and_allowed_hosts_are_served(server: LiveServer, host: str) -> None:
    assert post(server, BODY, {**JSON, "Host": host}) == (200, {"recipients": 0})


@pytest.mark.parametrize(
    "header",
    [
        ("X-Forwarded-For", "127.0.0.1"),
        ("X-Real-IP", "127.0.0.1"),
        ("Forwarded", "for=127.0.0.1"),
    ],
)
def test_a_forwarded_request_needs_the_token_even_when_it_claims_loopback(
    server: LiveServer, header: tuple[str, str]
) -> None:
    name, value = header
    status, body = post(server, BODY, {**JSON, name: value})
    assert status == 403
    assert body == {
        "error": "a request with forwarding headers (from a proxy) needs BROADCAST_TOKEN"
    }
    with_token = {**JSON, name: value, "Authorization": f"Bearer {TOKEN}"}
    assert post(server, BODY, with_token) == (200, {"recipients": 0})


def test_refusals_are_logged_as_warnings(server: LiveServer) -> None:
    post(server, b"{nope")
    assert "refused broadcast from" in server.output()
