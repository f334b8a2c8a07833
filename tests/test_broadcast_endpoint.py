"""POST /_broadcast: loopback or token only, never from a web page, a reason for every refusal.

The endpoint's decisions run in this process through ASGI (tests/asgi_client.py);
what depends on the server runs against daphne and uvicorn behind a proxy: the
client address a server takes from forwarding headers, Host as it passes it on,
bodies streamed without a length, forms Twisted parses itself.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import pytest

from tests.asgi_client import InProcessCable, in_process_cable
from tests.cable_client import CableClient
from tests.servers import SERVERS, LiveServer, live_server
from turbo_cable.streams import signed_stream_name

TOKEN = "s3cret-token"
JSON = {"Content-Type": "application/json"}
BODY = b'{"stream": "s", "data": "x"}'
REMOTE = ("203.0.113.9", 40000)
SETTINGS = {"BROADCAST_TOKEN": TOKEN, "MAX_BROADCAST_SIZE": 4096}
FROM_PAGES = {"error": "requests from web pages (with an Origin header) are refused"}
FOREIGN_HOST = {
    "error": "Host must be a loopback name or in ALLOWED_HOSTS, or send BROADCAST_TOKEN"
}
FORWARDED = {"error": "a request with forwarding headers (from a proxy) needs BROADCAST_TOKEN"}
NOT_JSON_TYPE = {"error": "Content-Type must be application/json"}


@pytest.fixture
async def cable() -> AsyncIterator[InProcessCable]:
    async with in_process_cable(**SETTINGS) as running:
        yield running


async def post(
    cable: InProcessCable,
    body: bytes | list[bytes],
    headers: dict[str, str] | None = None,
    client: tuple[str, int] | None = None,
) -> tuple[int, dict[str, object]]:
    """POST ``body``, as JSON unless ``headers`` say otherwise."""
    headers = JSON if headers is None else headers
    status, raw = await cable.request("POST", "/_broadcast", body, headers, client=client)
    return status, json.loads(raw)


async def test_loopback_may_broadcast_without_a_token(cable: InProcessCable) -> None:
    assert await post(cable, BODY) == (200, {"recipients": 0})


async def test_a_non_local_client_needs_the_token(cable: InProcessCable) -> None:
    refused = {"error": "broadcasts are accepted from loopback or with the token only"}
    assert await post(cable, BODY, client=REMOTE) == (403, refused)
    wrong = {**JSON, "Authorization": "Bearer not-the-token"}
    assert await post(cable, BODY, wrong, client=REMOTE) == (403, refused)
    async with await cable.connect() as client:
        await client.subscribe(signed_stream_name("remote"))
        right = {**JSON, "Authorization": f"Bearer {TOKEN}"}
        body = b'{"stream": "remote", "data": "hi"}'
        assert await post(cable, body, right, client=REMOTE) == (200, {"recipients": 1})
        assert (await client.receive())["data"] == "hi"


async def test_a_broadcast_without_data_delivers_null_as_the_rails_engine_does(
    cable: InProcessCable,
) -> None:
    async with await cable.connect() as client:
        await client.subscribe(signed_stream_name("no-data"))
        assert await post(cable, b'{"stream": "no-data"}') == (200, {"recipients": 1})
        frame = await client.receive()
        assert (frame["type"], frame["data"]) == ("message", None)
        assert "data" in frame


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
async def test_a_malformed_broadcast_gets_400_with_the_reason(
    cable: InProcessCable, body: bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert await post(cable, body) == (400, {"error": reason})
    assert [record for record in caplog.records if record.exc_info] == []


async def test_the_size_limit_holds_with_or_without_a_length(cable: InProcessCable) -> None:
    too_big = {"error": "body is larger than 4096 bytes"}
    assert await post(cable, [b"x" * 1024] * 5) == (400, too_big)
    assert await post(cable, b"x" * 5000, {**JSON, "Content-Length": "5000"}) == (400, too_big)
    within = json.dumps({"stream": "s", "data": "x" * 3000}).encode()
    assert await post(cable, [within[:1000], within[1000:]]) == (200, {"recipients": 0})


async def test_nesting_and_surrogate_pairs_within_the_limits_are_delivered(
    cable: InProcessCable,
) -> None:
    data = json.loads("[" * 63 + '"\\ud83d\\ude00"' + "]" * 63)
    async with await cable.connect() as client:
        await client.subscribe(signed_stream_name("s"))
        body = json.dumps({"stream": "s", "data": data}).encode()
        assert await post(cable, body) == (200, {"recipients": 1})
        assert (await client.receive())["data"] == data


async def test_refused_data_never_reaches_subscribers_nor_history(cable: InProcessCable) -> None:
    async with await cable.connect() as client:
        await client.subscribe(signed_stream_name("clean"))
        for data in (b"NaN", b'"\\ud800"', b"[" * 100 + b"]" * 100):
            body = b'{"stream": "clean", "data": ' + data + b"}"
            assert (await post(cable, body))[0] == 400
        assert (await post(cable, b'{"stream": "clean", "data": "valid"}'))[0] == 200
        frame = await client.receive()
        assert (frame["data"], frame["offset"]) == ("valid", 1)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD"])
async def test_other_methods_get_405(cable: InProcessCable, method: str) -> None:
    status, raw = await cable.request(method, "/_broadcast")
    assert (status, json.loads(raw)) == (405, {"error": "only POST and GET are allowed"})


# -- GET ?stream=S: where a stream stands, for pages rendered in another process ----------


async def position(
    cable: InProcessCable, query: str, headers: dict[str, str] | None = None, **options: Any
) -> tuple[int, dict[str, object]]:
    status, raw = await cable.request("GET", f"/_broadcast{query}", b"", headers, **options)
    return status, json.loads(raw)


async def test_get_tells_where_a_stream_stands_for_a_page_to_render(cable: InProcessCable) -> None:
    before = {"stream": "room 1", "position": {"epoch": "", "offset": 0}}
    assert await position(cable, "?stream=room+1") == (200, before)
    for data in ("one", "two"):
        await post(cable, json.dumps({"stream": "room 1", "data": data}).encode())
    status, answer = await position(cable, "?stream=room%201")
    async with await cable.connect() as client:
        subscribed = await client.subscribe(signed_stream_name("room 1"))
    assert (status, answer["stream"]) == (200, "room 1")
    assert answer["position"] == {"epoch": subscribed["epoch"], "offset": 2}
    # Reading changed nothing: the stream is where it was.
    assert await position(cable, "?stream=room+1") == (200, answer)


async def test_a_position_can_be_read_as_of_when_a_pages_request_began(
    cable: InProcessCable,
) -> None:
    """``age``: seconds since the page's request began; only that duration crosses
    between the two processes, so their clocks need not agree."""
    await post(cable, b'{"stream": "aged", "data": "one"}')
    await asyncio.sleep(0.3)
    await post(cable, b'{"stream": "aged", "data": "two"}')
    offsets = []
    for age in ("0", "0.15", "60", "3600"):
        status, answer = await position(cable, f"?stream=aged&age={age}")
        assert status == 200
        offsets.append(cast(dict[str, int], answer["position"])["offset"])
    assert offsets == [2, 1, 0, 0]


@pytest.mark.parametrize("age", ["-1", "nan", "inf", "soon", "3601", "1&age=2"])
async def test_an_age_that_is_not_a_plausible_duration_is_refused(
    cable: InProcessCable, age: str
) -> None:
    bad = {"error": "age must be a number of seconds from 0 to 3600"}
    assert await position(cable, f"?stream=s&age={age}") == (400, bad)


async def test_reading_a_position_needs_loopback_or_the_token(cable: InProcessCable) -> None:
    refused = {"error": "stream positions can be read from loopback or with the token only"}
    assert await position(cable, "?stream=s", client=REMOTE) == (403, refused)
    token = {"Authorization": f"Bearer {TOKEN}"}
    assert (await position(cable, "?stream=s", token, client=REMOTE))[0] == 200
    origin = {"Origin": "http://127.0.0.1:8000", **token}
    assert await position(cable, "?stream=s", origin) == (403, FROM_PAGES)


@pytest.mark.parametrize("query", ["", "?stream=", "?stream=a&stream=b", "?streams=a"])
async def test_a_position_read_names_one_stream(cable: InProcessCable, query: str) -> None:
    named = {"error": "name one stream: ?stream=<plain stream name>"}
    assert await position(cable, query) == (400, named)


async def test_the_rails_engines_broadcaster_is_served(cable: InProcessCable) -> None:
    """JSON with a charset, no Origin, a loopback Host: what Net::HTTP sends."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Host": "127.0.0.1:8000"}
    assert await post(cable, BODY, headers) == (200, {"recipients": 0})


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
async def test_a_body_a_web_page_could_send_without_preflight_is_refused(
    cable: InProcessCable, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert await post(cable, BODY, headers) == (403, NOT_JSON_TYPE)
    with_token = {**headers, "Authorization": f"Bearer {TOKEN}"}
    assert await post(cable, BODY, with_token, client=REMOTE) == (403, NOT_JSON_TYPE)


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:8000"])
async def test_a_request_from_a_web_page_is_refused_even_with_the_token(
    cable: InProcessCable, origin: str
) -> None:
    for extra in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        assert await post(cable, BODY, {**JSON, "Origin": origin, **extra}) == (403, FROM_PAGES)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example"])
async def test_a_loopback_request_for_a_foreign_host_is_refused(
    cable: InProcessCable, host: str
) -> None:
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1."""
    assert await post(cable, BODY, {**JSON, "Host": host}) == (403, FOREIGN_HOST)
    with_token = {**JSON, "Host": host, "Authorization": f"Bearer {TOKEN}"}
    assert await post(cable, BODY, with_token) == (200, {"recipients": 0})


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "127.9.9.9", "localhost:1", "[::1]:8000", "testserver"]
)
async def test_loopback_names_and_allowed_hosts_are_served(
    cable: InProcessCable, host: str
) -> None:
    assert await post(cable, BODY, {**JSON, "Host": host}) == (200, {"recipients": 0})


@pytest.mark.parametrize(
    "header",
    [
        ("X-Forwarded-For", "127.0.0.1"),
        ("X-Real-IP", "127.0.0.1"),
        ("Forwarded", "for=127.0.0.1"),
    ],
)
async def test_a_forwarded_request_needs_the_token_even_when_it_claims_loopback(
    cable: InProcessCable, header: tuple[str, str]
) -> None:
    name, value = header
    assert await post(cable, BODY, {**JSON, name: value}) == (403, FORWARDED)
    with_token = {**JSON, name: value, "Authorization": f"Bearer {TOKEN}"}
    assert await post(cable, BODY, with_token) == (200, {"recipients": 0})


async def test_refusals_are_logged_as_warnings(
    cable: InProcessCable, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="turbo_cable")
    await post(cable, b"{nope")
    assert [r.levelname for r in caplog.records if "refused broadcast from" in r.getMessage()] == [
        "WARNING"
    ]


# -- through real servers, behind a proxy -----------------------------------------------

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
    with live_server(request.param, settings=SETTINGS, extra_args=proxy_args) as running:
        yield running


def post_to(
    server: LiveServer, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    status, raw = server.request("POST", "/_broadcast", body, JSON if headers is None else headers)
    return status, json.loads(raw)


async def test_a_forwarded_address_is_the_client_the_server_reports(server: LiveServer) -> None:
    """The server takes the client's address from X-Forwarded-For: not loopback, so the
    token is needed; claiming loopback there still needs it, as the header remains."""
    remote = {**JSON, "X-Forwarded-For": "203.0.113.9"}
    status, body = post_to(server, BODY, remote)
    assert (status, body) == (
        403,
        {"error": "broadcasts are accepted from loopback or with the token only"},
    )
    assert post_to(server, BODY, {**JSON, "X-Forwarded-For": "127.0.0.1"}) == (403, FORWARDED)
    async with await CableClient.connect(server.cable_url) as client:
        await client.subscribe(signed_stream_name("remote"))
        with_token = {**remote, "Authorization": f"Bearer {TOKEN}"}
        assert post_to(server, b'{"stream": "remote", "data": "hi"}', with_token) == (
            200,
            {"recipients": 1},
        )
        assert (await client.receive())["data"] == "hi"


def test_the_host_the_server_passes_on_decides(server: LiveServer) -> None:
    assert post_to(server, BODY) == (200, {"recipients": 0})
    assert post_to(server, BODY, {**JSON, "Host": "evil.example"}) == (403, FOREIGN_HOST)


def test_an_oversized_body_without_content_length_is_refused_too(server: LiveServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunks = (b"x" * 1024 for _ in range(8))
    connection.request("POST", "/_broadcast", body=chunks, headers=JSON, encode_chunked=True)
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (
        400,
        {"error": "body is larger than 4096 bytes"},
    )
    connection.close()


def test_a_malformed_body_through_the_server_gets_400_and_no_traceback(
    server: LiveServer,
) -> None:
    assert post_to(server, b"{nope") == (400, {"error": "body is not valid JSON"})
    assert "refused broadcast from" in server.output()
    assert "Traceback" not in server.output()


def test_a_form_body_is_refused_before_or_by_the_cable(server: LiveServer) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    if server.kind == "daphne":
        # Twisted parses form bodies itself and refuses this one first.
        assert server.request("POST", "/_broadcast", BODY, headers) == (400, b"")
    else:
        assert post_to(server, BODY, headers) == (403, NOT_JSON_TYPE)
