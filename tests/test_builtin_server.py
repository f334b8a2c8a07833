"""The builtin server in-process, over real loopback sockets: HTTP/1.1 as broadcasters and
proxies speak it, the WebSocket handshake and close, and the bounds one client meets.

The cable's own routes under it are tested through ``runcable`` (test_runcable.py) and
the WSGI sample in Chromium (test_sample_wsgi.py); frames alone in test_server_frames.py.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.raw_websocket import encode_frame
from turbo_cable.asgi_types import WRITE_NOW
from turbo_cable.server import connection as server_connection
from turbo_cable.server import frames
from turbo_cable.server.http11 import MAX_HEAD_SIZE
from turbo_cable.server.scopes import ProxyTrust
from turbo_cable.server.serve import ServerState, listen, stop
from turbo_cable.server.websocket import accept_key

TIMEOUT = 5.0
scopes: list[dict[str, Any]] = []
received: list[dict[str, Any]] = []


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echo bodies and text frames; ``/silent`` never answers, ``/boom`` raises,
    ``/early`` answers without reading the body, ``/write-now`` answers a frame through
    the server's extension."""
    scopes.append(scope)
    if scope["type"] == "http":
        if scope["path"] == "/boom":
            raise RuntimeError("boom")
        if scope["path"] == "/silent":
            return
        if scope["path"] == "/early":  # refuses before reading the body, as a 413 does
            await send({"type": "http.response.start", "status": 413, "headers": []})
            await send({"type": "http.response.body", "body": b"too large"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"got " + body})
        return
    assert (await receive())["type"] == "websocket.connect"
    if scope["path"] == "/refuse":
        await send({"type": "websocket.close"})
        return
    await send({"type": "websocket.accept", "subprotocol": "cable"})
    while True:
        event = await receive()
        received.append(event)
        if event["type"] == "websocket.disconnect":
            return
        if scope["path"] == "/write-now":
            assert scope["extensions"][WRITE_NOW]({"type": "websocket.send", "text": "now"})
        elif "text" in event:
            await send({"type": "websocket.send", "text": event["text"]})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    scopes.clear()
    received.clear()
    state = ServerState(application, 1024, asyncio.get_running_loop())
    server = await listen(state, "127.0.0.1", 0)
    assert state.address is not None
    yield state.address[1]
    await stop(server, state)


async def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, read until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    try:
        return await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()


def post(path: str, body: bytes, *extra: str, declared: int | None = None) -> bytes:
    """A POST of ``body``; ``declared`` claims a longer one, the rest sent later or never."""
    length = len(body) if declared is None else declared
    head = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {length}", *extra]
    return "\r\n".join(head).encode() + b"\r\n\r\n" + body


async def test_keep_alive_and_pipelined_requests_are_answered_in_order(port: int) -> None:
    answer = await exchange(port, post("/", b"one") + post("/", b"two", "Connection: close"))
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.index(b"got one") < answer.index(b"got two")
    assert answer.endswith(b"got two")
    assert b"connection: close" in answer


async def test_a_chunked_body_arrives_whole(port: int) -> None:
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    body = b"4;ext=1\r\nbroa\r\n5\r\ndcast\r\n0\r\nTrailer: x\r\n\r\n"
    answer = await exchange(port, head + body)
    assert answer.endswith(b"got broadcast")
    assert b"content-length: 13" in answer


