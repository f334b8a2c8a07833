"""The cable application in this process, driven through ASGI events: no server between.

For what the cable decides by itself (frame validation, error frames, close codes,
subscriptions, replay answers, the broadcast endpoint's refusals), the application
that daphne and uvicorn run (``tests.asgi``'s: the cable in front of Django) answers
here in milliseconds, through ``asgiref``'s ApplicationCommunicator. What a server
adds (the handshake on the wire, its mapping of close codes, its own limits) is
tested against real servers. The client reads like ``tests.cable_client``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from asgiref.testing import ApplicationCommunicator
from django.test import override_settings

from turbo_cable.asgi import CableMiddleware, get_asgi_application
from turbo_cable.backends import reset_backend

DEFAULT_TIMEOUT = 10.0
_client_ports = itertools.count(40000)  # each connection a peer of its own, as on a server


def loopback() -> tuple[str, int]:
    return ("127.0.0.1", next(_client_ports))


@dataclasses.dataclass(frozen=True)
class Closed:
    """The ``websocket.close`` the application sent."""

    code: int
    reason: str = ""


class Refused(Exception):
    """The handshake was answered with ``websocket.close`` instead of an accept."""

    def __init__(self, code: int) -> None:
        super().__init__(f"handshake refused with {code}")
        self.code = code


def _headers(headers: dict[str, str] | None) -> list[tuple[bytes, bytes]]:
    values = {"host": "127.0.0.1:8000", **{k.lower(): v for k, v in (headers or {}).items()}}
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in values.items()]


class AsgiCableClient:
    """One WebSocket connection, as ASGI events."""

    def __init__(self, communicator: ApplicationCommunicator) -> None:
        self.communicator = communicator
        self.closed: Closed | None = None
        client = communicator.scope["client"]
        self.peer = f"{client[0]}:{client[1]}"  # as the cable names it in its log

    async def send(self, payload: Any) -> None:
        await self.send_text(json.dumps(payload))

    async def send_text(self, text: str) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "bytes": data})

    async def receive_any(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next frame; raises :class:`ConnectionError` once the application closed."""
        if self.closed is not None:
            raise ConnectionError(f"closed with {self.closed.code}")
        event = await self.communicator.receive_output(timeout)
        if event["type"] == "websocket.close":
            self.closed = Closed(event.get("code", 1000), event.get("reason", ""))
            raise ConnectionError(f"closed with {self.closed.code}")
        assert event["type"] == "websocket.send", event
        return json.loads(event["text"])  # type: ignore[no-any-return]

    async def receive(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next frame that is not a ping."""
        while True:
            frame = await self.receive_any(timeout)
            if frame["type"] != "ping":
                return frame

    async def read_until_closed(
        self, timeout: float = DEFAULT_TIMEOUT
    ) -> tuple[Closed | None, list[dict[str, Any]]]:
        """Every frame until the application closes, and its close."""
        frames = []
        with contextlib.suppress(ConnectionError):
            while True:
                frames.append(await self.receive_any(timeout))
        return self.closed, frames

    async def subscribe(self, stream: str, **extra: Any) -> dict[str, Any]:
        """Subscribe and return the answer (``subscribed`` or ``reject``)."""
        await self.send({"type": "subscribe", "stream": stream, **extra})
        return await self.receive()

    async def unsubscribe(self, stream: str) -> None:
        await self.send({"type": "unsubscribe", "stream": stream})

    async def barrier(self) -> None:
        """A round trip: once it returns, every frame sent before was handled and
        nothing but the answer (and pings) came back; an unknown type is answered
        with an error."""
        await self.send({"type": "barrier"})
        answer = await self.receive()
        assert answer == {"type": "error", "reason": "unknown message type 'barrier'"}, answer

    async def close(self) -> None:
        """The peer goes away; the application must return."""
        if not self.communicator.future.done():
            await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(DEFAULT_TIMEOUT)

    async def __aenter__(self) -> AsgiCableClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _scope(
    kind: str,
    path: str,
    headers: dict[str, str] | None,
    client: tuple[str, int] | None,
    **specific: Any,
) -> dict[str, Any]:
    """An ASGI scope as a server on 127.0.0.1:8000 would pass it (``path`` may end in a
    query string); ``specific``: the keys of its kind (``method``, ``subprotocols``...)."""
    path, _, query = path.partition("?")
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": _headers(headers),
        "client": client or loopback(),
        "server": ("127.0.0.1", 8000),
        **specific,
    }


class InProcessCable:
    """The test project's ASGI application, started through its lifespan."""

    def __init__(self, application: CableMiddleware) -> None:
        self.application = application

    async def connect(
        self,
        path: str = "/cable",
        *,
        origin: str | None = None,
        headers: dict[str, str] | None = None,
        client: tuple[str, int] | None = None,
    ) -> AsgiCableClient:
        extra = {**(headers or {}), **({"Origin": origin} if origin else {})}
        scope = _scope("websocket", path, extra, client, scheme="ws", subprotocols=[])
        communicator = ApplicationCommunicator(self.application, scope)
        await communicator.send_input({"type": "websocket.connect"})
        answer = await communicator.receive_output(DEFAULT_TIMEOUT)
        if answer["type"] == "websocket.close":
            await communicator.wait(DEFAULT_TIMEOUT)
            raise Refused(answer.get("code", 1000))
        assert answer["type"] == "websocket.accept", answer
        return AsgiCableClient(communicator)

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | list[bytes] = b"",
        headers: dict[str, str] | None = None,
        *,
        client: tuple[str, int] | None = None,
    ) -> tuple[int, bytes]:
        scope = _scope(
            "http", path, headers, client, scheme="http", http_version="1.1", method=method
        )
        communicator = ApplicationCommunicator(self.application, scope)
        chunks = [body] if isinstance(body, bytes) else body  # a list: a streamed body
        for number, chunk in enumerate(chunks, start=1):
            more = number < len(chunks)
            await communicator.send_input(
                {"type": "http.request", "body": chunk, "more_body": more}
            )
        start = await communicator.receive_output(DEFAULT_TIMEOUT)
        assert start["type"] == "http.response.start", start
        content = b""
        while True:
            chunk = await communicator.receive_output(DEFAULT_TIMEOUT)
            content += chunk.get("body", b"")
            if not chunk.get("more_body"):
                break
        await communicator.wait(DEFAULT_TIMEOUT)
        return start["status"], content

    async def broadcast(self, stream: str, data: Any) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"stream": stream, "data": data}).encode()
        status, raw = await self.request(
            "POST", "/_broadcast", body, {"Content-Type": "application/json"}
        )
        return status, json.loads(raw)


@contextlib.asynccontextmanager
async def in_process_cable(**settings: Any) -> AsyncIterator[InProcessCable]:
    """The application with ``TURBO_CABLE = settings``, between its lifespan's startup
    and shutdown, on a backend of its own."""
    with override_settings(TURBO_CABLE=settings):
        reset_backend()
        application = get_asgi_application()
        lifespan = ApplicationCommunicator(application, {"type": "lifespan"})
        await lifespan.send_input({"type": "lifespan.startup"})
        assert (await lifespan.receive_output(DEFAULT_TIMEOUT))["type"] == (
            "lifespan.startup.complete"
        )
        try:
            yield InProcessCable(application)
        finally:
            await lifespan.send_input({"type": "lifespan.shutdown"})
            assert (await lifespan.receive_output(DEFAULT_TIMEOUT))["type"] == (
                "lifespan.shutdown.complete"
            )
            await lifespan.wait(DEFAULT_TIMEOUT)
            reset_backend()
