"""The cable's uvicorn protocol class in-process: a handshake and frames through a fake
transport, and the lighter structures it keeps per socket in place of uvicorn's.

What it bounds on a real socket (slow readers, pings from a peer that never reads, frames
over the limit) is tested against a live uvicorn in ``test_cable_resources.py``.
"""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from turbo_cable.asgi_types import WRITE_NOW
from turbo_cable.server.frames import text_frame
from turbo_cable.uvicorn_protocol import WebSocketProtocol, _Flag, _Inbox

# As uvicorn's HTTP protocol hands an upgrade over: header names in lower case.
HANDSHAKE = (
    b"GET /cable HTTP/1.1\r\nhost: 127.0.0.1:8001\r\nupgrade: websocket\r\n"
    b"connection: Upgrade\r\nsec-websocket-key: " + base64.b64encode(os.urandom(16)) + b"\r\n"
    b"sec-websocket-version: 13\r\ncookie: sessionid=abc\r\n\r\n"
)


def client_text_frame(text: str) -> bytes:
    """A short masked text frame, as a browser sends it."""
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes((0x81, 0x80 | len(payload))) + mask + masked


class FakeTransport(asyncio.Transport):
    """What the protocol writes, and whether it reads and is closing."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False
        self.aborted = False
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        info = {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8001)}
        return info.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = self.aborted = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, then send every text back until the client goes."""
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message["text"]})


async def until(condition: Any, timeout: float = 5.0) -> None:
    """Let the loop run until ``condition()``: the fake transport has no event to wait on."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0)


async def handshake(application: Any) -> tuple[WebSocketProtocol, FakeTransport]:
    config = uvicorn.Config(
        application, ws=WebSocketProtocol, ws_ping_interval=0, lifespan="off", log_level="warning"
    )
    config.load()
    protocol = WebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    transport = FakeTransport()
    protocol.connection_made(transport)
    protocol.data_received(HANDSHAKE)
    await until(lambda: b"\r\n\r\n" in transport.written)
    assert transport.written.startswith(b"HTTP/1.1 101 ")
    del transport.written[:]
    return protocol, transport


@pytest.fixture
async def connected() -> Any:
    protocol, transport = await handshake(echo)
    yield protocol, transport
    if not protocol.disconnected:
        protocol.connection_lost(None)
    await until(lambda: not protocol.tasks)


async def test_texts_go_both_ways_through_the_protocol(connected: Any) -> None:
    protocol, transport = connected
    for text in ("hello", "again"):
        protocol.data_received(client_text_frame(text))
        await until(lambda text=text: bytes(transport.written) == text_frame(text.encode()))
        del transport.written[:]
    assert transport.reading


async def test_an_open_socket_keeps_neither_the_handshake_request_nor_its_response(
    connected: Any,
) -> None:
    protocol, _ = connected
    assert protocol.request is None
    assert protocol.response is None
    kept = protocol.conn.parser.gi_frame.f_locals.get("request")  # websockets' parser's
    assert kept is None or not kept.headers
    assert (b"cookie", b"sessionid=abc") in protocol.scope["headers"]  # the scope keeps them
    assert set(protocol.scope["extensions"]) == {"websocket.http.response", WRITE_NOW}


async def test_every_attribute_uvicorn_sets_is_a_slot(connected: Any) -> None:
    """A name missing from ``__slots__`` costs every socket a ``__dict__`` again."""
    protocol, transport = connected
    protocol.data_received(client_text_frame("hello"))
    await until(lambda: bool(transport.written))
    assert vars(protocol) == {}


async def test_a_disconnect_ends_the_application(connected: Any) -> None:
    protocol, _ = connected
    protocol.connection_lost(None)
    await until(lambda: not protocol.tasks)


async def return_on_first_message(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Returns without a close frame: uvicorn closes the transport, and waits for the peer."""
    await receive()
    await send({"type": "websocket.accept"})
    await receive()


async def test_a_socket_whose_application_returned_is_aborted_if_the_peer_stays() -> None:
    protocol, transport = await handshake(return_on_first_message)
    protocol.data_received(client_text_frame("bye"))
    await until(lambda: not protocol.tasks)
    assert protocol._abort_timer is not None  # CLOSE_TIMEOUT for the peer to answer
    assert not transport.aborted
    protocol.connection_lost(None)
    assert protocol._abort_timer is None


async def test_a_socket_whose_peer_does_not_read_is_aborted_as_its_application_returns() -> None:
    protocol, transport = await handshake(return_on_first_message)
    protocol.pause_writing()
    protocol.data_received(client_text_frame("bye"))
    await until(lambda: transport.aborted)
    protocol.connection_lost(None)


async def test_the_inbox_hands_out_messages_in_order_and_wakes_a_waiting_reader() -> None:
    inbox = _Inbox()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert [inbox.get_nowait(), inbox.get_nowait()] == [1, 2]
    assert inbox.empty()
    getter = inbox.waiter()
    inbox.put_nowait(3)
    await getter
    assert inbox.get_nowait() == 3


async def test_a_reader_cancelled_once_woken_passes_the_message_on() -> None:
    inbox = _Inbox()
    first, second = inbox.waiter(), inbox.waiter()
    inbox.put_nowait("message")
    assert first.done()
    assert not second.done()
    inbox.forget(first)  # its task was cancelled before it could read
    assert second.done()
    assert inbox.get_nowait() == "message"


async def test_a_cancelled_reader_that_was_not_woken_leaves_the_others_waiting() -> None:
    inbox = _Inbox()
    first, second = inbox.waiter(), inbox.waiter()
    inbox.forget(first)
    inbox.put_nowait("message")
    assert first.cancelled()
    assert second.done()


async def test_the_flag_blocks_waiters_until_it_is_set() -> None:
    flag = _Flag()
    assert flag.is_set()
    assert await flag.wait()
    flag.clear()
    waiting = asyncio.ensure_future(flag.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    flag.set()
    assert await waiting
    assert flag.is_set()