async def test_expect_100_continue_is_answered_before_the_body_is_sent(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(post("/", b"", "Expect: 100-continue", "Connection: close", declared=4))
    assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT) == (
        b"HTTP/1.1 100 Continue\r\n\r\n"
    )
    writer.write(b"body")
    assert (await asyncio.wait_for(reader.read(), TIMEOUT)).endswith(b"got body")
    writer.close()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\nX: " + b"x" * MAX_HEAD_SIZE + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nX: " + b"x" * (MAX_HEAD_SIZE + 10), b"431"),  # never ends
        (b"BROKEN\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"505"),
        (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
    ],
)
async def test_a_request_that_cannot_be_read_is_refused_and_the_socket_closed(
    port: int, request_bytes: bytes, status: bytes
) -> None:
    answer = await exchange(port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert scopes == []


async def test_a_socket_that_sends_no_request_is_closed(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_connection, "IDLE_TIMEOUT", 0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\n")  # and nothing more
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
    writer.close()


async def test_an_application_that_fails_or_never_answers_gets_a_500(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, "turbo_cable.server"):
        boom = await exchange(port, b"GET /boom HTTP/1.1\r\n\r\n")
        silent = await exchange(port, b"GET /silent HTTP/1.1\r\n\r\n")
    assert boom.startswith(b"HTTP/1.1 500")
    assert silent.startswith(b"HTTP/1.1 500")
    assert "the application failed on http /boom" in caplog.text
    assert "no response to GET /silent" in caplog.text


def test_forwarding_headers_count_only_from_a_trusted_proxy() -> None:
    from turbo_cable.server.http11 import parse_head

    request = parse_head(
        b"GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.9, 10.0.0.2\r\nX-Forwarded-Proto: https"
    )
    trust = ProxyTrust("127.0.0.1,10.0.0.2")
    assert trust.client(request, ("127.0.0.1", 5000)) == (("203.0.113.9", 0), "https")
    assert trust.client(request, ("192.0.2.1", 5000)) == (("192.0.2.1", 5000), None)
    # Trusting every address, the first one is the client's, as uvicorn has it.
    assert ProxyTrust("*").client(request, ("192.0.2.1", 1)) == (("203.0.113.9", 0), "https")


async def test_a_body_that_cannot_be_read_ends_the_request_with_400(port: int) -> None:
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = await exchange(port, head + b"zz\r\n")
    assert answer == b"HTTP/1.1 400 Bad Request\r\n" + answer.split(b"\r\n", 1)[1]
    assert answer.endswith(b"malformed chunk size\n")


# -- WebSocket ------------------------------------------------------------------------------
KEY = base64.b64encode(os.urandom(16))


def handshake(path: str = "/ws", version: bytes = b"13", key: bytes = KEY) -> bytes:
    return (
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
        b"Sec-WebSocket-Version: " + version + b"\r\nSec-WebSocket-Protocol: cable\r\n\r\n"
    )


async def open_websocket(port: int, path: str = "/ws") -> tuple[Any, Any, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(handshake(path))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    return reader, writer, head


async def read_frame(reader: Any) -> tuple[int, bytes]:
    first, second = await asyncio.wait_for(reader.readexactly(2), TIMEOUT)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    return first & 0x0F, await asyncio.wait_for(reader.readexactly(length), TIMEOUT)


async def test_the_handshake_is_answered_with_the_key_and_subprotocol(port: int) -> None:
    reader, writer, head = await open_websocket(port)
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"sec-websocket-accept: " + accept_key(KEY) in head
    assert b"sec-websocket-protocol: cable" in head
    assert scopes[0]["subprotocols"] == ["cable"]
    assert scopes[0]["scheme"] == "ws"
    writer.write(encode_frame(b"echo me"))
    assert await read_frame(reader) == (frames.TEXT, b"echo me")
    writer.close()


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (handshake(version=b"8"), b"426"),
        (handshake(key=b"short"), b"400"),
        (handshake(path="/refuse"), b"403"),
    ],
)
async def test_a_handshake_refused_gets_an_http_status(
    port: int, request_bytes: bytes, status: bytes
) -> None:
    answer = await exchange(port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status)


async def test_a_ping_gets_its_pong_and_a_peer_close_is_answered_with_its_code(
    port: int,
) -> None:
    reader, writer, _ = await open_websocket(port)
    writer.write(encode_frame(b"hi?", frames.PING))
    assert await read_frame(reader) == (frames.PONG, b"hi?")
    writer.write(encode_frame(struct.pack("!H", 4321) + b"done", frames.CLOSE))
    assert await read_frame(reader) == (frames.CLOSE, struct.pack("!H", 4321))
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # the server closes TCP
    writer.close()
    await asyncio.sleep(0)
    assert received[-1] == {"type": "websocket.disconnect", "code": 4321}


async def test_a_protocol_error_is_closed_with_its_code_and_told_to_the_application(
    port: int,
) -> None:
    reader, writer, _ = await open_websocket(port)
    writer.write(b"\x81\x02hi")  # not masked
    assert await read_frame(reader) == (
        frames.CLOSE,
        struct.pack("!H", 1002) + b"a client frame must be masked",
    )
    writer.close()
    for _ in range(100):
        if received:
            break
        await asyncio.sleep(0.01)
    assert received == [{"type": "websocket.disconnect", "code": 1002}]


async def test_write_now_frames_a_message_straight_to_the_socket(port: int) -> None:
    reader, writer, _ = await open_websocket(port, "/write-now")
    writer.write(encode_frame(b"go"))
    assert await read_frame(reader) == (frames.TEXT, b"now")
    writer.close()


async def test_a_stopping_server_closes_websockets_as_a_restart() -> None:
    received.clear()
    state = ServerState(application, 1024, asyncio.get_running_loop())
    server = await listen(state, "127.0.0.1", 0)
    assert state.address is not None
    reader, writer, _ = await open_websocket(state.address[1])
    stopping = asyncio.create_task(stop(server, state))
    opcode, payload = await read_frame(reader)
    assert (opcode, payload[:2]) == (frames.CLOSE, struct.pack("!H", 1012))
    writer.write(encode_frame(payload[:2], frames.CLOSE))  # answer it, as a client does
    await asyncio.wait_for(stopping, TIMEOUT)
    assert {"type": "websocket.disconnect", "code": 1012} in received
    writer.close()


async def test_a_body_that_trickles_past_its_deadline_closes_the_socket(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_connection, "BODY_TIMEOUT", 0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(post("/", b"ab", declared=10))
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # closed, nothing answered
    writer.close()
    assert scopes[0]["path"] == "/"  # the application had the request, and was let go


async def test_a_whole_body_keeps_the_socket_for_the_next_request(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_connection, "BODY_TIMEOUT", 0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(post("/", b"first"))
    await asyncio.sleep(0.5)  # past the body deadline: it must not fire for a whole body
    writer.write(post("/", b"second", "Connection: close"))
    answer = await asyncio.wait_for(reader.read(), TIMEOUT)
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    writer.close()


async def test_an_answer_before_the_whole_body_says_the_connection_closes(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(post("/early", b"ab", declared=10))
    answer = await asyncio.wait_for(reader.read(), TIMEOUT)  # the server closes after it
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"\r\nconnection: close" in head
    assert body == b"too large"


async def test_an_answer_after_the_whole_body_keeps_the_connection(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(post("/early", b"whole") + post("/", b"next", "Connection: close"))
    answer = await asyncio.wait_for(reader.read(), TIMEOUT)
    writer.close()
    first, _, rest = answer.partition(b"too large")
    assert b"connection: close" not in first
    assert rest.startswith(b"HTTP/1.1 200 OK")
    assert rest.endswith(b"got next")
